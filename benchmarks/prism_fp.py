"""False positives against an independent faithful server: Stoplight Prism serving our own contracts.

    python benchmarks/prism_fp.py [--vendor V ...] [--max-examples N]   # prints the figure, writes JSON

Prism (npm `@stoplight/prism-cli`, installed into .tools/ like the Allure CLI: `make prism`) answers every
request from the contract alone: documented statuses, bodies generated from the schemas, request validation.
Every apiconform finding against it is classified by `classify()`:

- `prism-quirk:<name>`: explained by Prism's documented behaviour (stateless mock, generated data that
  ignores cross-field semantics, annotations it does not enforce); listed in QUIRKS with the reason;
- `apiconform-false-positive`: anything else — a bug of ours to fix (the target is 0).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PRISM = ROOT / ".tools" / "node_modules" / ".bin" / "prism"
VENDORS = ["eduframe", "tesla-ce", "ctrlhub", "goodstack", "cofe-cms"]
CREDENTIALS = {  # Prism checks that credentials are present, never their value
    "eduframe": {"token": "prism-token"},
    "tesla-ce": {"role_id": "prism-role", "secret_id": "prism-secret"},
    "ctrlhub": {"api_key": "prism-key"},
    "goodstack": {"api_key": "prism-key"},
    "cofe-cms": {"api_id": "prism-id", "api_key": "prism-secret"},
}

# Prism's documented behaviour (docs.stoplight.io/docs/prism) that a conformance gate rightly flags on it.
QUIRKS: dict[str, str] = {
    "stateless": "Prism keeps no state: a created record cannot be read back, listed or deleted "
                 "(read_after_write, listed_after_create, gone_after_delete, created ids)",
    "random-data": "dynamic/static responses are built per response from the schema or its example, ignoring the request: "
                   "page sizes, Link targets, echoed fields and counts do not follow the request",
    "annotations": "Prism validates requests with JSON Schema where contentMediaType/contentSchema are annotations, and "
                   "does not run vendor rules (HMAC signatures, AppRole secrets, idempotency): such invalid requests are accepted",
    "auth-presence": "Prism checks only that a security credential is present; a wrong value is accepted",
    "auth-401": "when a credential is missing Prism answers 401 whatever the operation documents (Eduframe documents 403)",
    "error-choice": "for an invalid request Prism answers the first documented 4xx that fits its own validation (or 422), "
                    "not the vendor's choice, often with its own application/problem+json-style body instead of the documented one",
    "static-placeholders": "static response generation fills strings with 'string' and numbers with 0 where the schema has no "
                           "example, ignoring pattern/format/enum (documented: 'Static response generation')",
}
_PLACEHOLDERS = ("string", 0, "0", "user@example.com", "2019-08-24T14:15:22Z", "2019-08-24")


def classify(finding: dict[str, Any], suite: str) -> str:
    check, message = finding["check"], finding["message"]
    if check in ("read_after_write", "listed_after_create", "gone_after_delete", "created_id"):
        return "prism-quirk:stateless"
    if check in ("pagination_conformance", "response_echoes_request"):
        return "prism-quirk:random-data"
    if check == "expected_outcome" and "invalid request accepted" in message:
        return "prism-quirk:annotations"
    if check == "expected_outcome" and "without valid credentials accepted" in message:
        return "prism-quirk:auth-presence"
    if check == "expected_outcome" and "bad credentials answered" in message:
        return "prism-quirk:error-choice"
    if check == "idempotency":
        return "prism-quirk:stateless"
    status = finding.get("status") or 0
    if check == "status_code_documented" and status == 401:
        return "prism-quirk:auth-401"
    if check == "status_code_documented" and status in (400, 422):
        return "prism-quirk:error-choice"  # its own validation answer where the vendor documents none
    if status >= 400 and finding["category"] in ("error-shape", "content-type"):
        return "prism-quirk:error-choice"
    if check == "response_headers_conformance" and finding.get("actual") in _PLACEHOLDERS:
        return "prism-quirk:static-placeholders"
    expected = str(finding.get("expected") or "")
    if check == "response_schema_conformance" and finding.get("actual") in _PLACEHOLDERS and (
            "pattern" in expected or "format" in expected or "enum" in expected or "minimum" in expected):
        return "prism-quirk:static-placeholders"
    return "apiconform-false-positive"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(vendor: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    contract = ROOT / "contracts" / vendor / "openapi.yaml"
    proc = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(contract)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"prism did not start for {vendor}")


def run(vendors: list[str], max_examples: int, suites: str, out: Path) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="apiconform-prism-") as tmp:
        work = Path(tmp)
        lines = []
        env = dict(os.environ)
        for vendor in vendors:
            section = f"[targets.{vendor}]\ncredentials = {{ "
            section += ", ".join(f'{k} = "PRISM_{vendor.upper().replace("-", "_")}_{k.upper()}"' for k in CREDENTIALS[vendor])
            lines.append(section + " }\nmax_requests = 100000\nrate = 1000\n")
            for k, v in CREDENTIALS[vendor].items():
                env[f"PRISM_{vendor.upper().replace('-', '_')}_{k.upper()}"] = v
        (work / "apiconform.toml").write_text("\n".join(lines), encoding="utf-8")
        for vendor in vendors:
            proc, url = _serve(vendor)
            try:
                reports = work / f"reports-{vendor}"
                cmd = [str(Path(sys.executable).with_name("apiconform")), "run", vendor, "--target", f"{vendor}={url}",
                       "--allow-writes", "--suite", suites, "--max-examples", str(max_examples), "--seed", "1",
                       "--no-allure", "--no-progress", "--reports-dir", str(reports)]
                started = time.perf_counter()
                done = subprocess.run(cmd, cwd=work, env={**env, "APICONFORM_CONTRACTS": str(ROOT / "contracts")},
                                      capture_output=True, text=True)
                record = json.loads((reports / "run.json").read_text(encoding="utf-8")) if (reports / "run.json").exists() else {}
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            findings = [(c["suite"], f) for c in record.get("cases", []) for f in c.get("findings", [])]
            distinct: dict[str, dict[str, Any]] = {}
            for suite, f in findings:
                entry = distinct.setdefault(f["fingerprint"], {"finding": f, "suite": suite, "cases": 0})
                entry["cases"] += 1
            classified = [{"operation": e["finding"]["operation"], "check": e["finding"]["check"],
                           "category": e["finding"]["category"], "message": e["finding"]["message"][:200],
                           "status": e["finding"].get("status"), "actual": e["finding"].get("actual"),
                           "expected": e["finding"].get("expected"),
                           "cases": e["cases"], "class": classify(e["finding"], e["suite"])} for e in distinct.values()]
            rows.append({"vendor": vendor, "rc": done.returncode, "wall_s": round(time.perf_counter() - started, 1),
                         "cases": len(record.get("cases", [])), "distinct_findings": len(classified),
                         "false_positives": sum(1 for c in classified if c["class"] == "apiconform-false-positive"),
                         "findings": classified, "stderr_tail": done.stderr[-400:] if done.returncode not in (0, 1) else ""})
    summary = {"server": "Stoplight Prism (@stoplight/prism-cli 5)", "quirks": QUIRKS,
               "distinct_findings": sum(r["distinct_findings"] for r in rows),
               "apiconform_false_positives": sum(r["false_positives"] for r in rows),
               "by_class": {}}
    for r in rows:
        for c in r["findings"]:
            summary["by_class"][c["class"]] = summary["by_class"].get(c["class"], 0) + 1
    result = {"summary": summary, "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", action="append", choices=VENDORS)
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--suite", default="examples,properties,stateful,negative")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "prism-fp.json")
    args = parser.parse_args()
    if not PRISM.exists() or shutil.which("node") is None:
        print("prism not installed: run `make prism` (npm install into .tools/)", file=sys.stderr)
        return 2
    result = run(args.vendor or VENDORS, args.max_examples, args.suite, args.out)
    for r in result["rows"]:
        print(f"{r['vendor']:10} exit {r['rc']}  {r['cases']:4} cases  {r['distinct_findings']:3} distinct findings"
              f"  {r['false_positives']} apiconform false positives  ({r['wall_s']} s)")
        for c in r["findings"]:
            if c["class"] == "apiconform-false-positive":
                print(f"    FP {c['operation']} {c['check']} [{c['category']}] {c['message'][:140]}")
        if r["stderr_tail"]:
            print("    " + r["stderr_tail"].replace("\n", "\n    "))
    s = result["summary"]
    print(f"false positives against Prism: {s['apiconform_false_positives']} of {s['distinct_findings']} distinct findings"
          f" (by class: {s['by_class']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
