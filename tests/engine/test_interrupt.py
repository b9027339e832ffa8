"""Interrupting `apiconform run` (issue 23): SIGINT/SIGTERM to the main process or its process group, embedded
mock and live target, 1 and 2 workers. The run is a real `apiconform run` started as a CI runner starts it (no
terminal, its own process group), signalled once some cases finished; it must stop within seconds, leave no
process behind, write run.json/JUnit/matrix with every finished case, marked interrupted, exit 4, and say so in
one line. A second signal stops it at once (130/143), still one line.

Before the fix: SIGINT never exited (workers blocked on the outcome queue), SIGTERM left both workers running,
nothing but Allure results was written.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent

STOP_WITHIN = 10.0  # seconds from the signal to the exit (the workers' clean-up grace included)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APICONFORM_") or k == "APICONFORM_CACHE_DIR"}
    return {**env, **extra}


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Run:
    """`apiconform run ...` in its own process group, no terminal, with --events to know what finished."""

    def __init__(self, cwd: Path, args: list[str], env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.events = cwd / "events.jsonl"
        self.events.unlink(missing_ok=True)
        self.proc = subprocess.Popen([str(BIN / "apiconform"), "run", *args, "--no-allure", "--events", str(self.events)],
                                     cwd=cwd, env=env or _env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.stdout = self.stderr = ""
        self.elapsed = 0.0

    def finished_cases(self) -> list[str]:
        if not self.events.exists():
            return []
        lines = [json.loads(line) for line in self.events.read_text().splitlines() if line.strip()]
        return [line["name"] for line in lines if line.get("event") == "case"]

    def wait_for_cases(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.finished_cases()) < count:
            assert self.proc.poll() is None, f"the run ended before {count} cases: {self.proc.stderr.read()}"  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"fewer than {count} cases after {timeout} s"
            time.sleep(0.05)

    def signal(self, signum: int, group: bool) -> None:
        (os.killpg if group else os.kill)(self.proc.pid, signum)

    def wait(self, timeout: float = STOP_WITHIN) -> int:
        started = time.monotonic()
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {timeout} s after the signal") from None
        self.elapsed = time.monotonic() - started
        return self.proc.returncode

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:  # a failed step: never leave the run behind
            self.kill()

    def stop_after(self, cases: int, signum: int, group: bool) -> int:
        """Signal the run once `cases` cases finished; its exit code."""
        self.wait_for_cases(cases)
        self.signal(signum, group)
        return self.wait()

    def kill(self) -> None:
        if group_alive(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.communicate()

    def assert_nothing_left(self) -> None:
        deadline = time.monotonic() + 3
        while group_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = group_alive(self.proc.pid)
        if left:
            os.killpg(self.proc.pid, signal.SIGKILL)
        assert not left, "processes of the run are still alive after it exited"


def serve(vendor: str, port: int) -> subprocess.Popen[str]:
    """`apiconform mock VENDOR --port PORT` in its own process, once it answers (a real HTTP server)."""
    proc = subprocess.Popen([str(BIN / "apiconform"), "mock", vendor, "--port", str(port)], env=_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, f"apiconform mock {vendor} exited {proc.returncode}"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(0.3)
                assert proc.poll() is None, f"apiconform mock {vendor} exited {proc.returncode} (port {port} taken?)"
                return proc
        assert time.monotonic() < deadline, f"apiconform mock {vendor} did not listen on {port}"
        time.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def mock_server() -> Iterator[str]:
    """`apiconform mock eduframe` on a loopback port: a live target served by a separate process."""
    port = free_port()
    proc = serve("eduframe", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def check_interrupted(run: Run, signum: int) -> dict[str, object]:
    """Exit 4 in one line; run.json, junit.xml and matrix.json hold every finished case, marked interrupted."""
    name = signal.Signals(signum).name
    assert run.proc.returncode == 4, (run.proc.returncode, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"apiconform: interrupted by {name}:"), run.stderr
    reports = run.cwd / "reports"
    record = json.loads((reports / "run.json").read_text())
    assert record["interrupted"] == name
    names = sorted(case["name"] for case in record["cases"])
    assert names == sorted(run.finished_cases())  # every case that finished, and only those
    assert 0 < len(names) < record["planned"]
    junit = ET.parse(reports / "junit.xml").getroot()
    assert int(junit.get("tests") or 0) == len(names)
    assert {p.get("name"): p.get("value") for p in junit.iter("property")}["interrupted"] == name
    matrix = json.loads((reports / "matrix.json").read_text())
    assert matrix["verdict"] == "interrupted" and matrix["run"]["interrupted"] == name
    assert not list(reports.glob(".*.json*")), "a temporary report file was left behind"
    return record


@pytest.mark.parametrize(("signum", "group", "workers"), [
    (signal.SIGINT, False, 2),  # a CI job cancel: SIGINT to the main process only (never exited before)
    (signal.SIGTERM, True, 2),  # SIGTERM to the group (left both workers running before)
    (signal.SIGINT, True, 1),
    (signal.SIGTERM, False, 1),
], ids=["int-main-2", "term-group-2", "int-group-1", "term-main-1"])
def test_signal_stops_a_mock_run_and_keeps_what_finished(tmp_path: Path, signum: int, group: bool, workers: int) -> None:
    with Run(tmp_path, ["eduframe", "--workers", str(workers)]) as run:
        run.stop_after(15, signum, group)
    run.assert_nothing_left()
    check_interrupted(run, signum)


@pytest.mark.parametrize(("signum", "group", "workers"), [(signal.SIGINT, False, 1), (signal.SIGTERM, True, 2)],
                         ids=["int-main-1", "term-group-2"])
def test_signal_stops_a_live_run(tmp_path: Path, mock_server: str, signum: int, group: bool, workers: int) -> None:
    """A live target (a real HTTP server in another process): SIGINT with 1 worker exited 130 with nothing written."""
    env = _env(APICONFORM_EDUFRAME_TOKEN="mock-eduframe-token")
    with Run(tmp_path, ["eduframe", "--target", f"eduframe={mock_server}", "--workers", str(workers), "--rate", "200",
                        "--max-requests", "100000", "--max-examples", "3"], env) as run:
        run.stop_after(5, signum, group)
    run.assert_nothing_left()
    record = check_interrupted(run, signum)
    assert record["targets"] == {"eduframe": mock_server}


def test_second_signal_exits_at_once_without_traceback(tmp_path: Path) -> None:
    with Run(tmp_path, ["eduframe", "--workers", "2"]) as run:
        run.wait_for_cases(20)
        run.signal(signal.SIGINT, True)
        time.sleep(0.05)
        run.signal(signal.SIGINT, True)
        code = run.wait()
    run.assert_nothing_left()
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    if code == 4:  # the first signal had already stopped the run when the second came
        assert len(lines) == 1 and "interrupted by SIGINT" in lines[0]
    else:
        assert code == 130 and lines == ["apiconform: stopped at once by a second SIGINT; reports not written"], run.stderr


def test_workers_die_with_a_killed_parent(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: the workers notice the parent is gone and end (no orphan keeps running)."""
    with Run(tmp_path, ["eduframe", "--workers", "2"]) as run:
        run.stop_after(10, signal.SIGKILL, False)
    run.assert_nothing_left()


def test_signal_before_any_test_ran_is_one_line_and_keeps_the_earlier_reports(tmp_path: Path) -> None:
    """Interrupted in the preflight (a live target that accepts connections and never answers): nothing was judged,
    nothing is written, an earlier run's reports stay as they were."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "run.json").write_text("{}")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        silent.settimeout(120)
        with Run(tmp_path, ["eduframe", "--target", f"eduframe={url}", "--max-requests", "100000"],  # a budget that plans every test
                 _env(APICONFORM_EDUFRAME_TOKEN="t")) as run:
            connection, _ = silent.accept()  # validated; the preflight now waits for the target's answer
            run.signal(signal.SIGINT, False)
            code = run.wait()
            connection.close()
    assert code == 4, run.stderr
    assert run.stderr.splitlines() == ["apiconform: interrupted by SIGINT before any test ran; nothing written"]
    assert (reports / "run.json").read_text() == "{}"


# ----------------------------------------------------------------------------- one run per reports directory


def test_a_reports_directory_never_mixes_runs(tmp_path: Path) -> None:
    """An earlier run's junit.xml / matrix stayed beside a killed run's Allure results, looking like its own; a second
    run in the same directory at the same time is refused (one line, exit 2) and the first run's record is its own."""
    first = subprocess.run([str(BIN / "apiconform"), "run", "goodstack", "--no-allure", "--max-examples", "2"], cwd=tmp_path,
                           env=_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    reports = tmp_path / "reports"
    earlier = ("run.json", "junit.xml", "matrix.md", "matrix.json", "coverage.json")
    assert all((reports / name).is_file() for name in earlier)
    (reports / "shard-1").mkdir()  # a folder of the user's own (shards) is not the run's to remove
    with Run(tmp_path, ["eduframe", "--workers", "1"]) as run:
        run.wait_for_cases(3)  # the first cases' Allure results are written by now
        for name in earlier:  # gone as soon as this run writes: a kill now leaves nothing that looks like its own
            assert not (reports / name).exists(), f"the earlier run's {name} is still there"
        assert (reports / "shard-1").is_dir()
        results = [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]
        assert results and all(r["labels"][0]["value"] == "eduframe" for r in results)  # only this run's
        second = subprocess.run([str(BIN / "apiconform"), "run", "goodstack", "--no-allure"], cwd=tmp_path, env=_env(),
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "another apiconform run" in lines[0] and f"pid {run.proc.pid}" in lines[0], lines
        run.signal(signal.SIGTERM, False)
        assert run.wait() == 4
    record = json.loads((reports / "run.json").read_text())
    assert record["vendors"] == ["eduframe"] and {c["vendor"] for c in record["cases"]} == {"eduframe"}  # never mixed


# ----------------------------------------------------------------------------- the target dies or resets


def test_target_killed_mid_run_gives_a_transport_finding_per_affected_case(tmp_path: Path) -> None:
    """The live target's server process is killed: every case that ran after it has a transport finding, the run
    ends with a clear verdict (exit 1), no hang (it paid every request's retries: 6 minutes for Eduframe), no traceback."""
    port = free_port()
    server = serve("eduframe", port)
    env = _env(APICONFORM_EDUFRAME_TOKEN="mock-eduframe-token")
    try:
        with Run(tmp_path, ["eduframe", "--target", f"eduframe=http://127.0.0.1:{port}", "--rate", "200",
                            "--max-requests", "100000", "--max-examples", "1"], env) as run:
            run.wait_for_cases(10)
            server.kill()
            server.wait()
            killed = time.time()
            code = run.wait(timeout=120)
    finally:
        stop(server)
    assert code == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout and run.stderr.strip() == ""
    assert "gate: FAIL" in run.stdout and "transport" in run.stdout
    events = [json.loads(line) for line in run.events.read_text().splitlines()]
    after = {e["name"] for e in events if e.get("event") == "case" and e["t"] > killed + 1 and not e["skipped"]}
    record = json.loads((tmp_path / "reports" / "run.json").read_text())
    affected = {c["name"] for c in record["cases"] if any(f["category"] == "transport" for f in c["findings"])}
    assert after and after <= affected, sorted(after - affected)[:5]


class ResettingServer:
    """Answers every request with a 200 whose body stops half-way, then resets the connection (RST)."""

    def __init__(self, port: int) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import struct

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data and (chunk := conn.recv(65536)):
                        data += chunk
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                                 b'[{"id": 1, "name": "par')
                    time.sleep(0.01)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def test_connection_reset_mid_body_is_a_transport_finding_per_case(tmp_path: Path) -> None:
    port = free_port()
    server = ResettingServer(port)
    try:
        proc = subprocess.run([str(BIN / "apiconform"), "run", "eduframe", "--target", f"eduframe=http://127.0.0.1:{port}",
                               "--operation", "list_accounts", "--operation", "get_account", "--max-examples", "2",
                               "--no-allure"], cwd=tmp_path, env=_env(APICONFORM_EDUFRAME_TOKEN="t"),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    finally:
        server.close()
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "gate: FAIL" in proc.stdout
    record = json.loads((tmp_path / "reports" / "run.json").read_text())
    ran = [c for c in record["cases"] if not c["skipped"]]
    assert ran and all(any(f["category"] == "transport" and "Connection reset" in f["message"] for f in c["findings"])
                       for c in ran)
