#!/usr/bin/env python3
"""apiconform performance benchmark: gate cost, throughput against schemathesis, drift detection, scaling.

    python benchmarks/run.py            # full run (~10-15 min on 2 cores)
    python benchmarks/run.py --quick    # smoke run (~3-4 min): fewer vendors, operations, drifts, examples

Prints one table per section and writes reports/benchmark.json (see benchmarks/README.md). Every
apiconform/schemathesis run is a subprocess whose wall time and peak RSS (sum over its process tree,
sampled every 50 ms from /proc or psutil) are measured; each run writes its reports under a temp dir,
so the user's reports/ is never touched except reports/benchmark.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent


def _ensure_venv() -> None:
    """Re-run under the project's .venv if apiconform/schemathesis are not importable here (found, not imported:
    importing schemathesis here would add its start-up to every measured engine child)."""
    import importlib.util

    if importlib.util.find_spec("apiconform") is None or importlib.util.find_spec("schemathesis") is None:
        venv_py = ROOT / ".venv" / "bin" / "python"
        if venv_py.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
            os.execv(str(venv_py), [str(venv_py), *sys.argv])
        raise SystemExit("apiconform is not importable: run `make setup` first (creates .venv)")


BIN = Path(sys.executable).parent
SEED = 20261123
ST_SEED = 1

# --------------------------------------------------------------------------------------------------- config


@dataclass
class Plan:
    quick: bool
    gate_max_examples: int | None  # None: the gate's default
    throughput_runs: int  # rounds per throughput selection (each side once per round, a new seed each round)
    examples: int
    detection_ops: int
    detection_examples: int
    drifts: list[str]
    scaling_ops: list[int | None]
    scaling_examples: list[int]
    scaling_examples_ops: int
    sections: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)  # throughput rows whose name contains one of these (all if empty)


def make_plan(args: argparse.Namespace) -> Plan:
    from apiconform.mock.drifts import DRIFTS

    combos = ["enum-value-changed,required-field-dropped", "error-shape-changed,pagination-header-missing"]
    if args.quick:
        plan = Plan(quick=True, gate_max_examples=3,
                    throughput_runs=3,
                    examples=10, detection_ops=8, detection_examples=5,
                    drifts=["enum-value-changed", "field-type-changed", "required-field-dropped", "status-code-changed",
                            combos[0], "echo-value-changed", "login-tokens-null"],
                    scaling_ops=[5, 15], scaling_examples=[5, 10], scaling_examples_ops=5)
    else:
        plan = Plan(quick=False, gate_max_examples=None,
                    throughput_runs=5,
                    examples=10, detection_ops=16, detection_examples=10,
                    drifts=list(DRIFTS) + combos,
                    scaling_ops=[10, 50, None], scaling_examples=[5, 10, 25], scaling_examples_ops=10)
    if args.examples:
        plan.examples = args.examples
    if args.runs:
        plan.throughput_runs = args.runs
    if args.drift:
        plan.drifts = args.drift
    plan.rows = [r.lower() for r in args.row or []]
    plan.sections = args.only or ["gate", "throughput", "detection", "scaling", "fidelity", "false-positives",
                                  "reliability", "real-apis", "upgrade", "client-fidelity"]
    return plan


# --------------------------------------------------------------------------------------------------- measuring


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and all its descendants (shared pages counted once per process)."""
    try:
        import psutil  # type: ignore[import-not-found]

        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total / 2**20
    except ImportError:
        pass
    except Exception:
        return 0.0
    kids = _children_map()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kb(current)
        todo.extend(kids.get(current, []))
    return total / 1024


HAVE_PROC = Path("/proc/self/status").exists()


@dataclass
class Measured:
    cmd: list[str]
    rc: int
    wall: float
    peak_rss_mb: float
    started: float  # epoch
    stdout: str
    stderr: str
    rss_method: str
    cpu: float = 0.0  # user + sys seconds of the process and the children it waited for (os.wait4)


def measure(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 1800) -> Measured:
    """Run `cmd`, sampling the RSS of its process tree every 50 ms; returns wall time and the peak."""
    import resource

    full_env = dict(os.environ, **(env or {}))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.time()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=full_env, cwd=str(cwd) if cwd else None)
        peak = 0.0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss_mb(proc.pid))
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        if HAVE_PROC:
            sampler.start()
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:  # wait4: the exit status and the CPU time of this process tree (its reaped children included)
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        rc = proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        wall = time.perf_counter() - t0
        stop.set()
        if HAVE_PROC:
            sampler.join()
            method = "process tree RSS (psutil)" if _has_psutil() else "process tree RSS (/proc)"
        else:  # no /proc: the largest single child process ever (not the tree sum)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            method = "ru_maxrss of children (largest single process)"
        out.seek(0)
        err.seek(0)
        return Measured(cmd, rc, wall, peak, started, out.read(), err.read(), method, cpu)


def _has_psutil() -> bool:
    try:
        import psutil  # type: ignore[import-not-found]  # noqa: F401
        return True
    except ImportError:
        return False


def bench_env(counts_dir: Path, extra_addopts: str = "", cache: Path | None = None) -> dict[str, str]:
    """Environment for an `apiconform run` child: its event stream (`--events`, JSON lines) goes to
    counts_dir, so the benchmark reads requests and the first finding's time without touching the run;
    `cache`: the case cache directory (default: a fresh one per counts_dir, i.e. a cold cache)."""
    counts_dir.mkdir(parents=True, exist_ok=True)
    env = {"APICONFORM_EVENTS_FILE": str(counts_dir / "events.jsonl"),
           "APICONFORM_CACHE_DIR": str(cache if cache is not None else counts_dir / "case-cache")}
    if extra_addopts:
        env["PYTEST_ADDOPTS"] = " ".join(p for p in (extra_addopts, os.environ.get("PYTEST_ADDOPTS", "")) if p)
    return env


def read_counts(counts_dir: Path) -> dict[str, Any]:
    """Requests the cases sent and the epoch of the first case with a finding, from the event stream."""
    recorded, first, cases = 0, None, 0
    path = counts_dir / "events.jsonl"
    for line in path.read_text().splitlines() if path.is_file() else []:
        event = json.loads(line)
        if event.get("event") != "case":
            continue
        cases += 1
        recorded += int(event.get("requests", 0))
        if event.get("findings") and first is None:
            first = float(event["t"])
    return {"wire_requests": recorded, "recorded_requests": recorded, "first_failure_epoch": first, "cases": cases}


def load_run_json(reports_dir: Path) -> dict[str, Any]:
    path = reports_dir / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def apiconform_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "apiconform", "run", *args, "--no-progress", "--no-allure"]


def cli_cmd(*args: str) -> list[str]:
    """Any apiconform command, through the console script a user types."""
    return [str(BIN / "apiconform"), *args]


# --------------------------------------------------------------------------------------------------- helpers


def pick_operations(vendor: str, count: int | None) -> list[str]:
    """`count` operations spread evenly over the contract (all when None): a mix of list/read/write."""
    from apiconform.contracts import load_contract

    ops = [op.operation_id for op in load_contract(vendor)]
    if count is None or count >= len(ops):
        return ops
    step = max(1, len(ops) // count)
    return ops[::step][:count]


def contract_json(vendor: str, tmp: Path) -> Path:
    """The bundled contract (examples inlined) as schemathesis reads it."""
    from apiconform.contracts import load_contract

    path = tmp / f"{vendor}.openapi.json"
    if not path.exists():
        path.write_text(json.dumps(load_contract(vendor).document))
    return path


class Served:
    """A vendor mock (optionally drifted) served over HTTP by uvicorn in a thread of this process."""

    def __init__(self, vendor: str, drifts: list[str] | tuple[str, ...] = ()) -> None:
        from apiconform.contracts import load_contract
        from apiconform.mock import MockServer, build_app, load_behaviour

        self.vendor = vendor
        self.contract = load_contract(vendor)
        self.credentials = dict(load_behaviour(self.contract).credentials())
        self.server = MockServer(build_app(self.contract, drifts=list(drifts), seed=0))
        # schemathesis' probes send deliberately invalid requests; uvicorn warns about each one
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        self.url = ""

    def __enter__(self) -> Served:
        self.url = self.server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.stop()

    def st_headers(self) -> tuple[list[str] | None, str]:
        """-H arguments carrying the mock's credentials for schemathesis, or (None, reason)."""
        import httpx

        from apiconform.auth import flow_of, select_scheme

        picked = select_scheme(self.contract)
        if not picked:
            return [], "no auth"
        scheme = picked[1]
        flow = flow_of(scheme)
        config = scheme.get("x-apiconform-auth") or {}
        if flow == "bearer":
            return ["-H", f"Authorization: Bearer {self.credentials['token']}"], "bearer header"
        if flow == "api-key" and scheme.get("in") == "header":
            prefix = config.get("prefix")
            key = self.credentials["api_key"]
            return ["-H", f"{scheme['name']}: {prefix + ' ' + key if prefix else key}"], "api-key header"
        if flow == "jwt-login":  # log in once; the access token lives 300 s on the mock, longer than the run
            body = {"role_id": self.credentials["role_id"], "secret_id": self.credentials["secret_id"]}
            response = httpx.post(self.url + str(config.get("login", "/login")), json=body, timeout=10)
            try:
                token = response.json()["token"]["access_token"]
            except (ValueError, KeyError, TypeError):  # a drifted login answer (HTML, no token): nothing to pass on
                return None, f"jwt-login: the login answered {response.status_code} without a token (a login drift); " \
                             "the schemathesis CLI has no way to log in then"
            return ["-H", f"Authorization: {config.get('prefix', 'Bearer')} {token}"], "JWT from one login (static header)"
        return None, f"{flow}: every request must be signed (HMAC over all parameters); the schemathesis CLI cannot do that without a custom auth hook"


def run_schemathesis(served: Served, tmp: Path, operations: list[str] | None, examples: int, mode: str = "positive",
                     label: str = "st") -> dict[str, Any]:
    headers, how = served.st_headers()
    if headers is None:
        return {"skipped": how}
    spec = contract_json(served.vendor, tmp)
    report_dir = tmp / f"{label}-report"
    shutil.rmtree(report_dir, ignore_errors=True)
    cmd = [str(BIN / "st"), "run", str(spec), "--url", served.url, "-n", str(examples), "--phases", "fuzzing",
           "-m", mode, "--no-shrink", "-w", "1", "--seed", str(ST_SEED), "--no-color", "--generation-database", "none",
           "--report", "ndjson", "--report-dir", str(report_dir), *headers]
    for op in operations or []:
        cmd += ["--include-operation-id", op]
    run = measure(cmd, cwd=tmp)
    result = parse_st_ndjson(report_dir)
    result.update(rc=run.rc, wall=run.wall, peak_rss_mb=run.peak_rss_mb, started=run.started, auth=how)
    if result["first_failure_epoch"] is not None:
        result["time_to_first_finding"] = result["first_failure_epoch"] - run.started
    if run.rc not in (0, 1):
        result["error"] = (run.stdout + run.stderr)[-600:]
    return result


def parse_st_ndjson(report_dir: Path) -> dict[str, Any]:
    cases = requests = 0
    failures: set[tuple[str, str]] = set()
    first = None
    engine = None
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if "ScenarioFinished" in event:
                scenario = event["ScenarioFinished"]
                recorder = scenario.get("recorder") or {}
                cases += len(recorder.get("cases") or {})
                requests += len(recorder.get("interactions") or {})
                failed = False
                for checks in (recorder.get("checks") or {}).values():
                    for check in checks:
                        if check.get("status") == "failure":
                            failures.add((recorder.get("label", "?"), check.get("name", "?")))
                            failed = True
                if failed and first is None:
                    first = scenario.get("timestamp")
            elif "EngineFinished" in event:
                engine = event["EngineFinished"].get("running_time")
    return {"cases": cases, "requests": requests, "failures": sorted(failures), "first_failure_epoch": first,
            "engine_s": engine}


def run_engine(vendor: str, operations: list[str] | None, examples: int, url: str | None,
               credentials: dict[str, str] | None, suites: str = "properties", cache: Path | None = None,
               floor: bool = False) -> dict[str, Any]:
    """apiconform's property engine (engine._suites.run_properties) in a fresh process, in-process mock or over
    HTTP; `cache`: the case cache directory (a fresh one = cold); `floor`: also replay every request the engine
    sent straight into the mock's ASGI transport (no session, judge or checks), the in-process floor."""
    spec = {"vendor": vendor, "operations": operations, "examples": examples, "url": url, "credentials": credentials,
            "suites": suites, "floor": floor}
    env = {"APICONFORM_CACHE_DIR": str(cache)} if cache is not None else None
    run = measure([sys.executable, str(Path(__file__).resolve()), "_engine", json.dumps(spec)], env=env, cwd=ROOT)
    try:
        result = json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (run.stdout + run.stderr)[-800:], "rc": run.rc}
    result.update(rc=run.rc, wall=run.wall, peak_rss_mb=run.peak_rss_mb)
    return result


def engine_main(spec_json: str) -> None:
    """Child-process entry point for run_engine (prints one JSON line)."""
    spec = json.loads(spec_json)
    t0 = time.perf_counter()
    import httpx

    wire = [0]
    sent: list[Any] = []
    original = httpx.Client._send_single_request

    def counted(self: Any, request: Any) -> Any:
        wire[0] += 1
        if spec.get("floor"):
            sent.append(request)
        return original(self, request)

    httpx.Client._send_single_request = counted  # type: ignore[method-assign]
    from apiconform.engine._session import Session
    from apiconform.engine._suites import Discovery, run_negative, run_properties
    from apiconform.engine._targets import http_target, mock_target

    imported = time.perf_counter() - t0
    vendor = spec["vendor"]
    if spec["url"]:
        target = http_target(vendor, spec["url"], credentials=spec["credentials"], live=False)
    else:
        target = mock_target(vendor, seed=SEED)
    session = Session(target)
    discovery = Discovery(session)
    only = set(spec["operations"] or [])
    ops = [op for op in target.contract if not only or op.operation_id in only]
    start = time.perf_counter()
    cases = findings = skipped = 0
    first = None
    for op in ops:
        seed = (SEED + zlib.crc32(op.label.encode())) % (1 << 31)
        for suite in spec["suites"].split(","):
            fn = run_properties if suite == "properties" else run_negative
            rec = fn(session, op, spec["examples"], seed, discovery)
            cases += rec.requests
            skipped += bool(rec.skipped)
            findings += len(rec.findings)
            if rec.findings and first is None:
                first = time.perf_counter() - start
    engine = time.perf_counter() - start
    session.close()
    floor_s = None
    if sent and target.app is not None:
        from apiconform.engine._transports import SyncASGITransport

        # a fresh mock, the same requests in the same order: the same state changes and answers as in the run
        transport = SyncASGITransport(mock_target(vendor, seed=SEED).app)
        t1 = time.perf_counter()
        for request in sent:
            transport.handle_request(request).read()
        floor_s = time.perf_counter() - t1
        transport.close()
    print(json.dumps({"import_s": imported, "engine_s": engine, "cases": cases, "requests": wire[0],
                      "operations": len(ops), "skipped": skipped, "findings": findings, "first_finding_s": first,
                      "floor_s": floor_s, "floor_requests": len(sent)}))


# --------------------------------------------------------------------------------------------------- sections


def section_gate(plan: Plan, tmp: Path) -> dict[str, Any]:
    """The full gate with default settings (`apiconform run --workers 2`), with a cold case cache (first run on a
    machine, or after a contract change) and a warm one (every later run); then the same work as 2 shards run
    side by side with 1 worker each and merged (`apiconform report --merge`); and the CLI's start-up."""
    cache = tmp / "gate-case-cache"
    variants = [("gate, cold case cache", ["--workers", "2"]), ("gate, warm case cache", ["--workers", "2"])]
    rows = []
    verdicts: dict[str, Any] = {}
    for name, extra in variants:
        counts = tmp / f"counts-{len(rows)}"
        reports = tmp / f"gate-reports-{len(rows)}"
        args = [*extra, "--reports-dir", str(reports)]
        if plan.gate_max_examples:
            args += ["--max-examples", str(plan.gate_max_examples)]
        print(f"  running {name} ...", flush=True)
        run = measure(apiconform_cmd(*args), env=bench_env(counts, cache=cache), cwd=ROOT)
        record = load_run_json(reports)
        cases = record.get("cases", [])
        ran = [c for c in cases if not c.get("skipped")]
        counted = read_counts(counts)
        verdicts[name] = _verdict_map(cases)
        rows.append({
            "name": name, "rc": run.rc, "wall": run.wall, "cpu": run.cpu, "peak_rss_mb": run.peak_rss_mb,
            "rss_method": run.rss_method,
            "session_s": record.get("duration"), "cases_run": len(ran), "cases_skipped": len(cases) - len(ran),
            "wire_requests": counted["wire_requests"], "recorded_requests": counted["recorded_requests"],
            "cases_per_s": len(ran) / run.wall if run.wall else 0, "requests_per_s": counted["wire_requests"] / run.wall,
            "vendors": record.get("vendors"), "max_examples": plan.gate_max_examples or "default (10)",
            "suite_seconds": _suite_seconds(cases),
        })
    # shards side by side (what a CI matrix does on several machines), merged into one record
    print("  running 2 shards side by side + merge ...", flush=True)
    t0 = time.perf_counter()
    procs = []
    for index in (1, 2):
        args = ["--shard", f"{index}/2", "--workers", "1", "--reports-dir", str(tmp / f"shard-{index}")]
        if plan.gate_max_examples:
            args += ["--max-examples", str(plan.gate_max_examples)]
        env = {**os.environ, **bench_env(tmp / f"shard-counts-{index}", cache=cache)}
        procs.append(subprocess.Popen(apiconform_cmd(*args), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    codes = [p.wait() for p in procs]
    merged = tmp / "shards-merged"
    merge = subprocess.run(cli_cmd("report", "--merge", str(tmp / "shard-1"), str(tmp / "shard-2"),
                                   "--reports-dir", str(merged), "--gate"), cwd=ROOT, capture_output=True)
    shard_wall = time.perf_counter() - t0
    same = _verdict_map(load_run_json(merged).get("cases", [])) == verdicts["gate, warm case cache"]
    shards = {"shards": 2, "wall": shard_wall, "exit_codes": codes, "merge_rc": merge.returncode,
              "same_verdicts_as_one_run": same}
    startup = [measure(cli_cmd("--help"), cwd=ROOT).wall for _ in range(5)]
    bare = [measure([sys.executable, "-c", "pass"], cwd=ROOT).wall for _ in range(5)]
    print("  `apiconform run` start-up (exec to its first request) ...", flush=True)
    return {"runs": rows, "shards": shards, "cli_start_s": min(startup), "python_start_s": min(bare),
            "run_start": run_startup(tmp),
            "cold_warm_same_verdicts": verdicts["gate, cold case cache"] == verdicts["gate, warm case cache"]}


def run_startup(tmp: Path, runs: int = 5) -> dict[str, Any]:
    """`apiconform run` start-up as a user meets it: from exec to its first request arriving at a mock served over
    HTTP (wall), and the CPU time (user+sys) of the whole one-case process (start-up, one case, every report
    written), median and spread of `runs` runs after an untimed one that fills the caches (a kept CI cache)."""
    import statistics

    from apiconform.mock import MockServer

    served = Served("eduframe")
    inner = served.server.app
    first: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and not first:
            first.append(time.perf_counter())
        await inner(scope, receive, send)

    served.server = MockServer(app)
    cache = tmp / "run-start-cache"
    starts: list[float] = []
    cpus: list[float] = []
    command = ""
    with served:
        for index in range(runs + 1):
            reports = tmp / f"run-start-{index}"
            cmd = [str(BIN / "apiconform"), "run", "eduframe", "--target", f"eduframe={served.url}", "--suite", "properties",
                   "--workers", "1", "--max-examples", "1", "--operation", "list_accounts", "--max-requests", "1000000",
                   "--rate", "10000", "--reports-dir", str(reports), "--no-progress", "--no-allure"]
            env = {"APICONFORM_CACHE_DIR": str(cache), **_credential_env("eduframe", served.credentials)}
            first.clear()
            t0 = time.perf_counter()
            run = measure(cmd, env=env, cwd=tmp)
            if index and first and run.rc in (0, 1):
                starts.append(first[0] - t0)
                cpus.append(run.cpu)
            command = _shell(cmd, {**env, "APICONFORM_CACHE_DIR": "$CACHE"}).replace(served.url, "$URL")
    def spread(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else {}

    return {"first_request_s": spread(starts), "process_cpu_s": spread(cpus), "runs": len(starts), "command": command}


def _verdict_map(cases: list[dict[str, Any]]) -> dict[str, Any]:
    return {f"{c.get('vendor')} {c.get('suite')} {c.get('name')}": (
        c.get("skipped"), sorted(f.get("fingerprint") for f in c.get("findings", []))) for c in cases}


def _suite_seconds(cases: list[dict[str, Any]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for case in cases:
        key = f"{case['vendor']}/{case['suite']}"
        totals[key] = round(totals.get(key, 0.0) + float(case.get("duration") or 0), 2)
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


@dataclass
class Selection:
    """A set of operations both CLIs run: `ops` None = every operation of the vendor's contract."""

    name: str
    vendor: str
    ops: list[str] | None
    contract: str | None = None  # a team contracts folder (`--contracts`), e.g. an imported real spec
    server: LiveServer | None = None  # a real server both tools share (else a fresh mock per run)
    spec: Path | None = None  # the description schemathesis reads (default: the bundled contract as JSON)


@dataclass
class LiveServer:
    """A real server from ../shared/real-apis as a throughput target: read-only for both tools (GET operations
    only, apiconform without --allow-writes), HTTP Basic for both."""

    url: str
    user: str
    password: str

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @property
    def credentials(self) -> dict[str, str]:
        return {"username": self.user, "password": self.password}

    def st_headers(self) -> tuple[list[str] | None, str]:
        return ["-a", f"{self.user}:{self.password}"], "HTTP Basic"


def pick_by_method(vendor: str, count: int, writes: bool) -> list[str]:
    """`count` operations spread over the contract, only reads (GET) or only writes (POST/PUT/PATCH/DELETE)."""
    from apiconform.contracts import load_contract

    ops = [op.operation_id for op in load_contract(vendor) if (op.method != "get") == writes]
    step = max(1, len(ops) // count)
    return ops[::step][:count]


def throughput_selections(plan: Plan) -> list[Selection]:
    if plan.quick:
        return [Selection("eduframe 12 mixed", "eduframe", pick_operations("eduframe", 12)),
                Selection("tesla-ce 8 mixed", "tesla-ce", pick_operations("tesla-ce", 8))]
    return [
        Selection("eduframe 40 mixed (the benchmark's selection)", "eduframe", pick_operations("eduframe", 40)),
        Selection("eduframe 40 GET-only", "eduframe", pick_by_method("eduframe", 40, writes=False)),
        Selection("eduframe 40 writes (POST/PUT/PATCH/DELETE)", "eduframe", pick_by_method("eduframe", 40, writes=True)),
        Selection("tesla-ce all 33", "tesla-ce", None),
        Selection("goodstack 1", "goodstack", None),
        Selection("ctrlhub 1", "ctrlhub", None),
        Selection("cofe-cms 1", "cofe-cms", None),
    ]


def st_command(spec: Path, url: str, headers: list[str], ops: list[str] | None, examples: int, seed: int,
               report_dir: Path) -> list[str]:
    cmd = [str(BIN / "st"), "run", str(spec), "--url", url, "--phases", "fuzzing", "-m", "positive", "-n", str(examples),
           "--no-shrink", "-w", "1", "--seed", str(seed), "--no-color", "--generation-database", "none",
           "--report", "ndjson", "--report-dir", str(report_dir), *headers]
    for op in ops or []:
        cmd += ["--include-operation-id", op]
    return cmd


def ac_command(sel: Selection, url: str, examples: int, seed: int, reports: Path, events: Path) -> list[str]:
    """`apiconform run` against the mock served over HTTP as a live target (writes allowed, no budget or rate in
    the way: it is our own mock; a real server: read-only), the properties suite only, one worker, every report
    written (Allure results, not the Allure HTML: schemathesis renders no HTML either)."""
    cmd = [str(BIN / "apiconform"), "run", sel.vendor, "--target", f"{sel.vendor}={url}", "--suite", "properties",
           "--workers", "1", "--max-examples", str(examples), "--seed", str(seed),
           *([] if sel.server else ["--allow-writes"]),
           "--max-requests", "1000000", "--rate", "10000", "--reports-dir", str(reports), "--events", str(events),
           "--no-progress", "--no-allure"]
    if sel.contract:
        cmd += ["--contracts", sel.contract]
    if sel.ops:
        cmd += ["--operation", ",".join(sel.ops)]
    return cmd


def _credential_env(vendor: str, credentials: dict[str, str]) -> dict[str, str]:
    prefix = "APICONFORM_" + vendor.upper().replace("-", "_") + "_"
    return {prefix + k.upper(): str(v) for k, v in credentials.items()}


def _shell(cmd: list[str], env: dict[str, str] | None = None) -> str:
    """The command as one pastes it into a shell (environment first; secrets are the mock's own credentials)."""
    import shlex

    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    return (prefix + " " if prefix else "") + " ".join(shlex.quote(str(c)) for c in cmd)


def mann_whitney(a: list[float], b: list[float]) -> dict[str, float]:
    """Mann-Whitney U of a against b (ties count 1/2), Vargha-Delaney A12 = P(a > b) and the exact two-sided p
    over every split of the pooled values (fine for the handful of runs here)."""
    import itertools

    def u_of(x: list[float], y: list[float]) -> float:
        return sum(1.0 if i > j else 0.5 if i == j else 0.0 for i in x for j in y)

    u = u_of(a, b)
    n, m = len(a), len(b)
    pooled = a + b
    centre = n * m / 2
    extreme = total = 0
    if n and m and len(pooled) <= 16:
        for chosen in itertools.combinations(range(len(pooled)), n):
            x = [pooled[i] for i in chosen]
            y = [pooled[i] for i in range(len(pooled)) if i not in chosen]
            total += 1
            extreme += abs(u_of(x, y) - centre) >= abs(u - centre) - 1e-9
    return {"U": u, "A12": u / (n * m) if n and m else float("nan"), "p": extreme / total if total else float("nan")}


def _spread(values: list[float]) -> dict[str, float]:
    import statistics

    return {"median": statistics.median(values), "min": min(values), "max": max(values)} if values else {}


def run_selection(sel: Selection, plan: Plan, tmp: Path) -> dict[str, Any]:
    """`runs` rounds, each with a different seed: schemathesis, apiconform cold (fresh case cache: a fresh CI
    runner) and apiconform warm (the same seed again on the cache the cold run filled: a kept corpus), each
    against a fresh mock served over HTTP; the order alternates between rounds (st first, then apiconform
    first) so drift in the machine's speed hits both tools alike."""
    work = tmp / ("tp-" + "".join(ch if ch.isalnum() else "-" for ch in sel.name))
    work.mkdir(parents=True, exist_ok=True)
    spec = sel.spec or contract_json(sel.vendor, tmp)
    runs: list[dict[str, Any]] = []
    commands: dict[str, str] = {}
    st_skip = None
    def serve() -> Any:
        return sel.server if sel.server is not None else Served(sel.vendor)

    for index in range(plan.throughput_runs + 1):  # round 0: an untimed warm-up of both tools
        seed = SEED + index
        st_seed = ST_SEED + index
        one: dict[str, Any] = {"seed": seed, "st_seed": st_seed}
        order = ("st", "ac") if index % 2 == 0 else ("ac", "st")
        for tool in order:
            if tool == "st":
                with serve() as served:
                    headers, how = served.st_headers()
                    if headers is None:
                        st_skip = how
                        continue
                    report_dir = work / f"st-report-{index}"
                    cmd = st_command(spec, served.url, headers, sel.ops, plan.examples, st_seed, report_dir)
                    run = measure(cmd, cwd=work)
                    parsed = parse_st_ndjson(report_dir)
                    one["st"] = {"wall": run.wall, "cpu": run.cpu, "rc": run.rc, "cases": parsed["cases"], "requests": parsed["requests"],
                                 "peak_rss_mb": run.peak_rss_mb}
                    if run.rc not in (0, 1):
                        one["st"]["error"] = (run.stdout + run.stderr)[-600:]
                    commands["st"] = _masked(sel, _shell(cmd).replace(served.url, "$URL"))
            else:
                cache = work / f"case-cache-{index}"  # fresh per round: this round's cold run fills it, warm replays it
                shutil.rmtree(cache, ignore_errors=True)
                for phase in ("cold", "warm"):
                    with serve() as served:
                        reports, counts = work / f"ac-{phase}-{index}", work / f"ac-{phase}-{index}-events"
                        counts.mkdir(parents=True, exist_ok=True)
                        events = counts / "events.jsonl"  # what read_counts reads
                        cmd = ac_command(sel, served.url, plan.examples, seed, reports, events)
                        env = {"APICONFORM_CACHE_DIR": str(cache), **_credential_env(sel.vendor, served.credentials)}
                        run = measure(cmd, env=env, cwd=work)
                        counted = read_counts(counts)
                        cases = counted["recorded_requests"]
                        one[phase] = {"wall": run.wall, "cpu": run.cpu, "rc": run.rc, "cases": cases, "items": counted["cases"],
                                      "peak_rss_mb": run.peak_rss_mb, "reports": (reports / "run.json").is_file()}
                        if run.rc not in (0, 1) or not cases:
                            one[phase]["error"] = (run.stdout + run.stderr)[-600:]
                        shown = {**env, "APICONFORM_CACHE_DIR": "$CACHE"}  # cold: a new empty dir; warm: the same one
                        commands[f"ac {phase}"] = _masked(sel, _shell(cmd, shown).replace(served.url, "$URL")
                                                          .replace("'$CACHE'", "$CACHE"))
        if index:
            runs.append(one)
    return {"name": sel.name, "vendor": sel.vendor, "operations": len(sel.ops) if sel.ops else
            _operation_count(sel), "examples": plan.examples, "runs": runs, "commands": commands, "st_skipped": st_skip}


def _masked(sel: Selection, command: str) -> str:
    """A printed command without a real server's password (`$PASSWORD`)."""
    return command.replace(sel.server.password, "$PASSWORD") if sel.server else command


def _operation_count(sel: Selection) -> int:
    from apiconform.contracts import load_contract

    return len(list(load_contract(sel.vendor)))


def summarise_selection(row: dict[str, Any]) -> dict[str, Any]:
    """Per-case seconds per run, median and spread per side, the per-case ratio st/ac of each round (the pairs
    measured side by side), and Mann-Whitney U / A12 of schemathesis' per-case time against apiconform's."""
    def per_case(run: dict[str, Any] | None) -> float | None:
        if not run or run.get("error") or not run.get("cases"):
            return None
        return float(run["wall"]) / float(run["cases"])

    out: dict[str, Any] = {}
    for side in ("st", "cold", "warm"):
        values = [v for v in (per_case(r.get(side)) for r in row["runs"]) if v is not None]
        walls = [float(r[side]["wall"]) for r in row["runs"] if r.get(side) and not r[side].get("error")]
        cases = [int(r[side]["cases"]) for r in row["runs"] if r.get(side) and not r[side].get("error")]
        out[side] = {"per_case_ms": _spread([1000 * v for v in values]), "wall": _spread(walls),
                     "cases": _spread([float(c) for c in cases]), "n": len(values), "samples": values}
    def cpu_per_case(run: dict[str, Any] | None) -> float | None:
        if not run or run.get("error") or not run.get("cases") or not run.get("cpu"):
            return None
        return float(run["cpu"]) / float(run["cases"])

    for side in ("st", "cold", "warm"):
        out[side]["cpu_per_case_ms"] = _spread([1000 * v for v in (cpu_per_case(r.get(side)) for r in row["runs"])
                                                if v is not None])
    for side in ("cold", "warm"):
        pairs = [st / ac for st, ac in ((per_case(r.get("st")), per_case(r.get(side))) for r in row["runs"])
                 if st and ac]
        out[f"{side}_ratio"] = _spread(pairs)
        cpu_pairs = [st / ac for st, ac in ((cpu_per_case(r.get("st")), cpu_per_case(r.get(side))) for r in row["runs"])
                     if st and ac]
        out[f"{side}_cpu_ratio"] = _spread(cpu_pairs)
        if out["st"]["samples"] and out[side]["samples"]:
            out[f"{side}_mwu"] = mann_whitney(out["st"]["samples"], out[side]["samples"])
    return out


def section_throughput(plan: Plan, tmp: Path) -> dict[str, Any]:
    """Both CLIs as whole processes on the same operations, examples per operation and mock (served over HTTP,
    fresh per run), interleaved, `runs` rounds with a different seed each: `st run --phases fuzzing -m positive
    -n N --no-shrink -w 1` with an ndjson report versus `apiconform run --suite properties --workers 1` with its
    reports, cold (fresh case cache) and warm (the kept case cache)."""
    rows = []
    for sel in throughput_selections(plan):
        if _wanted(plan, sel.name):
            rows.append(_throughput_row(sel, plan, tmp))
    real = real_spec_row(plan, tmp) if _wanted(plan, REAL_SPEC_KIT) else "not selected (--row)"
    if isinstance(real, dict):
        rows.append(real)
    print("  per-case cost in-process vs the floor ...", flush=True)
    return {"rows": rows, "examples": plan.examples, "runs": plan.throughput_runs,
            "real_spec_skipped": real if isinstance(real, str) else None, "floor": section_floor(plan, tmp)}


def _wanted(plan: Plan, name: str) -> bool:
    return not plan.rows or any(part in name.lower() for part in plan.rows)


def _throughput_row(sel: Selection, plan: Plan, tmp: Path) -> dict[str, Any]:
    print(f"  {sel.name}: {plan.throughput_runs} rounds x (st, apiconform cold, apiconform warm) ...", flush=True)
    row = run_selection(sel, plan, tmp)
    row["summary"] = summarise_selection(row)
    return row


REAL_SPEC_KIT = "prefect"  # Prefect 3.9.1 from ../shared/real-apis: 188 operations, OpenAPI 3.1 served at run time


def real_spec_row(plan: Plan, tmp: Path) -> dict[str, Any] | str:
    """One large real spec: the Prefect kit's server (started, seeded, stopped here; `REALAPI_PORTS_PREFECT` picks
    its ports), its served description imported with `apiconform init --from-openapi`, then both CLIs on every
    GET operation of it (read-only: a real server), schemathesis reading the description the server served.
    Returns the reason when it cannot run."""
    import base64
    import importlib.util
    import urllib.request

    if plan.quick:
        return "quick mode"
    path = ROOT / "tests" / "real" / "realapi_server.py"
    spec = importlib.util.spec_from_file_location("realapi_server", path)
    if spec is None or spec.loader is None:
        return f"{path} not importable"
    kits = importlib.util.module_from_spec(spec)
    sys.modules["realapi_server"] = kits  # dataclasses resolve the module by name
    spec.loader.exec_module(kits)
    if not kits.available(REAL_SPEC_KIT):
        return f"kit {REAL_SPEC_KIT} not found at {kits.kit_dir(REAL_SPEC_KIT)}"
    print(f"  {REAL_SPEC_KIT}: starting and seeding the real server, importing its description ...", flush=True)
    server = kits.start(REAL_SPEC_KIT)
    try:
        user, password = server.user
        contracts = tmp / f"tp-{REAL_SPEC_KIT}-contracts"
        shutil.rmtree(contracts, ignore_errors=True)
        imported = measure([str(BIN / "apiconform"), "init", REAL_SPEC_KIT, "--from-openapi", server.spec_url, "--user",
                            user, "--dir", str(contracts)], env={**server.env(), "APICONFORM_SPEC_PASSWORD": password}, cwd=tmp)
        if imported.rc != 0:
            return f"`apiconform init --from-openapi` failed: {(imported.stdout + imported.stderr)[-300:]}"
        request = urllib.request.Request(server.spec_url, headers={
            "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()})
        served_spec = tmp / f"{REAL_SPEC_KIT}.served.json"
        with urllib.request.urlopen(request, timeout=60) as answer:  # the vendor's own description, for st
            served_spec.write_bytes(answer.read())
        served_ids = {str(op.get("operationId")) for item in json.loads(served_spec.read_text())["paths"].values()
                      for method, op in item.items() if method == "get" and isinstance(op, dict)}
        sys.path.insert(0, str(ROOT / "src"))
        from apiconform.contracts import load_contract, use_contracts

        use_contracts(contracts)
        try:
            contract = load_contract(REAL_SPEC_KIT)
            total = len(list(contract))
            gets = [op.operation_id for op in contract if op.method == "get" and op.operation_id in served_ids]
        finally:
            use_contracts(None)
        sel = Selection(f"{REAL_SPEC_KIT} (real server) {len(gets)} GET of {total}", REAL_SPEC_KIT, gets,
                        contract=str(contracts), server=LiveServer(server.base_url, user, password), spec=served_spec)
        row = _throughput_row(sel, plan, tmp)
        row["real"] = {"kit": REAL_SPEC_KIT, "operations": total, "import_s": imported.wall}
        return row
    finally:
        server.stop()


def section_floor(plan: Plan, tmp: Path) -> list[dict[str, Any]]:
    """Per-case cost in-process against the floor, per vendor: apiconform's property engine in a fresh process on
    the embedded mock, cold (fresh case cache) then warm with every request it sent replayed straight into a
    fresh mock's ASGI transport (no session, judge or checks): the in-process floor."""
    rows = []
    for sel in throughput_selections(plan):
        if "GET-only" in sel.name or "writes" in sel.name or not _wanted(plan, sel.name):
            continue
        cache = tmp / f"floor-cache-{sel.vendor}"
        shutil.rmtree(cache, ignore_errors=True)
        cold = run_engine(sel.vendor, sel.ops, plan.examples, None, None, cache=cache)
        warm = run_engine(sel.vendor, sel.ops, plan.examples, None, None, cache=cache, floor=True)
        rows.append({"vendor": sel.vendor, "name": sel.name, "cold": cold, "warm": warm})
    return rows


# Drifts that only show on another vendor's operations: a create answer that echoes the request (Ctrl-Hub),
# a login answer that drifts (TeSLA's AppRole login). Each gets its own faithful baseline on that vendor.
DRIFT_HOME: dict[str, tuple[str, list[str]]] = {
    "echo-value-changed": ("ctrlhub", ["create_qualification_award"]),
    "login-tokens-null": ("tesla-ce", ["list_providers", "login_approle"]),
    "login-html-200": ("tesla-ce", ["list_providers", "login_approle"]),
}


def section_detection(plan: Plan, tmp: Path) -> dict[str, Any]:
    from apiconform.mock.drifts import DRIFTS

    home = "eduframe"
    home_ops = pick_operations(home, plan.detection_ops)
    scenarios = ["(none: baseline)"] + plan.drifts
    scenarios += [f"(none: baseline {v})" for v in sorted({DRIFT_HOME[d][0] for d in plan.drifts if d in DRIFT_HOME})]
    scenarios.sort(key=lambda s: (0 if s == "(none: baseline)" else 1 if s.startswith("(none") else 2))
    rows = []
    baselines: dict[str, tuple[set[tuple[str, str]], set[tuple[str, str]]]] = {}
    for index, scenario in enumerate(scenarios):
        drifts = [] if scenario.startswith("(none") else [d for d in scenario.split(",") if d]
        vendor, ops = home, home_ops
        if scenario.startswith("(none: baseline "):
            vendor = scenario[len("(none: baseline "):-1]
            ops = next(o for v, o in DRIFT_HOME.values() if v == vendor)
        elif drifts and drifts[0] in DRIFT_HOME:
            vendor, ops = DRIFT_HOME[drifts[0]]
        base_ac, base_st = baselines.get(vendor, (set(), set()))
        print(f"  drift {scenario} ...", flush=True)
        counts = tmp / f"det-counts-{index}"
        counts.mkdir()
        reports = tmp / f"det-reports-{index}"
        args = [vendor, "--suite", "properties,negative", "--max-examples", str(plan.detection_examples),
                "--workers", "1", "--operation", ",".join(ops), "--reports-dir", str(reports)]
        for drift in drifts:
            args += ["--drift", drift]
        ac = measure(apiconform_cmd(*args), env=bench_env(counts), cwd=ROOT)
        counted = read_counts(counts)
        record = load_run_json(reports)
        found = {(c["operation"], f["category"]) for c in record.get("cases", []) for f in c.get("findings", [])}
        categories = sorted({cat for _, cat in found})
        expected = sorted({DRIFTS[d].category.value for d in drifts})
        with Served(vendor, drifts) as served:
            st = run_schemathesis(served, tmp, ops, plan.detection_examples, mode="all", label=f"det-{index}")
        st_found = {tuple(x) for x in st.get("failures", [])}
        if not drifts:
            baselines[vendor] = (found, st_found)
        ac_first = (counted["first_failure_epoch"] - ac.started) if counted["first_failure_epoch"] else None
        rows.append({
            "scenario": scenario, "vendor": vendor, "drifts": drifts, "expected_categories": expected,
            "apiconform": {"rc": ac.rc, "wall": ac.wall, "peak_rss_mb": ac.peak_rss_mb,
                           "detected": ac.rc == 1 and bool(found - base_ac),
                           "right_category": bool(set(expected) & set(categories)) if expected else None,
                           "categories": categories, "time_to_first_finding": ac_first,
                           "cases": counted["recorded_requests"], "requests": counted["wire_requests"]},
            "schemathesis": {"rc": st.get("rc"), "wall": st.get("wall"), "peak_rss_mb": st.get("peak_rss_mb"),
                             "detected": st.get("rc") not in (0, None) and bool(st_found - base_st),
                             "checks": sorted({check for _, check in st_found}),
                             "new_checks": sorted({check for _, check in st_found - base_st}),
                             "time_to_first_finding": st.get("time_to_first_finding"),
                             "cases": st.get("cases"), "requests": st.get("requests"), "error": st.get("error"),
                             "skipped": st.get("skipped")},
        })
    drifted = [r for r in rows if r["drifts"]]
    summary = {
        "operations": home_ops, "examples": plan.detection_examples, "vendor": home,
        "other_vendors": {d: {"vendor": v, "operations": o} for d, (v, o) in DRIFT_HOME.items() if d in plan.drifts},
        "apiconform_baseline_clean": rows[0]["apiconform"]["rc"] == 0,
        "schemathesis_baseline_clean": rows[0]["schemathesis"]["rc"] == 0,
        "schemathesis_baseline_checks": rows[0]["schemathesis"]["checks"],
        "apiconform_detected": sum(r["apiconform"]["detected"] for r in drifted),
        "schemathesis_detected": sum(r["schemathesis"]["detected"] for r in drifted),
        "scenarios": len(drifted),
    }
    return {"rows": rows, "summary": summary}


def section_false_positives(plan: Plan, tmp: Path) -> dict[str, Any]:
    """The gate against Stoplight Prism serving our contracts; every finding classified (benchmarks/prism_fp.py)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import prism_fp

    if not prism_fp.PRISM.exists():
        return {"skipped": "prism not installed: `make prism`"}
    vendors = ["ctrlhub", "goodstack", "cofe-cms", "tesla-ce"] if plan.quick else prism_fp.VENDORS
    result = prism_fp.run(vendors, 2 if plan.quick else 3, "examples,properties,stateful,negative", tmp / "prism-fp.json")
    print(f"  false positives against Prism: {result['summary']['apiconform_false_positives']} of "
          f"{result['summary']['distinct_findings']} distinct findings {result['summary']['by_class']}", flush=True)
    return result


def section_real_apis(plan: Plan, tmp: Path) -> dict[str, Any]:
    """apiconform and the schemathesis CLI on real third-party servers from their own descriptions (real_apis.py)."""
    sys.path.insert(0, str(BENCH))
    import real_apis

    result = real_apis.section(plan, tmp, measure)
    print(real_apis.render(result, table), flush=True)
    return result


def section_upgrade(plan: Plan, tmp: Path) -> dict[str, Any]:
    """`apiconform upgrade` between two real Prefect releases against a ground truth taken from the releases' own
    descriptions and answers (upgrade_real.py), then between two real Kinto releases that differ in status codes
    against the vendor's own fixes, each probed on both releases (upgrade_kinto.py): changes detected, classified,
    and false changes reported."""
    sys.path.insert(0, str(BENCH))
    import upgrade_kinto
    import upgrade_real

    result = upgrade_real.run(tmp)
    print(upgrade_real.render(result), flush=True)
    kinto = upgrade_kinto.run(tmp)
    print("\n" + upgrade_kinto.render(kinto), flush=True)
    return {**result, "kinto": kinto}


def section_scaling(plan: Plan, tmp: Path) -> dict[str, Any]:
    from apiconform.contracts import load_contract

    vendor = "eduframe"
    total = len(load_contract(vendor))
    points: list[tuple[int | None, int]] = [(n, 10) for n in plan.scaling_ops]
    points += [(plan.scaling_examples_ops, n) for n in plan.scaling_examples if n != 10 or plan.scaling_examples_ops not in plan.scaling_ops]
    rows = []
    for index, (count, examples) in enumerate(points):
        ops = pick_operations(vendor, count)
        print(f"  {len(ops)} operations x {examples} examples ...", flush=True)
        counts = tmp / f"sc-counts-{index}"
        counts.mkdir()
        reports = tmp / f"sc-reports-{index}"
        args = [vendor, "--suite", "properties", "--max-examples", str(examples), "--workers", "1", "--reports-dir", str(reports)]
        if count is not None and count < total:
            args += ["--operation", ",".join(ops)]
        run = measure(apiconform_cmd(*args), env=bench_env(counts), cwd=ROOT)
        record = load_run_json(reports)
        counted = read_counts(counts)
        cases = counted["recorded_requests"]
        session = record.get("duration") or run.wall
        rows.append({"operations": len(ops), "examples": examples, "rc": run.rc, "wall": run.wall,
                     "session_s": session, "peak_rss_mb": run.peak_rss_mb, "cases": cases,
                     "requests": counted["wire_requests"], "s_per_operation": session / len(ops),
                     "ms_per_case": 1000 * session / cases if cases else None})
    return {"rows": rows, "vendor": vendor}


# --------------------------------------------------------------------------------------------------- output


def section_fidelity(plan: Plan, tmp: Path) -> dict[str, Any]:
    """Record every operation on the REAL TeSLA CE server (issue 12), replay against the mock: agreement.
    Also the mock recorded and replayed against itself (the tool's own ceiling, expected 100 %)."""
    sys.path.insert(0, str(ROOT))
    from apiconform.engine._session import Session
    from apiconform.traffic import auth_operations, record, verify
    from apiconform.engine._targets import Safety, http_target, mock_target

    out: dict[str, Any] = {}
    entries = record(Session(mock_target("tesla-ce")))
    out["mock_vs_mock"] = verify(Session(mock_target("tesla-ce", seed=3)), entries).agreement
    try:
        from tests.real.tesla_server import start_server, vendor_dir
    except ImportError as exc:
        return {**out, "skipped": f"tests/real not importable: {exc}"}
    if not (vendor_dir() / "start.sh").is_file():
        return {**out, "skipped": f"no real TeSLA CE scripts at {vendor_dir()}"}
    t0 = time.perf_counter()
    server = start_server(tmp / "tesla-real")
    out["server_start_s"] = time.perf_counter() - t0
    try:
        contract_target = http_target("tesla-ce", server.base_url, credentials={
            "role_id": server.credentials["role_id"], "secret_id": server.credentials["secret_id"]})
        safety = Safety(read_only=False, allowed_writes=auth_operations(contract_target.contract), max_requests=300, rate=50)
        live = http_target("tesla-ce", server.base_url, credentials=dict(contract_target.credentials), safety=safety)
        t0 = time.perf_counter()
        recorded = record(Session(live))
        out["record_s"] = time.perf_counter() - t0
        result = verify(Session(mock_target("tesla-ce")), recorded)
    finally:
        server.stop()
    out.update(exchanges=result.exchanges, agreeing=result.agreeing, agreement=result.agreement,
               operations=len({e["_operation"] for e in recorded}), of_operations=len(live.contract),
               differences=[f"{d.operation}: {d.aspect}: {d.detail}" for d in result.differences])
    return out


CLIENT_FIDELITY = (  # issue 25: a vendor's own client, real server vs mock; each test prints its figures
    ("tesla-ce", "tests/real/test_client_fidelity.py", "the tesla-ce-client provider flow + two worker flows"),
    ("kinto", "tests/real/test_realapi_kinto_client.py", "a kinto-http flow; mock of the imported description"),
)


def section_client_fidelity(plan: Plan, tmp: Path) -> dict[str, Any]:
    """Issue 25: real vendor clients run unmodified against the real server (recorded through `apiconform proxy`)
    and against the mock: exchanges agreeing on status and shape, flows ending the same, and `fidelity`'s figure
    replaying the recordings. The figures are the real tests' own lines (`clients see ...`), run as they are."""
    out: dict[str, Any] = {}
    for vendor, test, what in CLIENT_FIDELITY:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", test, "-s", "-q", "-p", "no:logging",
                               "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        lines = [line.strip() for line in done.stdout.splitlines() if "clients see" in line]
        out[vendor] = {"test": test, "what": what, "rc": done.returncode, "wall_s": time.perf_counter() - t0,
                       "figures": lines, "command": f".venv/bin/python -m pytest {test} -s -p no:logging"}
    return out


def render_client_fidelity(fid: dict[str, Any]) -> str:
    lines = ["\n== Client fidelity (issue 25): a vendor's own client on the real server vs on the mock"]
    for vendor, row in fid.items():
        if not isinstance(row, dict):
            continue
        verdict = "passed" if row["rc"] == 0 else f"FAILED (exit {row['rc']})"
        lines.append(f"{vendor}: {row['what']} ({row['test']} {verdict}, {row['wall_s']:.0f} s)")
        lines += [f"   {figure}" for figure in row["figures"] or ["(no figures printed)"]]
        lines.append(f"   reproduce: {row['command']}")
    return "\n".join(lines)


def render_fidelity(fid: dict[str, Any]) -> str:
    if "skipped" in fid:
        return f"\nfidelity (TeSLA real server vs mock): skipped ({fid['skipped']}); mock vs mock {fid['mock_vs_mock']:.1%}"
    rows = [["real TeSLA CE 1.0.10 vs mock", f"{fid['agreeing']}/{fid['exchanges']}", f"{fid['agreement']:.1%}",
             f"{fid['operations']}/{fid['of_operations']}"],
            ["mock vs mock (ceiling)", "", f"{fid['mock_vs_mock']:.1%}", ""]]
    text = table("fidelity: recorded exchanges the mock answers alike (goal >= 95 %)",
                 ["recording", "agree", "agreement", "operations"], rows)
    return text + "\n" + "\n".join(f"  differs: {d}" for d in fid["differences"])




def section_reliability(plan: Plan, tmp: Path) -> dict[str, Any]:
    """Issue 13's figures: leaks found by the hostile-vendor probe, requests sent vs budget at 1 and 2
    workers, hostile scenarios survived, flaky verdicts over repeated runs at 1 and 2 workers."""
    import time as _time

    from click.testing import CliRunner

    sys.path.insert(0, str(ROOT))
    from tests.support import hostile_vendors as hv  # the same hostile servers the tests use

    from apiconform.cli import main as cli
    from apiconform.mock import MockServer, mock_app

    out: dict[str, Any] = {}
    probe = hv.leak_probe(tmp / "leaks")
    out["leaks"] = {"hits": len(probe["hits"]), "secrets_planted_or_learned": len(probe["secrets"]),
                    "requests": probe["requests"], "exit_code": probe["exit_code"],
                    "scenarios": len(hv.SCENARIOS), "scenarios_survived": len(hv.SCENARIOS) if probe["exit_code"] in (0, 1) else 0}
    token = "Zqbenchtoken0123456789"
    budget = []
    for workers in (1, 2):
        app = mock_app("eduframe")
        getattr(app, "mock", app).behaviour.credentials = lambda: {"token": token}
        seen: list[float] = []

        async def counted(scope: Any, receive: Any, send: Any, app: Any = app, seen: list[float] = seen) -> None:
            if scope["type"] == "http":
                seen.append(_time.monotonic())
            await app(scope, receive, send)

        work = tmp / f"budget{workers}"
        work.mkdir()
        (work / "apiconform.toml").write_text('[targets.eduframe]\ncredentials = { token = "BENCH_EDU_TOKEN" }\n')
        os.environ["BENCH_EDU_TOKEN"] = token
        cwd = os.getcwd()
        os.chdir(work)
        try:
            with MockServer(counted) as url:
                CliRunner().invoke(cli, ["run", "eduframe", "--target", f"eduframe={url}", "--workers", str(workers),
                                         "--max-requests", "30", "--rate", "10", "--suite", "properties,negative",
                                         "--max-examples", "6", "--no-allure", "--no-progress", "--reports-dir", str(work / "r")])
        finally:
            os.chdir(cwd)
        busiest = max((sum(1 for t in seen if a <= t < a + 1) for a in seen), default=0)
        budget.append({"workers": workers, "budget": 30, "sent": len(seen), "rate": 10, "busiest_second": busiest})
    out["budget"] = budget
    flaky_runs: dict[str, list[Any]] = {}
    for workers in (1, 2):
        for rep in range(2):
            reports = tmp / f"flaky{workers}-{rep}"
            CliRunner().invoke(cli, ["run", "eduframe", "--suite", "negative", "--operation", "list_invoices", "--seed", "7",
                                     "--drift", "error-shape-changed", "--max-examples", "3", "--workers", str(workers),
                                     "--no-allure", "--no-progress", "--reports-dir", str(reports)])
            try:
                cases = json.loads((reports / "run.json").read_text())["cases"]
            except (OSError, ValueError, KeyError):
                cases = []
            for case in cases:
                verdict = (bool(case.get("skipped")), tuple(sorted(f["fingerprint"] for f in case.get("findings", []))))
                flaky_runs.setdefault(case["name"], []).append(verdict)
    out["flaky"] = {"cases": len(flaky_runs), "runs": 4,
                    "flaky_verdicts": sum(1 for v in flaky_runs.values() if len(set(v)) > 1 or len(v) < 4)}
    return out


def table(title: str, headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = [f"\n== {title}", "  ".join(h.ljust(w) for h, w in zip(headers, widths)), line]
    out += ["  ".join(c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("x", "").replace("-", "").isdigit()


def _rate(cases: Any, seconds: Any) -> float | None:
    return cases / seconds if cases and seconds else None


def ms_s(spread: dict[str, float]) -> str:
    """median [min-max] of a spread, in its own unit."""
    return f"{spread['median']:.2f} [{spread['min']:.2f}-{spread['max']:.2f}]" if spread else "-"


def render(results: dict[str, Any]) -> str:
    parts = []
    if results.get("real-apis"):
        sys.path.insert(0, str(BENCH))
        import real_apis

        parts.append(real_apis.render(results["real-apis"], table))
    rel = results.get("reliability")
    if rel:
        leaks = rel["leaks"]
        parts.append(table("Reliability (issue 13): hostile vendors, budgets, determinism", ["figure", "value"], [
            ["secret leaks found (all forms, all outputs)", leaks["hits"]],
            ["secrets planted or learned", leaks["secrets_planted_or_learned"]],
            ["hostile scenarios survived", f"{leaks['scenarios_survived']}/{leaks['scenarios']}"],
            *[[f"requests sent / budget at {b['workers']} worker(s)", f"{b['sent']}/{b['budget']} "
               f"(busiest second {b['busiest_second']} at --rate {b['rate']})"] for b in rel["budget"]],
            ["flaky verdicts, 2 runs x workers 1 and 2", f"{rel['flaky']['flaky_verdicts']} of {rel['flaky']['cases']} cases"],
        ]))
    gate = results.get("gate")
    if gate:
        parts.append(table("Full gate: `apiconform run --workers 2` (all vendors, embedded mocks)",
                           ["run", "rc", "wall s", "engine session s", "peak RSS MB", "cases run", "skipped",
                            "HTTP requests", "cases/s", "req/s"],
                           [[r["name"], r["rc"], r["wall"], r["session_s"], r["peak_rss_mb"], r["cases_run"],
                             r["cases_skipped"], r["wire_requests"], r["cases_per_s"], r["requests_per_s"]]
                            for r in gate["runs"]]))
        top = list(gate["runs"][0]["suite_seconds"].items())[:6]
        parts.append("   slowest vendor/suite (sum of test durations, s): " + ", ".join(f"{k} {v}" for k, v in top))
        sh = gate["shards"]
        one = gate["runs"][-1]["wall"]
        parts.append(f"   2 shards side by side (1 worker each, warm cache) + merge: {sh['wall']:.1f} s "
                     f"({one / sh['wall']:.2f}x the 2-worker run's {one:.1f} s); merged verdicts = one run: "
                     f"{sh['same_verdicts_as_one_run']}; CLI start-up {gate['cli_start_s']:.2f} s")
        rs = gate.get("run_start") or {}
        if rs.get("first_request_s"):
            parts.append(f"   `apiconform run` start-up, exec to its first request (median of {rs['runs']}, warm caches): "
                         f"{ms_s(rs['first_request_s'])} s wall; the whole one-case process {ms_s(rs['process_cpu_s'])} s CPU; "
                         f"`{rs['command']}`")
    tp = results.get("throughput")
    if tp:
        def ms(spread: dict[str, float]) -> str:
            return f"{spread['median']:.2f} [{spread['min']:.2f}-{spread['max']:.2f}]" if spread else "-"

        def ratio(spread: dict[str, float]) -> str:
            return f"{spread['median']:.2f}x [{spread['min']:.2f}-{spread['max']:.2f}]" if spread else "-"

        def mwu(test: dict[str, float] | None) -> str:
            return f"{test['A12']:.2f} / {test['p']:.3f}" if test else "-"

        rows = []
        for r in tp["rows"]:
            s = r["summary"]
            rows.append([r["name"], r["operations"], "skip" if r.get("st_skipped") else ms(s["st"]["per_case_ms"]),
                         s["st"]["cases"].get("median", "-"), ms(s["cold"]["per_case_ms"]), s["cold"]["cases"].get("median", "-"),
                         ratio(s["cold_ratio"]), mwu(s.get("cold_mwu")), ms(s["warm"]["per_case_ms"]),
                         ratio(s["warm_ratio"]), mwu(s.get("warm_mwu"))])
        parts.append(table(
            f"Property throughput, CLI against CLI, whole processes, {tp['examples']} examples/operation, the mock served "
            f"over HTTP (fresh per run), {tp['runs']} interleaved rounds per row with a new seed each; ms per case = wall / "
            "cases, median [min-max]; ratio = st ms/case / apiconform ms/case of the same round; A12 = P(st slower per "
            "case), p = exact two-sided Mann-Whitney; cold = fresh case cache (a fresh CI runner), warm = the kept case "
            "cache (a restored CI cache)",
            ["selection", "ops", "st ms/case", "st cases", "ac cold ms/case", "ac cases", "cold: st/ac", "A12 / p",
             "ac warm ms/case", "warm: st/ac", "A12 / p"], rows))
        parts.append("   CPU time (user+sys of the whole process tree, os.wait4) per case, median [min-max], and the ratio "
                     "st/ac of each round; the load on a shared machine distorts walls more than CPU:")
        for r in tp["rows"]:
            s = r["summary"]
            if s["st"].get("cpu_per_case_ms") or s["cold"].get("cpu_per_case_ms"):
                parts.append(f"     {r['name']}: st {ms(s['st'].get('cpu_per_case_ms', {}))} ms, ac cold "
                             f"{ms(s['cold'].get('cpu_per_case_ms', {}))} ms ({ratio(s.get('cold_cpu_ratio', {}))}), ac warm "
                             f"{ms(s['warm'].get('cpu_per_case_ms', {}))} ms ({ratio(s.get('warm_cpu_ratio', {}))})")
        for r in tp["rows"]:
            if r.get("st_skipped"):
                parts.append(f"   schemathesis skipped for {r['name']}: {r['st_skipped']}")
            for run in r["runs"]:
                for side in ("st", "cold", "warm"):
                    if run.get(side, {}).get("error"):
                        parts.append(f"   {side} failed for {r['name']} (seed {run['seed']}): {run[side]['error'][-300:]}")
        if tp.get("real_spec_skipped"):
            parts.append(f"   real spec row skipped: {tp['real_spec_skipped']}")
        agg = results.get("aggregate_throughput")
        if agg:
            parts.append(f"   summed over every row schemathesis ran ({agg['rows']} rows), per round: cold {ratio(agg['cold'])}, "
                         f"warm {ratio(agg['warm'])} schemathesis' per-case time; worst row cold {agg['worst_cold']:.2f}x; "
                         f"by CPU time: cold {ratio(agg.get('cold_cpu', {}))}, warm {ratio(agg.get('warm_cpu', {}))}")
        parts.append("   commands (one round; $URL = the mock served over HTTP, $CACHE = the case cache directory):")
        for r in tp["rows"][:1]:
            for name, cmd in r["commands"].items():
                parts.append(f"     {name}: {cmd}")
        for r in tp["rows"]:
            if r.get("real"):
                parts.append(f"   {r['name']}: a real server from ../shared/real-apis ({r['real']['operations']} operations, "
                             f"description imported in {r['real']['import_s']:.0f} s), not in the sums above; $URL = the "
                             "server's base URL, $PASSWORD = the kit's password; commands:")
                for name, cmd in r["commands"].items():
                    parts.append(f"     {name}: {cmd}")
        costs = []
        for f in tp.get("floor", []):
            cold, warm = f["cold"], f["warm"]
            if warm.get("floor_s") and warm.get("cases") and cold.get("cases"):
                case_ms = 1000 * warm["engine_s"] / warm["cases"]
                cold_ms = 1000 * cold["engine_s"] / cold["cases"]
                floor_ms = 1000 * warm["floor_s"] / warm["floor_requests"]
                costs.append([f["name"], warm["cases"], round(cold_ms, 2), round(case_ms, 2), warm["floor_requests"],
                              round(floor_ms, 2), f"{cold_ms / floor_ms:.2f}x", f"{case_ms / floor_ms:.2f}x"])
            elif cold.get("error") or warm.get("error"):
                parts.append(f"   floor run failed for {f['name']}: {(cold.get('error') or warm.get('error'))[-300:]}")
        if costs:
            parts.append(table("Per-case cost in-process (engine loop / cases, `python benchmarks/run.py _engine ...`) vs the "
                               "floor: the same requests replayed straight into a fresh mock's ASGI transport",
                               ["selection", "cases", "cold ms/case", "warm ms/case", "floor requests", "floor ms/request",
                                "cold/floor", "warm/floor"], costs))
        if results.get("per_case"):
            pc = results["per_case"]
            parts.append(f"   per-case cost, all vendors: cold {pc['cold_case_ms']:.2f} ms/case, warm {pc['case_ms']:.2f} "
                         f"ms/case vs floor {pc['floor_ms']:.2f} ms/request -> cold {pc['cold_ratio']:.2f}x, warm "
                         f"{pc['ratio']:.2f}x the floor")
    det = results.get("detection")
    if det:
        rows = []
        for r in det["rows"]:
            ac, st = r["apiconform"], r["schemathesis"]
            rows.append([r["scenario"], ",".join(r["expected_categories"]) or "-",
                         ac["detected"], ac["right_category"], ",".join(ac["categories"]) or "-", ac["time_to_first_finding"],
                         ac["wall"], "skip" if st.get("skipped") else st["detected"], ",".join(st["new_checks"]) or "-",
                         st["time_to_first_finding"], st["wall"]])
        s = det["summary"]
        parts.append(table(f"Drift detection: {s['vendor']} {len(s['operations'])} operations, properties+negative, "
                           f"{s['examples']} examples (apiconform --workers 1; schemathesis -m all --phases fuzzing -w 1)",
                           ["drift", "expected", "ac detects", "ac right cat", "ac categories", "ac 1st finding s",
                            "ac wall", "st detects", "st new failing checks", "st 1st finding s", "st wall"], rows))
        for r in det["rows"]:
            if r["schemathesis"].get("skipped"):
                parts.append(f"   schemathesis not run for {r['scenario']}: {r['schemathesis']['skipped']} (counted as not detected)")
        parts.append(f"   detection rate: apiconform {s['apiconform_detected']}/{s['scenarios']}"
                     f" (baseline clean: {_fmt(s['apiconform_baseline_clean'])})")
        parts.append(f"   detection rate: schemathesis {s['schemathesis_detected']}/{s['scenarios']}"
                     f" (baseline clean: {_fmt(s['schemathesis_baseline_clean'])}"
                     + (f"; baseline already fails {', '.join(s['schemathesis_baseline_checks'])}: only new failures count"
                        if s["schemathesis_baseline_checks"] else "") + ")")
    sc = results.get("scaling")
    if sc:
        parts.append(table(f"Scaling: {sc['vendor']} properties suite (`apiconform run --suite properties --workers 1`)",
                           ["operations", "examples", "wall s", "session s", "peak RSS MB", "cases", "HTTP requests",
                            "s/operation", "ms/case"],
                           [[r["operations"], r["examples"], r["wall"], r["session_s"], r["peak_rss_mb"], r["cases"],
                             r["requests"], r["s_per_operation"], r["ms_per_case"]] for r in sc["rows"]]))
        marginal = results.get("marginal")
        if marginal:
            parts.append("   " + "; ".join(marginal))
    targets = results.get("targets")
    if targets:
        parts.append(table("Targets (goals, not assertions)", ["goal", "measured", "met"],
                           [[t["goal"], t["measured"], t["met"]] for t in targets]))
    return "\n".join(parts)


def derive(results: dict[str, Any], plan: Plan) -> None:
    """Aggregates, marginal costs and the target lines."""
    tp = results.get("throughput")
    if tp:
        with_st = [r for r in tp["rows"] if not r.get("st_skipped") and not r.get("real")]  # the real server's own row apart
        rounds = min((len(r["runs"]) for r in with_st), default=0)
        agg: dict[str, Any] = {"rows": len(with_st)}
        for side in ("cold", "warm"):
            pairs, cpu_pairs = [], []
            for i in range(rounds):
                runs = [r["runs"][i] for r in with_st]
                if all(run.get("st", {}).get("cases") and run.get(side, {}).get("cases") and not run[side].get("error")
                       for run in runs):
                    st = sum(run["st"]["wall"] for run in runs) / sum(run["st"]["cases"] for run in runs)
                    ac = sum(run[side]["wall"] for run in runs) / sum(run[side]["cases"] for run in runs)
                    pairs.append(st / ac)
                    if all(run["st"].get("cpu") and run[side].get("cpu") for run in runs):
                        st_cpu = sum(run["st"]["cpu"] for run in runs) / sum(run["st"]["cases"] for run in runs)
                        ac_cpu = sum(run[side]["cpu"] for run in runs) / sum(run[side]["cases"] for run in runs)
                        cpu_pairs.append(st_cpu / ac_cpu)
            agg[side] = _spread(pairs)
            agg[f"{side}_cpu"] = _spread(cpu_pairs)
        colds = [r["summary"]["cold_ratio"]["median"] for r in with_st if r["summary"]["cold_ratio"]]
        agg["worst_cold"] = min(colds) if colds else 0.0
        if agg["cold"] and agg["warm"]:
            results["aggregate_throughput"] = agg
        sums: dict[str, float] = {}
        for f in tp.get("floor", []):
            cold, warm = f["cold"], f["warm"]
            if warm.get("floor_s") and cold.get("cases") and warm.get("cases"):
                for key, value in (("engine", warm["engine_s"]), ("cases", warm["cases"]), ("floor", warm["floor_s"]),
                                   ("requests", warm["floor_requests"]), ("cold_engine", cold["engine_s"]),
                                   ("cold_cases", cold["cases"])):
                    sums[key] = sums.get(key, 0.0) + value
        if sums.get("cases") and sums.get("requests"):
            case_ms = 1000 * sums["engine"] / sums["cases"]
            floor_ms = 1000 * sums["floor"] / sums["requests"]
            cold_ms = 1000 * sums["cold_engine"] / sums["cold_cases"]
            results["per_case"] = {"case_ms": case_ms, "floor_ms": floor_ms, "ratio": case_ms / floor_ms,
                                   "cold_case_ms": cold_ms, "cold_ratio": cold_ms / floor_ms}
    sc = results.get("scaling")
    if sc:
        by_ops = sorted({(r["operations"], r["session_s"]) for r in sc["rows"] if r["examples"] == 10})
        by_ex = sorted({(r["examples"], r["session_s"], r["operations"]) for r in sc["rows"]
                        if r["operations"] == plan.scaling_examples_ops})
        notes = []
        if len(by_ops) >= 2:
            (o1, t1), (o2, t2) = by_ops[0], by_ops[-1]
            notes.append(f"marginal cost {(t2 - t1) / (o2 - o1):.2f} s per extra operation at 10 examples")
        if len(by_ex) >= 2:
            (e1, t1, ops), (e2, t2, _) = by_ex[0], by_ex[-1]
            notes.append(f"marginal cost {1000 * (t2 - t1) / ((e2 - e1) * ops):.0f} ms per extra example per operation")
        results["marginal"] = notes
    targets = []
    gate = results.get("gate")
    if gate:
        cold, warm = gate["runs"][0], gate["runs"][-1]
        full = not plan.quick
        quick = "" if full else f" (quick: --max-examples {plan.gate_max_examples}, not comparable)"
        cpu = f" (CPU {cold['cpu']:.1f} s / {warm['cpu']:.1f} s)" if cold.get("cpu") and warm.get("cpu") else ""
        targets.append({"goal": "five-vendor gate, default settings, 2 cores: <= 10 s cold (fresh case cache, a fresh CI runner)",
                        "measured": f"{cold['wall']:.1f} s cold, {warm['wall']:.1f} s warm" + cpu + quick,
                        "met": (cold["wall"] <= 10) if full else None})
        peak = max(r["peak_rss_mb"] or 0 for r in gate["runs"])
        targets.append({"goal": "peak RSS of the gate (process tree): <= 400 MB", "measured": f"{peak:.0f} MB",
                        "met": peak <= 400 if peak else None})
        targets.append({"goal": "CLI start-up (`apiconform --help`): <= 0.3 s",
                        "measured": f"{gate['cli_start_s']:.2f} s (python -c pass: {gate['python_start_s']:.2f} s)",
                        "met": gate["cli_start_s"] <= 0.3})
        first = (gate.get("run_start") or {}).get("first_request_s") or {}
        if first:
            cpu = gate["run_start"]["process_cpu_s"]
            targets.append({"goal": "`apiconform run` start-up (exec to its first request, warm caches): <= 0.3 s",
                            "measured": f"{first['median']:.2f} s [{first['min']:.2f}-{first['max']:.2f}] wall; the whole "
                                        f"one-case process {cpu['median']:.2f} s CPU",
                            "met": first["median"] <= 0.3})
        targets.append({"goal": "verdicts identical with a cold and a warm case cache, and 2 merged shards = 1 run",
                        "measured": f"cache {gate['cold_warm_same_verdicts']}, shards {gate['shards']['same_verdicts_as_one_run']}",
                        "met": bool(gate["cold_warm_same_verdicts"] and gate["shards"]["same_verdicts_as_one_run"])})
    agg = results.get("aggregate_throughput")
    det = results.get("detection")
    if agg:
        targets.append({"goal": "first run on a contract (cold case cache) >= 3x schemathesis per case, CLI vs CLI",
                        "measured": f"median {agg['cold']['median']:.2f}x [{agg['cold']['min']:.2f}-{agg['cold']['max']:.2f}] "
                                    f"over {agg['rows']} rows summed; worst row {agg['worst_cold']:.2f}x"
                                    + (f"; CPU {agg['cold_cpu']['median']:.2f}x" if agg.get("cold_cpu") else ""),
                        "met": agg["cold"]["median"] >= 3})
        targets.append({"goal": "kept case corpus (warm cache, a restored CI cache) >= 5x schemathesis per case",
                        "measured": f"median {agg['warm']['median']:.2f}x [{agg['warm']['min']:.2f}-{agg['warm']['max']:.2f}]"
                                    + (f"; CPU {agg['warm_cpu']['median']:.2f}x" if agg.get("warm_cpu") else ""),
                        "met": agg["warm"]["median"] >= 5})
        if det:
            s = det["summary"]
            targets.append({"goal": "... with equal or better drift detection",
                            "measured": f"{s['apiconform_detected']} vs {s['schemathesis_detected']} of {s['scenarios']}",
                            "met": s["apiconform_detected"] >= s["schemathesis_detected"]})
    pc = results.get("per_case")
    if pc:
        targets.append({"goal": "per-case cost <= 5x the in-process floor, cold case cache",
                        "measured": f"cold {pc['cold_case_ms']:.2f} ms vs {pc['floor_ms']:.2f} ms = {pc['cold_ratio']:.2f}x "
                                    f"(warm {pc['case_ms']:.2f} ms = {pc['ratio']:.2f}x)",
                        "met": pc["cold_ratio"] <= 5})
    if det:
        firsts = sorted(r["apiconform"]["time_to_first_finding"] for r in det["rows"]
                        if r["drifts"] and r["apiconform"]["detected"] and r["apiconform"]["time_to_first_finding"])
        if firsts:
            worst, median = firsts[-1], firsts[len(firsts) // 2]
            targets.append({"goal": "time to first finding on a drifted mock (from process start): <= 3 s",
                            "measured": f"median {median:.2f} s, worst {worst:.2f} s over {len(firsts)} drifts (cold cache)",
                            "met": worst <= 3})
    results["targets"] = targets


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not >= 1")
    return value


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_engine":
        _ensure_venv()
        engine_main(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer vendors, operations, drifts and examples")
    parser.add_argument("--only", action="append",
                        choices=["gate", "throughput", "detection", "scaling", "fidelity", "false-positives",
                                 "reliability", "real-apis", "upgrade", "client-fidelity"],
                        help="run only these sections (repeatable; default all)")
    parser.add_argument("--drift", action="append", help="drift scenarios for the detection section (repeatable; "
                        "NAME or NAME,NAME for a combination)")
    parser.add_argument("--row", action="append", metavar="TEXT",
                        help="throughput rows whose name contains TEXT only, e.g. `--row GET-only` or `--row prefect` "
                             "(repeatable; default every row)")
    parser.add_argument("--examples", type=int, default=None, help="examples per operation for the throughput section")
    parser.add_argument("--runs", type=_positive, default=None,
                        help="rounds per throughput selection (each tool once per round, a new seed each; default 5, "
                             "quick 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "benchmark.json", help="JSON output")
    parser.add_argument("--results-md", type=Path, default=None,
                        help="also write the human-readable figures there (benchmarks/RESULTS.md is committed)")
    args = parser.parse_args()
    _ensure_venv()
    plan = make_plan(args)
    byte_compile()
    results: dict[str, Any] = {
        "schema": "apiconform.benchmark/1", "mode": "quick" if plan.quick else "full",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_at_start": _loadavg()},
        "versions": _versions(), "plan": {k: v for k, v in plan.__dict__.items()},
    }
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="apiconform-bench-") as name:
        tmp = Path(name)
        for section, fn in (("gate", section_gate), ("throughput", section_throughput),
                            ("detection", section_detection), ("scaling", section_scaling),
                            ("fidelity", section_fidelity), ("false-positives", section_false_positives),
                            ("reliability", section_reliability), ("real-apis", section_real_apis),
                            ("upgrade", section_upgrade), ("client-fidelity", section_client_fidelity)):
            if section in plan.sections:
                print(f"[{section}]", flush=True)
                t0 = time.perf_counter()
                results[section] = fn(plan, tmp)
                results[section]["section_s"] = time.perf_counter() - t0
    results["total_s"] = time.perf_counter() - began
    results["machine"]["loadavg_at_end"] = _loadavg()
    derive(results, plan)
    text = render(results)
    if "client-fidelity" in results:
        text += "\n" + render_client_fidelity(results["client-fidelity"])
    print(text)
    if "fidelity" in results:
        print(render_fidelity(results["fidelity"]))
    print(f"\ntotal benchmark time {results['total_s']:.0f} s; load average at start/end "
          f"{results['machine']['loadavg_at_start']} / {results['machine']['loadavg_at_end']} on {os.cpu_count()} CPUs "
          f"(figures are only comparable on an otherwise idle machine); JSON: {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    if args.results_md is not None:
        write_results_md(args.results_md, results, text)


def byte_compile() -> None:
    """Both tools as installed: pip byte-compiles schemathesis (and every dependency) when it installs it; an
    editable apiconform checkout has no bytecode, and under PYTHONDONTWRITEBYTECODE every measured process would
    compile all of apiconform from source. Compile it once, as `make setup` and pip do."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True, stdout=subprocess.DEVNULL)


def write_results_md(path: Path, results: dict[str, Any], text: str) -> None:
    """The committed, human-readable figures: machine, date, load, then every table this run printed."""
    m = results["machine"]
    head = [
        "# Benchmark results",
        "",
        f"Regenerated by `python benchmarks/run.py {'--quick ' if results['mode'] == 'quick' else ''}"
        f"--results-md benchmarks/RESULTS.md` on {results['started']} ({results['mode']} mode).",
        f"Machine: {m['cpus']} CPUs, {m['platform']}, Python {m['python']}; load average at start "
        f"{m['loadavg_at_start']}, at end {m['loadavg_at_end']} (figures are comparable only on an idle machine; "
        "ratios measured side by side in one run are what count).",
        f"Versions: {', '.join(f'{k} {v}' for k, v in results['versions'].items())}. Total time {results['total_s']:.0f} s. "
        "Both tools run byte-compiled, as pip installs them (`make setup` compiles the editable checkout).",
        "",
        "```",
        text.strip("\n"),
        "```",
        "",
    ]
    path.write_text("\n".join(head), encoding="utf-8")


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("apiconform", "schemathesis", "hypothesis", "pytest", "httpx", "uvicorn"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "?"
    return out


if __name__ == "__main__":
    main()
