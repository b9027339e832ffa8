"""The gate against the REAL TeSLA CE 1.0.10 server, read-only and with --allow-writes.

Acceptance (issue 11): every finding is a known, investigated vendor deviation listed in
contracts/tesla-ce/deviations.yaml; with the committed baseline (contracts/tesla-ce/real-baseline.yaml,
the same list as waivers) both runs exit 0, and without it they report exactly the listed deviations.
A new finding (a vendor change, or a tool error) fails here with its fingerprint and message.
Credentials reach the gate only through the documented default env vars; no config file is used.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from .tesla_server import REPO, TeslaServer

DEVIATIONS = REPO / "contracts" / "tesla-ce" / "deviations.yaml"
BASELINE = REPO / "contracts" / "tesla-ce" / "real-baseline.yaml"
APICONFORM = str(Path(sys.executable).with_name("apiconform"))
# loopback to a throw-away server: a higher rate and budget than the live defaults (5/s, 200)
FAST = ["--rate", "100", "--max-requests", "5000", "--no-allure", "--no-progress"]


def listed(mode: str) -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load(DEVIATIONS.read_text())["deviations"]
    return {e["fingerprint"]: e for e in entries if mode in e["modes"]}


def gate(server: TeslaServer, workdir: Path, *extra: str) -> tuple[int, dict[str, Any], str, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    done = subprocess.run([APICONFORM, "run", "tesla-ce", "--target", server.target, *FAST,
                           "--reports-dir", str(workdir / "reports"), "--baseline", str(BASELINE), *extra],
                          cwd=workdir, env=server.env(), capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - began
    run = json.loads((workdir / "reports" / "run.json").read_text()) if (workdir / "reports" / "run.json").is_file() else {}
    return done.returncode, run, done.stdout + done.stderr, elapsed


def findings(run: dict[str, Any]) -> dict[str, str]:
    return {f["fingerprint"]: f"{c['operation']} [{f['category']}] {f['message'][:120]}"
            for c in run.get("cases", []) for f in c["findings"]}


def test_seeded_lists_are_not_empty(tesla_real: TeslaServer) -> None:
    """The fixture really seeded the provider's data (through the vendor's models), visible through its API."""
    import httpx

    headers = {"Authorization": f"JWT {tesla_real.login()}"}
    base = f"{tesla_real.base_url}/api/v2/provider/{tesla_real.credentials['provider_id']}/"
    learner = tesla_real.seeded["learners"][0]
    sample = tesla_real.seeded["samples"][0]
    for path in ("enrolment/", "notification/", "request/", f"enrolment/{learner}/sample/",
                 f"enrolment/{learner}/sample/{sample}/validation/"):
        answer = httpx.get(base + path, headers=headers, timeout=20)
        assert answer.status_code == 200 and answer.json()["count"] > 0, (path, answer.status_code, answer.text[:200])


def _stable(value: Any) -> Any:
    """A record as compared before and after a run: a presigned S3 URL (the files are on an S3 stand-in) carries a
    fresh signature and expiry on every answer, so its query is left out."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str) and value.startswith("http") and "Signature=" in value:
        return value.split("?", 1)[0]
    return value


def snapshot(server: TeslaServer) -> dict[str, list[str]]:
    """Every list operation of the contract, for every seeded parent: each record as canonical JSON."""
    import httpx

    from apiconform.contracts import load_contract

    headers = {"Authorization": f"JWT {server.login()}"}
    provider, seeded = str(server.credentials["provider_id"]), server.seeded
    pairs = [(learner, sample) for learner in seeded["learners"] for sample in seeded["samples"]]
    lists: dict[str, list[str]] = {}
    for op in load_contract("tesla-ce"):
        if op.action != "list" or op.method != "get":
            continue
        names = op.path_params()
        combos = [()] if not names else [(provider,)] if len(names) == 1 else \
            [(provider, learner) for learner in seeded["learners"]] if len(names) == 2 else \
            [(provider, learner, str(sample)) for learner, sample in pairs]
        for values in combos:
            path = op.path
            for name, value in zip(names, values):
                path = path.replace("{" + name + "}", str(value))
            answer = httpx.get(server.base_url + path, headers=headers, params={"limit": 1000}, timeout=30)
            body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else answer.text
            items = body.get("results", body) if isinstance(body, dict) else body
            lists[path] = sorted(json.dumps(_stable(i), sort_keys=True) for i in items) if isinstance(items, list) \
                else [f"{answer.status_code}"]
    return lists


@pytest.mark.parametrize("mode", ["read-only", "writes"])  # read-only first
def test_gate_reports_exactly_the_listed_vendor_deviations(tesla_real: TeslaServer, tmp_path: Path, mode: str) -> None:
    before = snapshot(tesla_real)
    code, run, output, elapsed = gate(tesla_real, tmp_path, *(["--allow-writes"] if mode == "writes" else []))
    print(f"gate {mode}: {elapsed:.0f} s, exit {code}")
    assert run, output[-3000:]
    # issue 23: the vendor's records are as they were, but for what the summary lists as left behind
    after, left = snapshot(tesla_real), run.get("writes", {}).get("tesla-ce", {}).get("left_behind", [])
    changed = {path: (sorted(set(before[path]) - set(after.get(path, []))), sorted(set(after.get(path, [])) - set(before[path])))
               for path in before if before[path] != after.get(path)}
    assert not changed or left, f"the {mode} run changed records it did not list as left behind: {changed}"
    assert not left, f"the {mode} run left records behind: {left}"
    if mode == "writes":
        writes = run["writes"]["tesla-ce"]
        assert writes["policy"] == "own" and writes["created"] > 0 and writes["deleted"] == writes["created"], writes
    found, expected = findings(run), listed(mode)
    new = {fp: text for fp, text in found.items() if fp not in expected}
    gone = {fp: e["operation"] for fp, e in expected.items() if fp not in found}
    assert not new, f"findings not in {DEVIATIONS.name} (a vendor change or a tool error): {json.dumps(new, indent=1)}"
    assert not gone, f"listed deviations the {mode} run no longer shows: {gone}"
    assert code == 0, output[-3000:]  # every finding is waived by the committed baseline
    ran = [c for c in run["cases"] if not c.get("skipped")]
    # writes: 83 cases on 1.0.10 (under the write policy "own", the writes on seeded records it cannot re-create --
    # verification requests, enrolments and validations, whose creates it refuses -- are skipped with the reason)
    assert len(ran) >= (30 if mode == "read-only" else 80), "the run must really test the vendor"
    assert "reproduce: apiconform run tesla-ce --target=tesla-ce=" in output
    documented_success(workdir=tmp_path, output=output, mode=mode)


# issue 26: the operations that never get their documented success on 1.0.10 (the seed of seed_tesla.py, files on S3),
# exactly: 14 of 33 got it with writes before the run's requests named real records (the docs' placeholder learner,
# ids made up next to listed ones); now 22. The 11 left, each listed by the run with why: the vendor's val_create
# defect (no validation of the run's own can be made, so none of its writes runs), verification results no provider
# can create (writes refused under "own"), provider credentials refused on list_providers and the auth flow's own
# login/refresh (both "expected:" by the contract). unlock_provider_enrolment gets its 200 from the lifecycle, which
# follows the create answer's link with its requestBody (the token the create locked the model with); its
# properties case got it too in 5 of 6 runs on 2026-12-07 round 4 (in the other its first case went without the
# link body: 403, not isolated), which is why the count was 21 or 22 before the lifecycle followed the link.
NEVER_SUCCEEDED = {
    "writes": {"create_provider_enrolment_sample_validation", "update_provider_enrolment_sample_validation",
               "partial_update_provider_enrolment_sample_validation", "delete_provider_enrolment_sample_validation",
               "status_provider_enrolment_sample_validation", "update_provider_request", "partial_update_provider_request",
               "status_provider_request", "list_providers", "login_approle", "refresh_token"},
}
NEVER_SUCCEEDED["read-only"] = NEVER_SUCCEEDED["writes"] | {  # every write is skipped read-only
    "create_provider_enrolment", "update_provider_enrolment", "partial_update_provider_enrolment",
    "delete_provider_enrolment", "unlock_provider_enrolment", "create_provider_notification",
    "update_provider_notification", "partial_update_provider_notification", "delete_provider_notification"}


def documented_success(workdir: Path, output: str, mode: str) -> None:
    """Every operation documenting a 2xx that never answered one is listed, in coverage.json and in the summary, and
    they are exactly the ones known (none more, none fewer); those the contract rules out say so ("expected")."""
    coverage = json.loads((workdir / "reports" / "coverage.json").read_text())["vendors"]["tesla-ce"]
    success, operations = coverage["documented_success"], coverage["operations"]
    missing = {label for label, o in operations.items() if any(d.startswith("2") for d in o["documented_statuses"])
               and not any(str(s).startswith("2") for s in o["seen_statuses"])}
    assert {n["operation"] for n in success["never"]} == missing and success["operations"] == 33
    line = next(x for x in output.splitlines() if "never got a documented success" in x)
    assert all(f"{label} " in line for label in missing), line
    print(f"{mode}: {success['observed']} of {success['operations']} operations got their documented success")
    assert missing == NEVER_SUCCEEDED[mode], (sorted(missing - NEVER_SUCCEEDED[mode]), sorted(NEVER_SUCCEEDED[mode] - missing))
    expected = {n["operation"] for n in success["never"] if n["expected"]}
    assert expected == {"list_providers", "login_approle", "refresh_token"}, success["never"]
