"""`benchmarks/run.py --only upgrade`, second pair: `apiconform upgrade` between two real Kinto releases whose
differences are status codes (issue 26 items 1 and 5).

Kinto 23.0.2 and 26.5.0 run from the kit (../shared/real-apis/kinto, `KINTO_VERSION`), each on a fresh memory
backend seeded by the kit's seed.py; the contract is imported from 26.5.0's own served description (`apiconform init
kinto --from-openapi`); `apiconform upgrade` runs one plan (same seed) against both, every operation, writes on
(the run's own records only).

23.0.2 is installed with the dependency it was released against: `pyramid_multiauth<1.1`. pip would otherwise take
pyramid_multiauth 1.1.0, which Kinto only adopted in 26.3.0 (commit f52f917b, "Migrate to pyramid_multiauth 1.1.0");
with it 23.0.2 authenticates nobody (every call as admin: 401 "Please authenticate yourself"), an artifact of the
install, not of the release.

The ground truth is the vendor's, never apiconform's: `CHANGES` are the client-visible fixes the Kinto repository
made between the two releases (commit, first release holding it, the regression test the commit added), and each
is checked on every run with plain requests (`Probe`, httpx, no apiconform code) against both releases, per
operation it applies to (the fixes live in Kinto's generic `Resource`, so every resource's endpoint of that kind
has them). A probe whose two answers differ is a true change of that operation; one whose answers agree is
listed as not client-visible there and not counted. The probes run after the upgrade run (some change data on the
old release), so the run sees the kit's seed alike on both. K5 is a change seen on the wire only (its commit is not
identified: `evidence` wire), probed with a value of the wrong type for a parameter the served description types. Every change `apiconform upgrade` reports that no confirmed
truth explains is a false change, listed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import upgrade_real  # noqa: E402 - the sibling benchmark: starting a pair, the tally

BIN = Path(sys.executable).parent
OLD, NEW = "23.0.2", "26.5.0"
#: what pip must hold 23.0.2 to (the dependency as it was when the release came out; see the module docstring)
OLD_CONSTRAINTS = ("pyramid_multiauth<1.1",)
SEED = 7
PROBE_BUCKET = "release-probe"  # made by the benchmark on both servers: what DELETE probes run under
FUTURE = "99999999999999"  # a timestamp (ms) years ahead
REGEX_ID = ")EFg9=)"  # the bucket id of the vendor's issue #2676 (unbalanced parentheses)

#: the plural endpoints (GET lists, DELETE deletes all matching) of Kinto's resources, by operation: their filters
#: and `_since` run through `Resource._extract_filters` in both releases
PLURAL = {
    "get_buckets": ("GET", "/buckets"),
    "get_collections": ("GET", "/buckets/cookbook/collections"),
    "get_groups": ("GET", "/buckets/cookbook/groups"),
    "get_records": ("GET", "/buckets/cookbook/collections/recipes/records"),
    "get_accounts": ("GET", "/accounts"),
    "delete_collections": ("DELETE", f"/buckets/{PROBE_BUCKET}/collections"),
    "delete_groups": ("DELETE", f"/buckets/{PROBE_BUCKET}/groups"),
    "delete_records": ("DELETE", f"/buckets/{PROBE_BUCKET}/collections/probe/records"),
}
#: the creates (POST on a plural endpoint): the new object's id read from the body's `data` in both releases
CREATES = {
    "create_bucket": "/buckets",
    "create_collection": f"/buckets/{PROBE_BUCKET}/collections",
    "create_group": f"/buckets/{PROBE_BUCKET}/groups",
    "create_record": f"/buckets/{PROBE_BUCKET}/collections/probe/records",
    "create_account": "/accounts",
}
#: the operations addressing a bucket by id, with the vendor's id holding regex characters
UNDER_BUCKET = {
    "get_bucket": ("GET", "/buckets/{b}"),
    "get_collections": ("GET", "/buckets/{b}/collections"),
    "get_groups": ("GET", "/buckets/{b}/groups"),
    "create_collection": ("POST", "/buckets/{b}/collections"),
    "create_group": ("POST", "/buckets/{b}/groups"),
    "get_records": ("GET", "/buckets/{b}/collections/x/records"),
}


@dataclass(frozen=True)
class Probe:
    operation: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    user: int = 0  # which of the kit's users: 0 admin, 1 alice
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Change:
    """One client-visible fix of the Kinto repository between the releases, and the requests that show it."""

    key: str
    commit: str
    release: str  # the first release holding it
    what: str
    vendor_test: str  # the regression test the commit added (its name in Kinto's tests/); "" for a wire-only change
    probes: tuple[Probe, ...]


CHANGES = (
    Change("K1", "660ece3c", "23.0.3", "`contains_`/`contains_any_` on `id` or `last_modified` answer 400",
           "test_contains_returns_400_if_field_is_id_or_last_modified",
           tuple(Probe(op, m, p, (("contains_id", "no-such-id-xq"),)) for op, (m, p) in PLURAL.items())),
    Change("K2", "15fd62e6", "24.1.0", "a create whose `data` is not an object answers 400, not 500 (TypeError)",
           "test_post_raises_400_if_data_is_not_a_dict",
           tuple(Probe(op, "POST", p, body={"data": ""}) for op, p in CREATES.items())),
    Change("K3", "965f7d1e", "25.0.3", "`_since`/`_before` later than tomorrow answer 400",
           "test_400_with_last_modified_in_the_future",
           tuple(Probe(op, m, p, (("_since", FUTURE),)) for op, (m, p) in PLURAL.items())),
    Change("K4", "5172b330", "26.0.1", "an object id holding regex characters no longer crashes the permission lookup",
           "test_fetch_shared_objects_with_regex_special_chars_in_object_id",
           tuple(Probe(op, m, p.format(b=bucket), body={} if m == "POST" else None, user=u)
                 for op, (m, p) in UNDER_BUCKET.items() for u in (0, 1) for bucket in (REGEX_ID, "a+b*"))),
    Change("K2+K4", "15fd62e6+5172b330", "26.0.1", "a create both fixes touch: `data` not an object, under a bucket "
           "id holding regex characters", "",
           tuple(Probe(op, "POST", p, body={"data": ""}) for op, p in (
               ("create_collection", "/buckets/a+b*/collections"), ("create_group", "/buckets/a+b*/groups")))),
    Change("K5", "(not identified)", "<= 26.5.0", "`_since=false` (a boolean where the served description documents "
           "an integer): 23.0.2 takes it as 0 (a Python bool is an int), 26.5.0 answers 400 'is not a number'", "",
           tuple(Probe(op, m, p, (("_since", "false"),), headers=h) for op, (m, p) in PLURAL.items()
                 for h in ((), (("If-Match", '"1"'),)))),
)


# --- the evidence: plain requests against both releases -----------------------------------------------------------
def _prepare(server: Any) -> None:
    """The bucket the DELETE and create probes run under (a collection and a group in it), made alike on both."""
    import httpx

    base, auth = server.base_url.rstrip("/"), server.user
    for path in (f"/buckets/{PROBE_BUCKET}", f"/buckets/{PROBE_BUCKET}/collections/probe",
                 f"/buckets/{PROBE_BUCKET}/groups/probe"):
        body = {"data": {"members": []}} if "/groups/" in path else {"data": {}}
        answer = httpx.put(base + path, json=body, auth=auth, timeout=30)
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"PUT {path}: {answer.status_code} {answer.text[:200]}")


def probe(server: Any, p: Probe) -> int:
    import httpx

    url = server.base_url.rstrip("/") + "".join(
        c if c.isalnum() or c in "/-_." else f"%{ord(c):02X}" for c in p.path)
    answer = httpx.request(p.method, url, params=dict(p.query), json=p.body, auth=server.users[p.user],
                           headers=dict(p.headers), timeout=30)
    return answer.status_code


def _declared_query(spec: dict[str, Any]) -> dict[str, set[str]]:
    """The query parameters NEW's served description declares, per operationId."""
    out: dict[str, set[str]] = {}
    for item in spec.get("paths", {}).values():
        shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
        for op in (v for v in item.values() if isinstance(v, dict) and "operationId" in v):
            params = shared + [p for p in op.get("parameters", []) if isinstance(p, dict)]
            out[op["operationId"]] = {p.get("name", "") for p in params if p.get("in") == "query"}
    return out


def ground_truth(servers: dict[str, Any], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every (change, operation) the vendor's fixes touch, with what each release answers the probe, and whether the
    probe is a request the served description describes (its query parameters are declared there): a contract-driven
    run can only send those."""
    declared = _declared_query(spec)
    rows = []
    for change in CHANGES:
        for p in change.probes:
            for server in servers.values():
                _prepare(server)  # again: a probe may have deleted what the next one runs under
            old, new = probe(servers[OLD], p), probe(servers[NEW], p)
            rows.append({"described": all(k in declared.get(p.operation, set()) for k, _ in p.query),
                         "change": change.key, "commit": change.commit, "release": change.release, "what": change.what,
                         "vendor_test": change.vendor_test, "operation": p.operation, "old": old, "new": new,
                         "user": ("admin", "alice")[p.user],
                         "request": f"{p.method} {p.path}" + ("?" + "&".join(f"{k}={v}" for k, v in p.query)
                                                              if p.query else "")
                         + (f" {json.dumps(p.body)}" if p.body is not None else "")
                         + "".join(f" [{k}: {v}]" for k, v in p.headers)})
    return rows


def _truths(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The confirmed true changes: one per (operation, old status, new status) the probes showed."""
    out: dict[tuple[str, int, int], dict[str, Any]] = {}
    for row in rows:
        if row["old"] != row["new"]:
            entry = out.setdefault((row["operation"], row["old"], row["new"]), {**row, "changes": []})
            entry["described"] = entry["described"] or row["described"]
            if row["change"] not in entry["changes"]:
                entry["changes"].append(row["change"])
    return list(out.values())


def _breaking(old: int, new: int) -> bool:
    """For a client written against the old release: a request that worked fails now, a server error, or a refusal
    told with another status (the client branches on it); a crash that became an answer is a fix."""
    return (200 <= old < 300 and not 200 <= new < 300) or new >= 500 or (400 <= old < 500 and 400 <= new < 500)


def _explains(truth: dict[str, Any], change: dict[str, Any]) -> bool:
    """Whether a reported change is this truth: the same request answered old -> new, or the old status no longer
    answered / the new one answered now, on the same operation."""
    if change["operation"] != truth["operation"]:
        return False
    kind, old, new = change["kind"], change.get("old"), change.get("new")
    return (kind == "status-changed" and (old, new) == (truth["old"], truth["new"])) or \
        (kind == "status-removed" and old == truth["old"]) or (kind == "status-added" and new == truth["new"])


def _consequence(change: dict[str, Any], truths: list[dict[str, Any]]) -> str | None:
    """A reported change that follows from a confirmed truth of the same operation without being it: the answer of
    a new status carries that status's error shape (an error answer's field 'added' where the old release answered
    that status less often and without it). Named, so it is neither a detection nor a false change."""
    if not change["kind"].startswith("response-field") or "#" not in str(change["location"]):
        return None
    status = str(change["location"]).split(" ")[-2] if " #" in str(change["location"]) else ""
    hits = [t for t in truths if t["operation"] == change["operation"] and str(t["new"]) == status]
    return f"the {status} answers of {hits[0]['changes'][0]} carry its error shape" if hits else None


# --- the run ------------------------------------------------------------------------------------------------------
def upgrade_command(contracts: Path, old_url: str, new_url: str, reports: Path) -> list[str]:
    return [str(BIN / "apiconform"), "upgrade", "kinto", "--contracts", str(contracts), "--from", old_url,
            "--to", new_url, "--allow-writes", "--max-examples", "5", "--seed", str(SEED), "--rate", "200",
            "--max-requests", "20000", "--reports-dir", str(reports), "--format", "json"]


def _start(realapi_server: Any, version: str) -> Any:
    import os

    if version != OLD:
        return realapi_server.start("kinto", version=version, fresh=True)
    constraints = Path(os.environ.get("TMPDIR", "/tmp")) / f"apiconform-kinto-{OLD}-constraints.txt"
    constraints.write_text("\n".join(OLD_CONSTRAINTS) + "\n")
    return realapi_server.start("kinto", version=version, fresh=True, pip_constraint=str(constraints))


def run(tmp: Path) -> dict[str, Any]:
    realapi_server = upgrade_real.load_realapi_server()
    if not realapi_server.available("kinto"):
        return {"skipped": f"kit kinto not found at {realapi_server.kit_dir('kinto')}"}
    servers, errors, started = upgrade_real.start_pair(lambda v: _start(realapi_server, v), (OLD, NEW))
    try:
        if errors:
            return {"error": "; ".join(errors)}
        import httpx

        for version, server in servers.items():
            me = httpx.get(server.base_url.rstrip("/") + "/", auth=server.user, timeout=30).json().get("user")
            if not me:
                return {"error": f"kinto {version} authenticates nobody (an install with a later pyramid_multiauth? "
                                 f"remove its venv under {realapi_server.work_dir('kinto')} and run again)"}
        new = servers[NEW]
        reports = tmp / "kinto-upgrade-reports"
        outcome = upgrade_real.import_and_upgrade(
            "kinto", new, tmp / "kinto-upgrade-contracts", reports,
            lambda contracts: upgrade_command(contracts, servers[OLD].base_url, new.base_url, reports))
        if isinstance(outcome, str):
            return {"error": outcome}
        changes, done, wall, cmd = outcome
        # the probes after the run: some change data on the old release (`_since=false` is 0 there: a DELETE with it
        # removes everything), so the run must see the kit's seed alike on both
        spec = httpx.get(servers[NEW].spec_url, auth=servers[NEW].user, timeout=60).json()
        rows = ground_truth(servers, spec)
        truths = _truths(rows)
        explained: set[int] = set()
        table = []
        for number, truth in enumerate(truths, 1):
            hits = [i for i, c in enumerate(changes) if _explains(truth, c)]
            explained |= set(hits)
            hit = changes[hits[0]] if hits else None
            table.append({"id": f"S{number}", "operation": truth["operation"], "changes": truth["changes"],
                          "described": truth["described"], "observable": truth["described"],
                          "old": truth["old"], "new": truth["new"], "request": truth["request"], "user": truth["user"],
                          "breaking": _breaking(truth["old"], truth["new"]),
                          "reported": bool(hit), "reported_breaking": bool(hit and hit["breaking"]),
                          "as": f"{hit['kind']} {hit['location']} ({'breaking' if hit['breaking'] else 'not breaking'})"
                          if hit else ""})
        consequences, noise = [], []
        for i, c in enumerate(changes):
            if i in explained:
                continue
            why = _consequence(c, truths)
            entry = {"operation": c["operation"], "kind": c["kind"], "location": c["location"],
                     "breaking": c["breaking"], "message": c["message"]}
            (consequences if why else noise).append({**entry, "why": why} if why else entry)
        same = [r for r in rows if r["old"] == r["new"]]
        summary = upgrade_real.tally(table, noise)
        return {
            "releases": [OLD, NEW], "servers_started_s": round(started, 1), "upgrade_s": round(wall, 1),
            "exit": done.returncode, "probes": len(rows), "probes_same": len(same),
            "command": upgrade_real.command_line(cmd, tmp, servers),
            "rows": table, "consequences": consequences, "noise": noise, "probe_rows": rows,
            "summary": {**summary, "undescribed": len(table) - summary["true_changes"]},
        }
    finally:
        upgrade_real.stop_all(servers)


def render(result: dict[str, Any]) -> str:
    if (line := upgrade_real.not_run(result, "upgrade kinto")) is not None:
        return line
    s = result["summary"]
    lines = [f"apiconform upgrade kinto {OLD} -> {NEW} (contract imported from {NEW}'s served description; every "
             f"operation, writes on; servers up in {result['servers_started_s']} s, upgrade {result['upgrade_s']} s, "
             f"exit {result['exit']})",
             f"ground truth: {len(CHANGES)} vendor fixes, {result['probes']} probes on both releases, "
             f"{s['true_changes'] + s['undescribed']} status changes confirmed on the wire ({result['probes_same']} "
             f"probes answered alike: not client-visible there), {s['true_changes']} of them by requests the served "
             f"description describes; detected {s['detected']}, classified as the truth {s['classified_right']}, "
             f"false changes reported {s['false_changes']}",
             "", f"{'id':4} {'operation':18} {'fix':6} {'old->new':9} {'truth':8} {'probe (as admin unless alice)':58} reported as"]
    for r in result["rows"]:
        truth = "breaking" if r["breaking"] else "fix"
        probe_text = (r["request"] + (" as alice" if r["user"] == "alice" else ""))[:58]
        lines.append(f"{r['id']:4} {r['operation'][:18]:18} {','.join(r['changes']):6} {r['old']}->{r['new']:<5} "
                     f"{truth:8} {probe_text:58} "
                     f"{r['as'] or ('MISSED' if r['described'] else 'not counted: parameter not in the description')}")
    for c in result["consequences"]:
        lines.append(f"     {c['operation'][:18]:18} also reported: {c['kind']} {c['location']} ({c['why']})")
    if result["noise"]:
        lines += ["", "false changes (reported, no ground truth):"]
        lines += [f"  {n['kind']} {n['location']} ({'breaking' if n['breaking'] else 'not breaking'}): {n['message']}"
                  for n in result["noise"]]
    lines += ["", "fixes: " + "; ".join(f"{c.key} {c.commit} ({c.release}): {c.what} [{c.vendor_test}]" for c in CHANGES),
              "reproduce: python benchmarks/run.py --only upgrade   (the run's own command:)", f"  {result['command']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="apiconform-upgrade-kinto-") as name:
        outcome = run(Path(name))
    print(render(outcome))
