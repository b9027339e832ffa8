"""`benchmarks/run.py --only real-apis`: apiconform and the schemathesis CLI side by side on real third-party
servers (../shared/real-apis kits), each from the description the running server serves, both with HTTP Basic.

Per kit: start + seed the server (tests/real/realapi_server.py), `apiconform init KIT --from-openapi SPEC_URL`
(apiconform with an empty APICONFORM_CACHE_DIR of its own: cold, as on a fresh CI runner), then the same read-only work for both tools: GET operations only (a live vendor is never written to here),
the same examples per operation. Both tools' findings are triaged one by one against committed, reviewable data:
apiconform's by fingerprint in tests/real/realapis/<kit>/deviations.yaml (each a true deviation with its evidence;
a tool error is fixed, never listed), schemathesis' by the rules of tests/real/realapis/<kit>/schemathesis.yaml
(each failure's check, status, operation and headers -> a true deviation class or a false positive). Figures:
distinct true deviations (classes), false positives, findings nobody triaged, root causes, wall time, and the lines
each tool prints (what a person reads). Every figure comes with the command that reproduces it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
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


def _deviations(kit: str) -> dict[str, dict[str, Any]]:
    import yaml

    path = ROOT / "tests" / "real" / "realapis" / kit / "deviations.yaml"
    return {e["fingerprint"]: e for e in yaml.safe_load(path.read_text())["deviations"]} if path.is_file() else {}


def _st_rules(kit: str) -> list[dict[str, Any]]:
    import yaml

    path = ROOT / "tests" / "real" / "realapis" / kit / "schemathesis.yaml"
    return list(yaml.safe_load(path.read_text())["rules"]) if path.is_file() else []


def _st_failures(report_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """Every failed check of the schemathesis run (ndjson report): label, check, status, the header names sent."""
    failures: list[dict[str, Any]] = []
    requests = 0
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            scenario = json.loads(line).get("ScenarioFinished")
            if not scenario:
                continue
            recorder = scenario.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            requests += len(interactions)
            for case_id, checks in (recorder.get("checks") or {}).items():
                sent = interactions.get(case_id) or {}
                for check in checks:
                    if check.get("status") == "failure":
                        failures.append({"label": recorder.get("label", "?"), "check": check.get("name", "?"),
                                         "status": (sent.get("response") or {}).get("status_code"),
                                         "headers": sorted((sent.get("request") or {}).get("headers") or {})})
    return failures, requests


def _matches(rule: dict[str, Any], failure: dict[str, Any]) -> bool:
    import re

    match = rule.get("match") or {}
    checks = match.get("check")
    if checks is not None and failure["check"] not in (checks if isinstance(checks, list) else [checks]):
        return False
    if "status" in match and failure["status"] != match["status"]:
        return False
    if "label" in match and not re.fullmatch(str(match["label"]), failure["label"]):
        return False
    sent = {h.lower() for h in failure["headers"]}
    return not match.get("headers") or any(h.lower() in sent for h in match["headers"])


def triage_schemathesis(kit: str, failures: list[dict[str, Any]]) -> dict[str, Any]:
    """schemathesis' failures classified by the kit's committed rules: true deviation classes, false positives, and
    failures no rule explains (not triaged)."""
    rules = _st_rules(kit)
    classes: set[str] = set()
    false_positives = untriaged = 0
    for failure in failures:
        rule = next((r for r in rules if _matches(r, failure)), None)
        if rule is None:
            untriaged += 1
        elif rule.get("verdict") == "deviation":
            classes.add(str(rule["class"]))
        else:
            false_positives += 1
    return {"classes": sorted(classes), "false_positives": false_positives, "untriaged": untriaged}


def triage_apiconform(kit: str, run: dict[str, Any]) -> dict[str, Any]:
    """apiconform's findings against the kit's triaged list: true deviation classes (`defect`), unlisted findings."""
    listed = _deviations(kit)
    found = {f["fingerprint"] for c in run.get("cases", []) for f in c["findings"]}
    return {"classes": sorted({str(listed[fp].get("defect", fp)) for fp in found & set(listed)}),
            "false_positives": 0, "untriaged": len(found - set(listed))}


def _lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def run_kit(kit: str, tmp: Path, measure: Any) -> dict[str, Any]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("realapi_server", ROOT / "tests" / "real" / "realapi_server.py")
    assert spec is not None and spec.loader is not None
    realapi_server = importlib.util.module_from_spec(spec)
    sys.modules["realapi_server"] = realapi_server  # dataclasses resolve the module by name
    spec.loader.exec_module(realapi_server)

    if not realapi_server.available(kit):
        return {"skipped": f"kit {kit} not found at {realapi_server.kit_dir(kit)}"}
    server = realapi_server.start(kit, fresh=True)
    try:
        user, password = server.user
        # apiconform starts COLD, as on a fresh CI runner: its own empty cache (cases, parsed documents, clean lints)
        cache = tmp / f"{kit}-apiconform-cache"
        shutil.rmtree(cache, ignore_errors=True)
        env = {**server.env(), "APICONFORM_SPEC_PASSWORD": password, "APICONFORM_CACHE_DIR": str(cache)}
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
        ours_triage = triage_apiconform(kit, run)
        report_dir = tmp / f"{kit}-st"
        shutil.rmtree(report_dir, ignore_errors=True)
        st_cmd = [str(BIN / "st"), "run", server.spec_url, "--url", server.base_url, "-a", f"{user}:{password}",
                  "-n", str(EXAMPLES[kit]), "--phases", "fuzzing", "--include-method", "GET", "--no-shrink", "-w", "1",
                  "--seed", str(ST_SEED), "--no-color", "--generation-database", "none", "--report", "ndjson",
                  "--report-dir", str(report_dir)]
        theirs = measure(st_cmd, env=env, cwd=tmp)
        failures, st_requests = _st_failures(report_dir)
        by_check: dict[str, int] = {}
        for failure in failures:
            by_check[failure["check"]] = by_check.get(failure["check"], 0) + 1
        st_triage = triage_schemathesis(kit, failures)
        return {
            "server": {"kit": kit, "timings": server.timings, "spec_url": server.spec_url.replace(str(server.port), "PORT")},
            "import_s": imported.wall,
            "apiconform": {"rc": ours.rc, "wall": ours.wall, "cpu": ours.cpu, "cache": "cold (empty APICONFORM_CACHE_DIR)",
                           "findings": len(fps), "true_deviations": ours_triage["classes"],
                           "false_positives": ours_triage["false_positives"], "untriaged": ours_triage["untriaged"],
                           "root_causes": _groups(run), "lines": _lines(ours.stdout + ours.stderr),
                           "cases": sum(1 for c in run.get("cases", []) if not c.get("skipped")),
                           "error": (ours.stdout + ours.stderr)[-400:] if ours.rc not in (0, 1) else None,
                           "requests": sum(c.get("requests", 0) for c in run.get("cases", [])),
                           "command": f"apiconform run {kit} --contracts CONTRACTS --target {kit}=BASE --max-examples "
                                      f"{EXAMPLES[kit]} --rate 200 --max-requests 20000 --no-allure --workers 1"},
            "schemathesis": {"rc": theirs.rc, "wall": theirs.wall, "cpu": theirs.cpu, "failures": len(failures), "by_check": by_check,
                             "true_deviations": st_triage["classes"], "false_positives": st_triage["false_positives"],
                             "untriaged": st_triage["untriaged"], "lines": _lines(theirs.stdout + theirs.stderr),
                             "requests": st_requests, "command": " ".join(st_cmd[1:]).replace(password, "***")
                             .replace(server.spec_url, "SPEC_URL").replace(server.base_url, "BASE"),
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
            rows.append([kit, r.get("skipped") or r.get("error"), "", "", "", "", "", "", "", ""])
            continue
        a, s = r["apiconform"], r["schemathesis"]
        rows.append([f"{kit} apiconform", f"{a['wall']:.0f}", f"{a.get('cpu', 0):.1f}", a["requests"], a["findings"],
                     f"{len(a['true_deviations'])}: {', '.join(a['true_deviations'])}", a["false_positives"],
                     a["untriaged"], a["root_causes"], a["lines"]])
        rows.append([f"{kit} schemathesis", f"{s['wall']:.0f}", f"{s.get('cpu', 0):.1f}", s["requests"], s["failures"],
                     f"{len(s['true_deviations'])}: {', '.join(s['true_deviations'])}", s["false_positives"],
                     s["untriaged"], len(s["by_check"]), s["lines"]])
    return table("Real third-party APIs from their own descriptions (read-only, GET only for schemathesis; "
                 "apiconform cold: an empty cache)",
                 ["tool", "wall s", "CPU s", "requests", "findings", "true deviations (classes)", "false positives",
                  "not triaged", "root causes / checks", "lines printed"], rows)


if __name__ == "__main__":  # pragma: no cover - run through benchmarks/run.py --only real-apis
    print("use: python benchmarks/run.py --only real-apis", file=sys.stderr)
    raise SystemExit(os.EX_USAGE if hasattr(os, "EX_USAGE") else 2)
