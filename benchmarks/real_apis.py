"""`benchmarks/run.py --only real-apis`: apiconform and the schemathesis CLI side by side on real third-party
servers (../shared/real-apis kits), each from the description the running server serves, both with HTTP Basic.

Per kit: start + seed the server (tests/real/realapi_server.py), `apiconform init KIT --from-openapi SPEC_URL`,
then the same read-only work for both tools: GET operations only (a live vendor is never written to here),
the same examples per operation. apiconform's findings are classified against the triaged deviation list of
tests/real/realapis/<kit>/deviations.yaml (listed = a true server deviation, else unexplained); schemathesis'
failures are reported per (operation, check) as it prints them — they are not triaged one by one here (its
`--auth` sends Basic, but it has no read-only mode, so `--include-method GET` keeps both tools on reads).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KITS = ("kinto", "prefect")
EXAMPLES = {"kinto": 5, "prefect": 2}  # as tests/real/test_realapi_gate.py, so its deviation lists apply
ST_SEED = 20261123


def _apiconform(*args: str) -> list[str]:
    return [str(BIN / "apiconform"), *args]


def _groups(run: dict[str, Any]) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from apiconform.findings import Finding
    from apiconform.report._groups import group_findings

    found = [Finding.from_dict(f) for c in run.get("cases", []) for f in c["findings"]]
    return len(group_findings(found))


def _listed(kit: str) -> set[str]:
    import yaml

    path = ROOT / "tests" / "real" / "realapis" / kit / "deviations.yaml"
    return {e["fingerprint"] for e in yaml.safe_load(path.read_text())["deviations"]} if path.is_file() else set()


def _st_failures(report_dir: Path) -> tuple[set[tuple[str, str]], int]:
    failures: set[tuple[str, str]] = set()
    requests = 0
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            scenario = event.get("ScenarioFinished")
            if scenario:
                recorder = scenario.get("recorder") or {}
                requests += len(recorder.get("interactions") or {})
                for checks in (recorder.get("checks") or {}).values():
                    for check in checks:
                        if check.get("status") == "failure":
                            failures.add((recorder.get("label", "?"), check.get("name", "?")))
    return failures, requests


def run_kit(kit: str, tmp: Path, measure: Any) -> dict[str, Any]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("realapi_server", ROOT / "tests" / "real" / "realapi_server.py")
    assert spec is not None and spec.loader is not None
    realapi_server = importlib.util.module_from_spec(spec)
    sys.modules["realapi_server"] = realapi_server  # dataclasses resolve the module by name
    spec.loader.exec_module(realapi_server)

    if not realapi_server.available(kit):
        return {"skipped": f"kit {kit} not found at {realapi_server.kit_dir(kit)}"}
    server = realapi_server.start(kit)
    try:
        user, password = server.user
        env = {**server.env(), "APICONFORM_SPEC_PASSWORD": password}
        contracts = tmp / f"{kit}-contracts"
        shutil.rmtree(contracts, ignore_errors=True)
        imported = measure(_apiconform("init", kit, "--from-openapi", server.spec_url, "--user", user,
                                       "--dir", str(contracts)), env=env, cwd=tmp)
        if imported.rc != 0:
            return {"error": (imported.stdout + imported.stderr)[-600:]}
        reports = tmp / f"{kit}-reports"
        shutil.rmtree(reports, ignore_errors=True)
        ours = measure(_apiconform("run", kit, "--contracts", str(contracts), "--target", f"{kit}={server.base_url}",
                                   "--max-examples", str(EXAMPLES[kit]), "--rate", "200", "--max-requests", "20000",
                                   "--no-allure", "--no-progress", "--workers", "1", "--reports-dir", str(reports)),
                       env=env, cwd=tmp)
        run = json.loads((reports / "run.json").read_text()) if (reports / "run.json").is_file() else {}
        fps = {f["fingerprint"] for c in run.get("cases", []) for f in c["findings"]}
        listed = _listed(kit)
        report_dir = tmp / f"{kit}-st"
        shutil.rmtree(report_dir, ignore_errors=True)
        st_cmd = [str(BIN / "st"), "run", server.spec_url, "--url", server.base_url, "-a", f"{user}:{password}",
                  "-n", str(EXAMPLES[kit]), "--phases", "fuzzing", "--include-method", "GET", "--no-shrink", "-w", "1",
                  "--seed", str(ST_SEED), "--no-color", "--generation-database", "none", "--report", "ndjson",
                  "--report-dir", str(report_dir)]
        theirs = measure(st_cmd, env=env, cwd=tmp)
        failures, st_requests = _st_failures(report_dir)
        by_check: dict[str, int] = {}
        for _label, check in failures:
            by_check[check] = by_check.get(check, 0) + 1
        return {
            "server": {"kit": kit, "timings": server.timings, "spec_url": server.spec_url.replace(str(server.port), "PORT")},
            "import_s": imported.wall,
            "apiconform": {"rc": ours.rc, "wall": ours.wall, "findings": len(fps), "true_deviations": len(fps & listed),
                           "unexplained": len(fps - listed), "root_causes": _groups(run),
                           "cases": sum(1 for c in run.get("cases", []) if not c.get("skipped")),
                           "error": (ours.stdout + ours.stderr)[-400:] if ours.rc not in (0, 1) else None,
                           "requests": sum(c.get("requests", 0) for c in run.get("cases", []))},
            "schemathesis": {"rc": theirs.rc, "wall": theirs.wall, "failures": len(failures), "by_check": by_check,
                             "requests": st_requests, "command": " ".join(st_cmd[1:]).replace(password, "***"),
                             "error": (theirs.stdout + theirs.stderr)[-400:] if theirs.rc not in (0, 1) else None},
        }
    finally:
        server.stop()


def section(plan: Any, tmp: Path, measure: Any) -> dict[str, Any]:
    kits = ["kinto"] if getattr(plan, "quick", False) else list(KITS)
    return {"kits": {kit: run_kit(kit, tmp, measure) for kit in kits}}


def render(result: dict[str, Any], table: Any) -> str:
    rows = []
    for kit, r in result["kits"].items():
        if "skipped" in r or "error" in r:
            rows.append([kit, r.get("skipped") or r.get("error"), "", "", "", "", "", ""])
            continue
        a, s = r["apiconform"], r["schemathesis"]
        rows.append([f"{kit} apiconform", f"{a['wall']:.0f}", a["requests"], a["findings"], a["true_deviations"],
                     a["unexplained"], a["root_causes"], f"import {r['import_s']:.0f} s"])
        rows.append([f"{kit} schemathesis", f"{s['wall']:.0f}", s["requests"], s["failures"], "not triaged", "not triaged",
                     len(s["by_check"]), ", ".join(f"{k} {v}" for k, v in sorted(s["by_check"].items()))])
    return table("Real third-party APIs from their own descriptions (read-only, GET only for schemathesis)",
                 ["tool", "wall s", "requests", "findings", "true deviations (listed)", "unexplained",
                  "root causes / checks", "note"], rows)


if __name__ == "__main__":  # pragma: no cover - run through benchmarks/run.py --only real-apis
    print("use: python benchmarks/run.py --only real-apis", file=sys.stderr)
    raise SystemExit(os.EX_USAGE if hasattr(os, "EX_USAGE") else 2)
