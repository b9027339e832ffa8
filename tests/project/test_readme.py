"""Every command README.md shows is run here, with the exit code it should give.

The commands are read from the README's ```sh fences (plus the commands named in their comments after
"then:" / "or:"), so a README line nobody runs fails `test_every_readme_command_is_in_the_table`. Each
command runs through bash with `.venv/bin` first on PATH, as a user would type it. Live targets are the
embedded mocks served on a loopback port (`…` is the mock's credential); gate runs over many cases use
`--max-examples 2`, as the README says.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from apiconform.mock._server import free_port

pytestmark = pytest.mark.e2e  # every README command run as written, in a subprocess: `make test-e2e` (CI runs it)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def readme_commands(text: str) -> list[str]:
    """The sh commands of the README: fenced lines (continuations joined) and `then:` / `or:` comments."""
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            code, _, comment = line.partition(" #")
            if code.strip():
                commands.append(" ".join(code.split()))
            for inline in re.findall(r"(?:then|or): (apiconform [^;#]+)", comment):
                commands.append(" ".join(inline.split()))
    return commands


@dataclass
class Spec:
    exit_code: int | set[int]
    cwd: str = "work"  # "work": a scratch directory; "root": the checkout (pytest suites ...)
    setup: Callable[["Workspace"], None] | None = None
    reduce: bool = False  # run with --max-examples 2 (README: "Gate runs ... with --max-examples 2")
    live: str = ""  # vendor whose mock is served on loopback for this command
    config: bool = False  # paste the README's [tool.apiconform.targets.*] block into pyproject.toml
    why: str = ""


class Workspace:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                    "PYTEST_ADDOPTS": "-p no:cacheprovider"}
        for key in list(self.env):
            if key.startswith("APICONFORM_") and key not in ("APICONFORM_CONTRACTS",):
                self.env.pop(key)
        self.servers: list[subprocess.Popen[str]] = []

    def run(self, command: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", command], cwd=cwd or self.path, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def serve(self, vendor: str, *args: str, port: int | None = None) -> str:
        """`apiconform mock VENDOR --port PORT ARGS` in the background; its base URL once it answers."""
        port = port or free_port()
        proc = subprocess.Popen([str(BIN / "apiconform"), "mock", vendor, "--port", str(port), *args], cwd=self.path,
                                env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.servers.append(proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"apiconform mock {vendor} exited {proc.returncode}: {proc.stdout.read()}")  # type: ignore[union-attr]
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError(f"apiconform mock {vendor} did not listen on {port}")
        from apiconform.contracts import load_contract

        servers = load_contract(vendor).document.get("servers") or [{"url": ""}]
        path = re.sub(r"^[a-z]+://[^/]+", "", str(servers[0].get("url", ""))).rstrip("/")
        return f"http://127.0.0.1:{port}{path}"

    def close(self) -> None:
        for proc in self.servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


# ----------------------------------------------------------------------------------------- prerequisites


BASELINE_UPDATE = 'apiconform baseline update --reason "vendor ticket 123" --days 30'


def _drifted_run(ws: Workspace) -> None:
    """The run `baseline update` reads (reports/run.json), with findings to accept."""
    proc = ws.run("apiconform run goodstack --drift enum-value-changed --max-examples 2 --no-allure --no-progress")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]


def _baseline(ws: Workspace) -> None:
    """`--baseline apiconform-baseline.yaml`: the README's `baseline update` line, run after a drifted run."""
    _drifted_run(ws)
    proc = ws.run(BASELINE_UPDATE)
    assert proc.returncode == 0 and (ws.path / "apiconform-baseline.yaml").is_file(), proc.stdout + proc.stderr


def _team_contracts(ws: Workspace) -> None:
    """`--contracts team-contracts`: a team folder holding one vendor, a bundled contract under a new name."""
    shutil.copytree(ROOT / "contracts" / "ctrlhub", ws.path / "team-contracts" / "acme")
    contract = ws.path / "team-contracts" / "acme" / "openapi.yaml"
    contract.write_text(contract.read_text(encoding="utf-8").replace("vendor: ctrlhub", "vendor: acme", 1), encoding="utf-8")


def _two_runs(ws: Workspace) -> None:
    for name, drift in (("reports-before", ""), ("reports-after", "--drift enum-value-changed")):
        proc = ws.run(f"apiconform run goodstack {drift} --max-examples 2 --no-allure --no-progress --reports-dir {name}")
        assert proc.returncode in (0, 1), proc.stderr


def _shard(ws: Workspace) -> None:
    """Every shard of the README's split (1/4 ... 4/4); a merge with one of them missing is refused (exit 2)."""
    for i in range(1, 5):
        proc = ws.run(f"apiconform run goodstack ctrlhub --shard {i}/4 --reports-dir reports/shard-{i} "
                      "--max-examples 2 --no-allure --no-progress")
        assert proc.returncode in (0, 1), proc.stderr
    proc = ws.run("apiconform report --merge reports/shard-1 reports/shard-2 reports/shard-3 --gate --no-allure")
    assert proc.returncode == 2 and "shard 4/4 missing" in proc.stderr, proc.stdout + proc.stderr


def _cassette(ws: Workspace) -> None:
    """tesla.har, recorded from a faithful tesla-ce mock on loopback (the README's record command)."""
    url = ws.serve("tesla-ce")
    ws.env.update(APICONFORM_TESLA_CE_ROLE_ID="mock-tesla-ce-role", APICONFORM_TESLA_CE_SECRET_ID="mock-tesla-ce-secret")
    proc = ws.run(f"apiconform record tesla-ce --target {url} --allow-writes --out tesla.har")
    assert proc.returncode == 0 and (ws.path / "tesla.har").is_file(), proc.stdout + proc.stderr


INTEGRATION_TEST = """
import os

import httpx


def test_provider() -> None:
    url = os.environ["APICONFORM_PROXY_URL"]
    login = httpx.post(url + "/api/v2/auth/approle", json={"role_id": "mock-tesla-ce-role", "secret_id": "mock-tesla-ce-secret"})
    headers = {"Authorization": "JWT " + login.json()["token"]["access_token"]}
    assert httpx.get(url + f"/api/v2/provider/{login.json()['provider_id']}/", headers=headers).status_code == 200
"""


def _integration_tests(ws: Workspace) -> None:
    """`-- pytest tests/integration`: a team's integration test that talks to the vendor through the proxy."""
    (ws.path / "tests" / "integration").mkdir(parents=True)
    (ws.path / "tests" / "integration" / "test_provider.py").write_text(INTEGRATION_TEST, encoding="utf-8")


def _client_har(ws: Workspace) -> None:
    """client.har: a team's integration test recorded through the proxy (the README's proxy command), and
    tesla.har from `record` (both against a faithful tesla-ce mock on loopback)."""
    _cassette(ws)
    _integration_tests(ws)
    url = ws.serve("tesla-ce")
    proc = ws.run(f"apiconform proxy tesla-ce --target {url} --port 0 --record client.har -- pytest tests/integration")
    assert proc.returncode == 0 and (ws.path / "client.har").is_file(), proc.stdout + proc.stderr


def _learned(ws: Workspace) -> None:
    _client_har(ws)
    proc = ws.run("apiconform learn tesla-ce client.har tesla.har --out learned.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _contract_unchanged() -> set[int]:
    clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "contracts/eduframe"], cwd=ROOT).returncode == 0
    return {0} if clean else {0, 1}


# README command -> how it runs. The keys must be exactly the README's commands.
TABLE: dict[str, Spec] = {
    "make gate": Spec(0, why="= `apiconform run --workers 2`, run below as `apiconform run --workers 2 ...`"),
    "make test": Spec(0, why="is this test suite (CI's .ci/run)"),
    "make test-e2e": Spec(0, why="is the e2e/real_vendor part of this test suite (CI's .ci/run runs it after `make test`)"),
    ".venv/bin/python -m pytest tests/real -q": Spec(0, why="is tests/real, which this suite runs"),
    "pip install .": Spec(0, why="is tests/project/test_install.py (the built wheel in a fresh venv, outside the checkout)"),
    "apiconform run acme --contracts team-contracts": Spec(0, setup=_team_contracts),
    "pytest --pyargs apiconform.suites --vendor goodstack": Spec(0),
    "apiconform run": Spec(0, reduce=True),
    "apiconform run eduframe tesla-ce --suite properties,negative --max-examples 25 --seed 7": Spec(0, reduce=True),
    BASELINE_UPDATE: Spec(0, setup=_drifted_run),
    "apiconform run --workers 2 --fail-on status-code,enum --baseline apiconform-baseline.yaml":
        Spec(0, reduce=True, setup=_baseline),
    "apiconform run --shard 1/4 --reports-dir reports/shard-1": Spec(0, reduce=True),
    "apiconform report --merge reports/shard-* --gate": Spec(0, setup=_shard),
    "EDUFRAME_TOKEN=… apiconform run eduframe --target eduframe --operation list_courses":
        Spec(0, live="eduframe", config=True, why="within the configured budget (200 requests)"),
    "APICONFORM_EDUFRAME_TOKEN=… apiconform run eduframe --target eduframe=https://api.eduframe.nl/api/v1 "
    "--operation list_courses,list_accounts": Spec(0, live="eduframe", why="within the default live budget and rate"),
    "APICONFORM_TESLA_CE_ROLE_ID=… APICONFORM_TESLA_CE_SECRET_ID=… apiconform run tesla-ce --target "
    "tesla-ce=https://tesla.example.org --allow-writes --operation create_provider_notification,"
    "update_provider_notification,update_provider_request": Spec(
        0, live="tesla-ce", reduce=True, why="the write on the mock's own verification request is skipped with the reason"),
    "apiconform diff eduframe@HEAD eduframe": Spec(0),
    "APICONFORM_EDUFRAME_TOKEN=… apiconform upgrade eduframe --from https://api.eduframe.nl/api/v1 "
    "--to https://staging.eduframe.example --operation list_accounts,get_account":
        Spec(0, live="eduframe", why="both versions are the same mock here: no change"),
    "apiconform compare reports-before/ reports-after/": Spec(1, setup=_two_runs),
    "pytest suites": Spec(0, cwd="root", reduce=True),
    "pytest suites --vendor eduframe -m enum": Spec(0, cwd="root", reduce=True),
    "pytest suites -k list_accounts --max-examples 50 --seed 1": Spec(0, cwd="root", reduce=True),
    "pytest suites -n 2 -p xdist": Spec(0, cwd="root", reduce=True),
    "APICONFORM_EDUFRAME_TOKEN=… pytest suites --target eduframe=https://...": Spec(
        0, cwd="root", live="eduframe", reduce=True,
        why="plain pytest skips what the 200-request budget stops (`apiconform run` reports it as incomplete)"),
    "pytest suites --drift enum-value-changed": Spec(1, cwd="root", reduce=True),
    "apiconform mock eduframe --port 8100": Spec(0),
    "apiconform mock tesla-ce --drift field-renamed --fault latency:200": Spec(0),
    "apiconform mock --list-drifts": Spec(0),
    "apiconform mock --list-faults": Spec(0),
    "APICONFORM_TESLA_CE_ROLE_ID=… APICONFORM_TESLA_CE_SECRET_ID=… apiconform record tesla-ce "
    "--target https://tesla.example.org --allow-writes --out tesla.har": Spec(0, live="tesla-ce"),
    "apiconform fidelity tesla-ce tesla.har --min-agreement 0.95": Spec(0, setup=_cassette),
    "apiconform mock tesla-ce --verify tesla.har": Spec(0, setup=_cassette),
    "apiconform proxy tesla-ce --target https://tesla.example.org --record client.har -- pytest tests/integration":
        Spec(0, live="tesla-ce", setup=_integration_tests),
    "pytest examples/client-traffic --traffic-dir reports/traffic": Spec(0, cwd="root"),
    "apiconform fidelity tesla-ce client.har": Spec(0, setup=_client_har),
    "apiconform learn tesla-ce client.har tesla.har --out learned.yaml": Spec(0, setup=_client_har),
    "apiconform fidelity tesla-ce client.har --learned learned.yaml --min-agreement 0.95": Spec(0, setup=_learned),
    "apiconform contracts list": Spec(0),
    "apiconform contracts check [VENDOR|PATH ...]": Spec(0, why="run as `apiconform contracts check` and with a VENDOR and a PATH"),
    "apiconform init VENDOR [--from-openapi FILE|URL]": Spec(0, why="run as `apiconform init acme` and with --from-openapi"),
}
NOT_RUN = {"pip install .", "make gate", "make test", "make test-e2e", ".venv/bin/python -m pytest tests/real -q"}  # see `why`: the first is its `apiconform run` line, the second is this suite
CREDENTIALS = {"eduframe": {"EDUFRAME_TOKEN": "mock-eduframe-token", "APICONFORM_EDUFRAME_TOKEN": "mock-eduframe-token"},
               "tesla-ce": {"APICONFORM_TESLA_CE_ROLE_ID": "mock-tesla-ce-role",
                            "APICONFORM_TESLA_CE_SECRET_ID": "mock-tesla-ce-secret"}}
LIVE_URLS = ("https://api.eduframe.nl/api/v1", "https://staging.eduframe.example", "https://tesla.example.org", "https://...")


def test_every_readme_command_is_in_the_table() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) > 20
    assert set(commands) == set(TABLE), {"in README, not run": sorted(set(commands) - set(TABLE)),
                                         "run, not in README": sorted(set(TABLE) - set(commands))}
    assert "apiconform run --workers 2" in (ROOT / "Makefile").read_text()  # what `make gate` runs (covered above)


def test_readme_vendor_table_counts_what_the_tool_counts() -> None:
    """The README's operations column is `apiconform contracts list`'s count, vendor by vendor."""
    from apiconform.contracts import load_contract

    rows = re.findall(r"^\| [^|]+ \| `contracts/([a-z-]+)` \| (\d+) \|", README.read_text(encoding="utf-8"), re.M)
    assert len(rows) == 5
    assert {vendor: int(n) for vendor, n in rows} == {vendor: len(list(load_contract(vendor))) for vendor, _ in rows}


def test_readme_config_block_is_what_the_code_reads(tmp_path: Path) -> None:
    """The README's TOML block works in pyproject.toml, and respelled as [targets.X] in apiconform.toml."""
    from apiconform.config import load_config

    block = _config_block()
    (tmp_path / "pyproject.toml").write_text(block, encoding="utf-8")
    assert load_config(tmp_path).targets["eduframe"].credentials == {"token": "EDUFRAME_TOKEN"}
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "apiconform.toml").write_text(block.replace("[tool.apiconform.targets.", "[targets."), encoding="utf-8")
    assert load_config(tmp_path).targets["eduframe"].base_url == "https://api.eduframe.nl/api/v1"
    from apiconform.errors import ConfigError

    (tmp_path / "apiconform.toml").write_text(block, encoding="utf-8")  # pasted unchanged: one line, not ignored
    with pytest.raises(ConfigError, match=r"in apiconform.toml write \[targets.VENDOR\]"):
        load_config(tmp_path)


def _config_block() -> str:
    match = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, "README shows no TOML configuration"
    return match.group(1)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path)
    yield workspace
    workspace.close()


def _reduced(command: str) -> str:
    if "--max-examples" in command:
        return re.sub(r"--max-examples \d+", "--max-examples 2", command)
    return command + " --max-examples 2"


def _params() -> list[object]:
    """Gate runs over many operations carry the `readme_gate` marker (minutes each; over 15 on a loaded 2-core box)."""
    heavy = {c for c in TABLE if TABLE[c].reduce and not re.search(r"pytest suites (--vendor|-k)", c)}
    return [pytest.param(c, marks=pytest.mark.readme_gate) if c in heavy else c for c in TABLE if c not in NOT_RUN]


@pytest.mark.parametrize("command", _params())
def test_readme_command(command: str, ws: Workspace) -> None:
    spec = TABLE[command]
    if spec.setup:
        spec.setup(ws)
    line = _reduced(command) if spec.reduce else command
    if spec.live:
        mock_url = ws.serve(spec.live)
        for url in LIVE_URLS:
            line = line.replace(url, mock_url)
        for name, value in CREDENTIALS[spec.live].items():
            line = line.replace(f"{name}=…", f"{name}={value}")
        if spec.config:
            block = _config_block().replace("https://api.eduframe.nl/api/v1", mock_url)
            (ws.path / "pyproject.toml").write_text(block.replace("rate = 5 ", "rate = 1000"), encoding="utf-8")
    if line.startswith("apiconform mock") and "--list" not in line and "--verify" not in line:
        _serve_as_written(ws, line)
        return
    if command.startswith("apiconform contracts check"):
        for variant in ("apiconform contracts check", "apiconform contracts check goodstack",
                        f"apiconform contracts check {ROOT / 'contracts' / 'ctrlhub' / 'openapi.yaml'}"):
            proc = ws.run(variant)
            assert proc.returncode == 0, (variant, proc.stdout[-2000:], proc.stderr[-2000:])
        return
    if command.startswith("apiconform init"):
        (ws.path / "vendor.yaml").write_text((ROOT / "contracts" / "ctrlhub" / "openapi.yaml").read_text())
        for variant in ("apiconform init acme", "apiconform init acme2 --from-openapi vendor.yaml"):
            proc = ws.run(variant)
            assert proc.returncode == 0, (variant, proc.stdout[-2000:], proc.stderr[-2000:])
        assert (ws.path / "contracts" / "acme2" / "SOURCE.md").is_file()
        return
    cwd = ROOT if spec.cwd == "root" else ws.path
    if spec.cwd == "root":
        line = line.replace("pytest suites", f"pytest {ROOT / 'suites'} --rootdir {ROOT}", 1)
    expected = _contract_unchanged() if command.startswith("apiconform diff") else spec.exit_code
    proc = ws.run(line, cwd=cwd)
    output = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in output and "INTERNALERROR" not in output and "internal error" not in output, output
    assert proc.returncode in (expected if isinstance(expected, set) else {expected}), (line, proc.returncode, output)
    if command.startswith("apiconform report --merge"):
        assert "merged 4 runs" in proc.stdout, proc.stdout


def _serve_as_written(ws: Workspace, line: str) -> None:
    """A long-running `apiconform mock ...`: it must print its URL and credentials and answer on its port."""
    import httpx

    args = line.split()[2:]
    vendor = args[0]
    port = 8100
    if "--port" in args:
        i = args.index("--port")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:  # someone else's 8100 on a shared machine
                port = free_port()
        args = args[:i] + args[i + 2:]
    else:
        port = free_port()
    url = ws.serve(vendor, *args[1:], port=port)
    answer = httpx.get(url + "/", timeout=10)
    assert answer.status_code < 500, answer.text
    ws.close()
    out = ws.servers[-1].stdout.read()  # type: ignore[union-attr]
    assert "credentials:" in out and f"127.0.0.1:{port}" in out, out
