"""The gate against REAL third-party servers it was never fitted to (../shared/real-apis kits), from the
description each server serves: `apiconform init VENDOR --from-openapi <spec_url>` (Kinto: Swagger 2.0 with no
security declared; Prefect: OpenAPI 3.1 served only with HTTP Basic), then `apiconform run` read-only and
with --allow-writes.

Acceptance (issue 24): every finding is an investigated server deviation listed, with its evidence, in
tests/real/realapis/<kit>/deviations.yaml; with the committed baseline (baseline.yaml, the same fingerprints)
both runs exit 0. A finding not listed (a server change, or a tool error) fails here with its fingerprint.
Issue 23: the Kinto writes run is an unrestricted `--allow-writes` under the default write policy `own`; every list
of the imported contract (path parameters filled from the seeded ids) is equal before and after it but for what
run.json lists as left behind, and every account still logs in.
Prefect runs a bounded selection (--max-examples, see BUDGET) to keep CI time down; README says how long.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import yaml

from .realapi_server import RealApi

HERE = Path(__file__).resolve().parent / "realapis"
APICONFORM = str(Path(sys.executable).with_name("apiconform"))
FAST = ["--rate", "200", "--max-requests", "20000", "--no-allure", "--no-progress", "--workers", "1"]
BUDGET = {"kinto": ["--max-examples", "5"], "prefect": ["--max-examples", "2"]}
#: a GET that answers 200 only to valid credentials; whether the server logs every request it serves (Kinto does;
#: Prefect logs no access lines, so only the records' survival is checked there)
LOGIN_PROBE = {"kinto": "/", "prefect": "/admin/version"}
LOGS_REQUESTS = {"kinto": True, "prefect": False}
# the writes run: lifecycles and valid writes (negatives ran read-only), unrestricted: every operation of the imported
# contract, under the default write policy `own` (issue 23; before it, such a run deleted Kinto's login accounts)
WRITES = ["--suite", "stateful,properties", "--allow-writes"]


def import_contract(server: RealApi, contracts: Path) -> subprocess.CompletedProcess[str]:
    user, password = server.user
    env = {**server.env(), "APICONFORM_SPEC_PASSWORD": password}
    return subprocess.run([APICONFORM, "init", server.kit, "--from-openapi", server.spec_url, "--user", user,
                           "--dir", str(contracts)], env=env, capture_output=True, text=True, timeout=300)


def listed(kit: str, mode: str) -> dict[str, dict[str, Any]]:
    entries = yaml.safe_load((HERE / kit / "deviations.yaml").read_text())["deviations"]
    return {e["fingerprint"]: e for e in entries if mode in e["modes"]}


def gate(server: RealApi, contracts: Path, workdir: Path, *extra: str) -> tuple[int, dict[str, Any], str, float]:
    began = time.monotonic()
    done = subprocess.run([APICONFORM, "run", server.kit, "--contracts", str(contracts),
                           "--target", f"{server.kit}={server.base_url}", *FAST, *BUDGET[server.kit],
                           "--reports-dir", str(workdir / "reports"),
                           "--baseline", str(HERE / server.kit / "baseline.yaml"), *extra],
                          cwd=workdir, env=server.env(), capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - began
    record = workdir / "reports" / "run.json"
    return done.returncode, json.loads(record.read_text()) if record.is_file() else {}, done.stdout + done.stderr, elapsed


def list_paths(openapi: Path) -> list[str]:
    """Every list operation of the imported contract (a safe GET the importer classed `x-apiconform-action: list`)."""
    doc = yaml.safe_load(openapi.read_text())
    return sorted((p for p, item in doc["paths"].items()
                   if isinstance(item, dict) and (item.get("get") or {}).get("x-apiconform-action") == "list"),
                  key=lambda p: (p.count("/"), p))


def snapshot(server: RealApi, templates: list[str]) -> dict[str, dict[str, str]]:
    """Each list as the first user sees it (path -> record id -> record), path parameters filled with the ids the
    parent list holds (`/buckets/{bucket_id}/collections` for every bucket of `/buckets`), an error as its status."""
    lists: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=server.base_url.rstrip("/"), auth=server.user, timeout=30) as client:
        def visit(segments: list[str], done: list[str]) -> None:
            for i in range(len(done), len(segments)):
                if segments[i].startswith("{"):
                    parent = "/" + "/".join(done + segments[len(done):i])
                    for record_id in lists.get(parent, {}):
                        if not record_id.startswith("status "):
                            visit(segments, done + segments[len(done):i] + [record_id])
                    return
            path = "/" + "/".join(done + segments[len(done):])
            answer = client.get(path)
            body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else None
            items = body.get("data") if isinstance(body, dict) else body
            if answer.status_code != 200 or not isinstance(items, list):
                lists[path] = {f"status {answer.status_code}": answer.text[:200]}
                return
            # records only: an item without an id is a row the server computes (Prefect's /observed-states: last_seen
            # moves with its own scheduler), not a record anyone could have written
            lists[path] = {str(i["id"]): json.dumps(i, sort_keys=True) for i in items if isinstance(i, dict) and "id" in i}
        for template in templates:
            visit([s for s in template.split("/") if s], [])
    return lists


def _templates(openapi: Path) -> tuple[list[str], set[str], set[str]]:
    """The imported contract's path templates, its collections (a template with an item template one parameter below)
    and the POSTs it declares queries (`x-apiconform-safe`)."""
    doc = yaml.safe_load(openapi.read_text())
    paths = [p for p, item in doc["paths"].items() if isinstance(item, dict)]
    collections = {p.rstrip("/") for p in paths if any(re.fullmatch(re.escape(p.rstrip("/")) + r"/\{[^/}]+\}/?", q)
                                                       for q in paths)}
    safe = {p for p in paths if (doc["paths"][p].get("post") or {}).get("x-apiconform-safe") is True}
    return paths, collections, safe


def _fits(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template.rstrip("/"))), path.rstrip("/")) is not None


def existing_records(server: RealApi, openapi: Path, lists: dict[str, dict[str, str]]) -> set[str]:
    """Every record the server holds before the run, as its base-relative path: each list's items
    (`/buckets/cookbook/collections/recipes`), and the items a declared query (`POST /flows/filter {}`) answers
    where the contract has their item path (`/flows/{id}`)."""
    keys = {f"{path.rstrip('/')}/{rid}" for path, items in lists.items() for rid in items if not rid.startswith("status ")}
    paths, collections, safe = _templates(openapi)
    with httpx.Client(base_url=server.base_url.rstrip("/"), auth=server.user, timeout=30) as client:
        for query in sorted(p for p in safe if "{" not in p):
            parent = query.rstrip("/").rsplit("/", 1)[0]
            if parent not in collections:
                continue
            answer = client.post(query, json={})
            items = answer.json() if answer.status_code == 200 else None
            keys |= {f"{parent}/{i['id']}" for i in items if isinstance(i, dict) and "id" in i} \
                if isinstance(items, list) else set()
    return keys


def log_offset(server: RealApi) -> int:
    return server.log().stat().st_size if server.log().is_file() else 0


def writes_sent(server: RealApi, offset: int) -> list[tuple[str, str]]:
    """The writes (method, base-relative decoded path) the server logged since `offset`: what really reached it."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", server.log().read_bytes()[offset:].decode("utf-8", "replace"))
    base = httpx.URL(server.base_url).path.rstrip("/")
    return [(method, unquote(path)[len(base):] if unquote(path).startswith(base) else unquote(path))
            for method, path in re.findall(r'"(POST|PUT|PATCH|DELETE)\s+([^\s"?]+)', text)]


def foreign_writes(writes: list[tuple[str, str]], existing: set[str], openapi: Path) -> list[str]:
    """Writes that reached records the run did not create (issue 23/24 write policy `own`, checked on the server's
    own log, not on apiconform's account of itself): a write on or under a record that existed before the run (but a
    create into its collection), a write on a whole collection at the top or under such a record (but a create), and
    a POST addressing no record that the contract does not declare a query (a batch, a bulk action: its body may
    address any record)."""
    paths, collections, safe = _templates(openapi)
    bad = []
    for method, path in writes:
        path = path.rstrip("/") or "/"
        collection = any(_fits(c, path) for c in collections)
        if method == "POST" and (collection or any(_fits(q, path) for q in safe)):
            continue  # a create into a collection, or a declared query
        if any(path == k or path.startswith(k + "/") for k in existing):
            bad.append(f"{method} {path}: a record that existed before the run")
        elif collection and (path.count("/") < 2 or path.rsplit("/", 1)[0] in existing):
            bad.append(f"{method} {path}: a whole collection of records that existed before the run")
        elif not any(_fits(t, path) and "{" in t for t in paths):
            bad.append(f"{method} {path}: addresses no record (its body decides what it changes)")
    return sorted(set(bad))


#: what the kit's server logs when a finding is its documented environment artifact, not the vendor's code (the
#: Prefect kit's README: SQLite's "database is locked" under the background services' writes -> 503, or the
#: connection reset when the error escapes Prefect's handler; rare on an idle machine, frequent under load)
ENV_ARTIFACT = {"prefect": "database is locked"}
#: a connection dropped before any answer, as httpx words it (the socket reset, or closed without a response)
RESETS = ("Connection reset", "Server disconnected without sending a response")


def environment_artifacts(server: RealApi, run: dict[str, Any], offset: int) -> dict[str, str]:
    """Findings (fingerprint -> operation) that are a 503 or a connection reset while the server logged the kit's
    documented environment artifact during the run: never counted as deviations, never waived."""
    marker = ENV_ARTIFACT.get(server.kit)
    if marker is None or marker not in server.log().read_bytes()[offset:].decode("utf-8", "replace"):
        return {}
    return {f["fingerprint"]: c["operation"] for c in run.get("cases", []) for f in c["findings"]
            if (f["category"] == "server-error" and f.get("status") == 503)
            or (f["category"] == "transport" and any(reset in f["message"] for reset in RESETS))}


def _changed(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    diff = {"gone": sorted(set(before) - set(after)), "new": sorted(set(after) - set(before)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k])}
    return {k: v for k, v in diff.items() if v}


def _listed(path: str, diff: dict[str, list[str]], left: list[dict[str, Any]]) -> bool:
    """Every change of the list at `path` is a record run.json lists as left behind."""
    ids = {str(r.get("id")) for r in left if path in str(r.get("url", ""))}
    return all(record_id in ids for changes in diff.values() for record_id in changes)


def findings(run: dict[str, Any]) -> dict[str, str]:
    return {f["fingerprint"]: f"{c['operation']} [{f['category']}] {f['message'][:160]} | {f.get('curl', '')[:300]}"
            for c in run.get("cases", []) for f in c["findings"]}


_IMPORTED: dict[tuple[str, int], Path] = {}


def imported_contracts(server: RealApi, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The contract imported from the description this server serves, once per server (its tests share it)."""
    key = (server.kit, server.port)
    if key not in _IMPORTED:
        contracts = tmp_path_factory.mktemp(f"{server.kit}-contracts")
        imported = import_contract(server, contracts)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        source = (contracts / server.kit / "SOURCE.md").read_text()
        assert "sha256:" in source and server.spec_url in source and server.user[1] not in source
        _IMPORTED[key] = contracts
    return _IMPORTED[key]


def _gate_matches_the_list(server: RealApi, tmp_path: Path, mode: str, contracts: Path) -> None:
    workdir = tmp_path / mode
    workdir.mkdir(parents=True)
    lists = list_paths(contracts / server.kit / "openapi.yaml") if mode == "writes" else []
    before = snapshot(server, lists)
    existing = existing_records(server, contracts / server.kit / "openapi.yaml", before) if mode == "writes" else set()
    offset = log_offset(server)
    code, run, output, elapsed = gate(server, contracts, workdir, *(WRITES if mode == "writes" else []))
    writes = run.get("writes", {}).get(server.kit, {})
    print(f"{server.kit} gate {mode}: {elapsed:.0f} s, exit {code}, timings {server.timings}"
          + (f", writes: {writes['created']} created, {writes['deleted']} deleted, {len(writes['left_behind'])} left behind, "
             f"{writes['refused_requests']} refused" if mode == "writes" and writes else ""))
    assert run, output[-3000:]
    if mode == "writes":  # issue 23: the writes run touched only what it created
        # every list of the contract (as the first user) is as it was, but for what run.json lists as left behind
        after, left = snapshot(server, lists), writes.get("left_behind", [])
        changed = {path: diff for path in sorted(set(before) | set(after))
                   if (diff := _changed(before.get(path, {}), after.get(path, {}))) and not _listed(path, diff, left)}
        assert not changed, f"the writes run changed records it did not list as left behind: {json.dumps(changed, indent=1)}"
        for user, password in server.users:  # and every account still logs in
            who = httpx.get(server.base_url.rstrip("/") + LOGIN_PROBE[server.kit], auth=(user, password), timeout=30)
            assert who.status_code == 200, f"{user} no longer logs in: {who.status_code}"
        assert writes["policy"] == "own" and writes["created"] > 0 and writes["refused_requests"] > 0, writes
        # every record that existed before the run still exists (lists and declared queries: Prefect's POST .../filter)
        gone = sorted(existing - existing_records(server, contracts / server.kit / "openapi.yaml", after))
        assert len(existing) > 10 and not gone, f"records that existed before the run are gone: {gone[:20]}"
        # and what reached the server (its own log, where it logs requests) touched no record that existed before the run
        sent = writes_sent(server, offset)
        assert sent or not LOGS_REQUESTS[server.kit], "the server logged no write"
        foreign = foreign_writes(sent, existing, contracts / server.kit / "openapi.yaml")
        assert not foreign, f"writes that reached records the run did not create: {json.dumps(foreign, indent=1)}"
        assert writes["deleted"] + len(writes["left_behind"]) >= writes["created"], writes
    found, expected = findings(run), listed(server.kit, mode)
    artifacts = environment_artifacts(server, run, offset)
    if artifacts:
        print(f"{server.kit} {mode}: {len(artifacts)} findings are the kit's documented environment artifact "
              f"({ENV_ARTIFACT[server.kit]!r} in server.log during the run): {sorted(set(artifacts.values()))}")
    new = {fp: text for fp, text in found.items() if fp not in expected and fp not in artifacts}
    assert not new, (f"findings not in realapis/{server.kit}/deviations.yaml (a server change or a tool error): "
                     f"{json.dumps(new, indent=1)}")
    assert code == 0 or artifacts, output[-3000:]  # every finding is a listed deviation, waived by the committed baseline
    ran = [c for c in run["cases"] if not c.get("skipped")]
    assert len(ran) >= 20, "the run must really test the server"


@pytest.mark.parametrize("mode", ["read-only", "writes"])
def test_kinto_gate_reports_only_listed_deviations(kinto_real: RealApi, tmp_path: Path, mode: str,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    _gate_matches_the_list(kinto_real, tmp_path, mode, imported_contracts(kinto_real, tmp_path_factory))


@pytest.mark.parametrize("mode", ["read-only", "writes"])
def test_prefect_gate_reports_only_listed_deviations(prefect_real: RealApi, tmp_path: Path, mode: str,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    """188 operations (most reads are POST .../filter), a bounded run (BUDGET) for CI time."""
    _gate_matches_the_list(prefect_real, tmp_path, mode, imported_contracts(prefect_real, tmp_path_factory))


@pytest.mark.parametrize("kit", ["kinto", "prefect"])
def test_deviation_lists_and_baselines_agree(kit: str) -> None:
    """Each listed deviation carries its evidence and is waived in the baseline, nothing else is."""
    entries = yaml.safe_load((HERE / kit / "deviations.yaml").read_text())["deviations"]
    waivers = yaml.safe_load((HERE / kit / "baseline.yaml").read_text())["waivers"]
    assert {e["fingerprint"] for e in entries} == {w["fingerprint"] for w in waivers}
    for entry in entries:
        assert entry["kind"] in ("server-defect", "server-deviation") and entry["evidence"] and entry["reason"], entry


def _identity_probe(server: RealApi, contracts: Path, workdir: Path) -> tuple[int, dict[str, Any], str]:
    """The auth tests (negative suite, read-only) as the kit's first user, its second user declared as the other
    identity (`APICONFORM_<VENDOR>_OTHER_*`)."""
    other_user, other_password = server.users[1]
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**server.env(), "APICONFORM_KINTO_OTHER_USERNAME": other_user, "APICONFORM_KINTO_OTHER_PASSWORD": other_password}
    done = subprocess.run([APICONFORM, "run", server.kit, "--contracts", str(contracts), "--target",
                           f"{server.kit}={server.base_url}", *FAST, "--max-examples", "1", "--suite", "negative",
                           "--reports-dir", str(workdir / "reports")], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=600)
    record = workdir / "reports" / "run.json"
    return done.returncode, json.loads(record.read_text()) if record.is_file() else {}, done.stdout + done.stderr


def _probed(run: dict[str, Any]) -> dict[str, list[int]]:
    coverage = run.get("coverage", {}).get("kinto", {}).get("operations", {})
    return {label: o["behaviour"]["auth other-identity"] for label, o in coverage.items()
            if "auth other-identity" in o.get("behaviour", {})}


def test_kinto_another_identity_is_refused_the_first_identitys_records_and_a_leak_fails_the_gate(
        kinto_real: RealApi, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Issue 26 item 2 on a real server: Kinto's second account (alice) asking for the records the first (admin) holds
    in a bucket alice may not read gets 403, the answer the probe expects; once admin grants alice read on that
    bucket (a real permission change through Kinto's API, as a version leaking another caller's data would behave),
    the same run fails the gate with `broken object-level authorization` on every probed operation."""
    contracts = imported_contracts(kinto_real, tmp_path_factory)
    code, run, output = _identity_probe(kinto_real, contracts, tmp_path / "protected")
    probed = _probed(run)
    # the probe asks for the first bucket the first identity lists (inventory, seeded private to admin)
    assert len(probed) >= 5 and all(statuses == [403] for statuses in probed.values()), (probed, output[-2000:])
    assert code == 0 and "gate: PASS" in output, output[-3000:]
    bucket = f"{kinto_real.base_url}/buckets/inventory"
    grant = {"permissions": {"read": [f"account:{kinto_real.users[1][0]}"]}}
    assert httpx.patch(bucket, json=grant, auth=kinto_real.user, timeout=30).status_code == 200
    try:
        code, run, output = _identity_probe(kinto_real, contracts, tmp_path / "leaking")
    finally:
        assert httpx.patch(bucket, json={"permissions": {"read": []}}, auth=kinto_real.user, timeout=30).status_code == 200
    leaked = {c["operation"] for c in run["cases"] for f in c["findings"] if f["check"] == "other_identity"}
    # the probed operations under the bucket now hand alice admin's records; admin's own account stays refused
    assert leaked == set(probed) - {"get_account"} and len(leaked) >= 5 and code == 1, (leaked, probed, output[-3000:])
    assert _probed(run).get("get_account", [403]) == [403], _probed(run)
    assert all("broken object-level authorization" in f["message"] for c in run["cases"] for f in c["findings"]
               if f["check"] == "other_identity")
