"""`benchmarks/run.py --only upgrade`: `apiconform upgrade` between two real Prefect releases (issue 26).

Both releases run from the kit (../shared/real-apis/prefect, `PREFECT_VERSION`), started in parallel on fresh
databases and seeded alike; the contract is imported from the NEWER release's own served description
(`apiconform init prefect --from-openapi`); `apiconform upgrade` runs one plan (same seed) against both.

The ground truth is not ours: it is derived on every run from the two releases themselves (never a committed spec),
for the operations the run exercises (`ground_truth`): an operation only the newer description has; each field
the success answer's schema declares in one description and not the other (`spec`); where the older description
declares no fields (an untyped answer), the fields of both releases' answers to one plain GET (`wire`). A change
no answer of this run could show (a declared field the seeded data never fills) is listed as not observable and
not counted. A request field only the newer description declares (a filter member 3.4.19 refuses with 422) is one
change per operation, shown by the same request answered 422 then 200 (`status-changed`); observable where the old
release's 422 finding of the run carries such a field. One deployment with `concurrency_options` is created alike on
both servers (`seed_concurrency_options`) so that object, and the member 3.9.1 added to it, is in the answers. Every change the tool reports that the ground truth does not explain is a false change, listed.
`CONTROLS` are operations whose description changed while the servers behave alike, or that did not change:
reporting them would be a false change too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OLD, NEW = "3.4.19", "3.9.1"
SEED = 7
#: the operations the run exercises: every row's operation plus the controls
OPERATIONS = (
    "paginate_task_runs_task_runs_paginate_post",
    "read_work_pools_work_pools_filter_post",
    "read_work_queues_work_queues_filter_post",
    "read_deployments_deployments_filter_post",
    "read_observed_states_observed_states_get",
    "read_server_default_result_storage_admin_storage_get",
    "read_settings_admin_settings_get",
    "flow_run_history_flow_runs_history_post",
    "read_flows_flows_filter_post",
)


@dataclass(frozen=True)
class Truth:
    """One client-visible change between the releases, where its evidence comes from, and what reporting it looks
    like (`kind` of the change, the end of its location)."""

    operation: str
    change: str
    breaking: bool  # for a client written against the old release
    kind: str
    where: str
    evidence: str  # "spec": the two served descriptions differ there; "wire": the two answers to one plain GET do
    fields: tuple[str, ...] = ()  # request fields only the new description declares (kind "status-changed")


def _top(paths: set[str]) -> set[str]:
    """The outermost of nested field paths (a removed object counts once, not once per member)."""
    return {p for p in paths if not any(p.startswith(q + "/") for q in paths if q != p)}


def ground_truth(specs: dict[str, dict[str, Any]], servers: dict[str, Any], operations: tuple[str, ...]) -> list[Truth]:
    """Every client-visible change of the exercised operations, from the releases themselves: an operation only the
    new description has; the success answer's fields each description declares (added: not breaking, removed:
    breaking); where the old description declares no fields at all (an untyped answer), the fields of the two
    releases' answers to the same plain GET."""
    import httpx

    truths: list[Truth] = []
    where = {op.get("operationId"): (method, path) for path, item in specs[NEW]["paths"].items()
             for method, op in item.items() if isinstance(op, dict)}
    for label in operations:
        method, path = where[label]
        old_op = specs[OLD]["paths"].get(path, {}).get(method)
        if old_op is None:
            truths.append(Truth(label, f"new operation {method.upper()} {path}", False, "operation-added", label, "spec"))
            continue
        status = next(s for s in ("200", "201") if s in specs[NEW]["paths"][path][method]["responses"])
        old, new = (_declared(specs[v], method, path, status) for v in (OLD, NEW))
        evidence = "spec"
        if not old and method == "get" and "{" not in path:
            answers = [httpx.get(servers[v].base_url.rstrip("/") + path, auth=servers[v].user, timeout=30).json()
                       for v in (OLD, NEW)]
            old, new = _keys(answers[0]), _keys(answers[1])
            evidence = "wire"
        for field in sorted(_top(new - old)):
            truths.append(Truth(label, f"{field} added", False, "response-field-added", f"{status} #{field}", evidence))
        for field in sorted(_top(old - new)):
            truths.append(Truth(label, f"{field} removed", True, "response-field-removed", f"{status} #{field}", evidence))
        accepted = _top(_body_fields(specs[NEW], method, path) - _body_fields(specs[OLD], method, path))
        if accepted and label not in dict(CONTROLS):
            shown = ", ".join(sorted(accepted)[:2]) + (f" +{len(accepted) - 2}" if len(accepted) > 2 else "")
            truths.append(Truth(label, f"request accepts {shown}: old 422", False, "status-changed", "422->200",
                                "spec", tuple(sorted(accepted))))
    return truths


def _body_fields(doc: dict[str, Any], method: str, path: str) -> set[str]:
    """Every field path the JSON request body's schema declares (a filter member the old release refuses: 422)."""
    body = _resolve(doc, doc["paths"][path][method].get("requestBody") or {})
    return spec_fields(doc, (body.get("content") or {}).get("application/json", {}).get("schema"))


def _sent_new_field(record: dict[str, Any], truth: Truth) -> bool:
    """Whether the old release answered 422 to a request of the run carrying one of the fields only the new
    description declares (a finding's request, as the run record keeps it)."""
    leaves = {f.rsplit("/", 1)[-1] for f in truth.fields}
    for case in record.get("cases", []):
        for finding in case.get("findings", []) if case.get("operation") == truth.operation else ():
            text = json.dumps([finding.get("curl"), finding.get("exchange")], default=str)
            if finding.get("status") == 422 and any(f'\\"{leaf}\\"' in text or f'"{leaf}"' in text for leaf in leaves):
                return True
    return False


#: published description changed, behaviour did not (checked on the wire): reporting these would be noise
CONTROLS = (
    ("flow_run_history_flow_runs_history_post", "the old description requires `history_interval`, the new one "
     "`history_interval_seconds`; both releases accept only `history_interval_seconds` on the wire"),
    ("read_flows_flows_filter_post", "no change in either description or on the wire"),
)


#: one deployment with `concurrency_options`, created alike on both releases through their own API (after the kit's
#: seed.py): 3.4.19 already accepts and stores the object (`ConcurrencyOptions.collision_strategy`), 3.9.1 declares one
#: more member in it (`grace_period_seconds`, default null). Without it no answer carries the object and that change
#: (T10) cannot be observed.
CONCURRENT_DEPLOYMENT = {"name": "etl-daily-sales-guarded", "concurrency_limit": 1,
                         "concurrency_options": {"collision_strategy": "ENQUEUE"},
                         "description": "one run at a time; others wait", "paused": False}


def seed_concurrency_options(server: Any, flow: str = "etl-daily-sales") -> None:
    """POST CONCURRENT_DEPLOYMENT under the kit's seeded flow `flow` (an upsert on (flow, name): idempotent)."""
    import httpx

    base, auth = server.base_url.rstrip("/"), server.user
    found = httpx.post(f"{base}/flows/filter", json={"flows": {"name": {"any_": [flow]}}}, auth=auth, timeout=60)
    found.raise_for_status()
    flows = found.json()
    if not flows:
        raise RuntimeError(f"the kit's seed made no flow {flow!r} on {base}")
    made = httpx.post(f"{base}/deployments/", json={**CONCURRENT_DEPLOYMENT, "flow_id": flows[0]["id"]}, auth=auth,
                      timeout=60)
    if made.status_code not in (200, 201) or not (made.json().get("concurrency_options") or {}).get("collision_strategy"):
        raise RuntimeError(f"POST {base}/deployments/ with concurrency_options: {made.status_code} {made.text[:300]}")


def start_pair(start: Any, versions: tuple[str, str]) -> tuple[dict[str, Any], list[str], float]:
    """`start(version)` for both releases in parallel: the servers that came up, one error line per one that did not
    (the caller stops the others), and the seconds it took."""
    began = time.monotonic()
    servers: dict[str, Any] = {}
    errors = []
    with ThreadPoolExecutor(2) as pool:
        futures = {v: pool.submit(start, v) for v in versions}
        for version, future in futures.items():
            try:
                servers[version] = future.result()
            except Exception as exc:  # noqa: BLE001 - reported, the other server still stopped
                errors.append(f"{version}: {exc}"[:400])
    return servers, errors, time.monotonic() - began


def command_line(cmd: list[str], tmp: Path, servers: dict[str, Any]) -> str:
    """The run's command as it reproduces elsewhere: the temporary dir and each server's port as placeholders."""
    text = " ".join(cmd).replace(str(tmp), "$TMP")
    for version, server in servers.items():
        base = server.base_url.rstrip("/")
        text = text.replace(base, f"http://127.0.0.1:PORT_{version}" + base.split(str(server.port), 1)[-1])
    return text


def tally(rows: list[dict[str, Any]], noise: list[Any]) -> dict[str, int]:
    """The summary of a detection table: the rows counted (observable, or reported anyway), those reported, those
    classified as the truth, and the false changes."""
    counted = [r for r in rows if r["observable"] or r["reported"]]
    return {"true_changes": len(counted), "detected": sum(r["reported"] for r in counted),
            "classified_right": sum(r["reported"] and r["reported_breaking"] == r["breaking"] for r in counted),
            "false_changes": len(noise)}


def load_realapi_server() -> Any:
    import importlib.util

    if "realapi_server" in sys.modules:
        return sys.modules["realapi_server"]
    spec = importlib.util.spec_from_file_location("realapi_server", ROOT / "tests" / "real" / "realapi_server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realapi_server"] = module  # dataclasses resolve the module by name
    spec.loader.exec_module(module)
    return module


# --- the evidence: the releases' own descriptions and answers ---------------------------------------------------
def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    while isinstance(node, dict) and "$ref" in node and depth < 64:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node, depth = target, depth + 1
    return node


def spec_fields(doc: dict[str, Any], schema: Any, path: str = "", depth: int = 0) -> set[str]:
    """Every field path a response schema declares (`/results/*/context`), `$ref`s and unions followed."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 12:
        return set()
    out: set[str] = set()
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            out |= spec_fields(doc, sub, path, depth + 1)
    for name, sub in (schema.get("properties") or {}).items():
        out.add(f"{path}/{name}")
        out |= spec_fields(doc, sub, f"{path}/{name}", depth + 1)
    if "items" in schema:
        out |= spec_fields(doc, schema["items"], f"{path}/*", depth + 1)
    return out


def _declared(doc: dict[str, Any], method: str, path: str, status: str) -> set[str]:
    response = _resolve(doc, doc["paths"][path][method]["responses"][status])
    return spec_fields(doc, (response.get("content") or {}).get("application/json", {}).get("schema"))


def _keys(value: Any, path: str = "") -> set[str]:
    if isinstance(value, dict):
        return {f"{path}/{k}" for k in value} | {p for k, v in value.items() for p in _keys(v, f"{path}/{k}")}
    return set()


# --- the run ----------------------------------------------------------------------------------------------------
def _in_shape(shape: Any, field: str) -> bool:
    """Whether an answer of the run showed the field (`/results/*/context` in the merged shape of its answers)."""
    for part in [p for p in field.split("/") if p]:
        if part == "*" and isinstance(shape, list) and shape:
            shape = shape[0]
        elif isinstance(shape, dict) and part in shape:
            shape = shape[part]
        else:
            return False
    return True


def upgrade_command(contracts: Path, old_url: str, new_url: str, reports: Path,
                    operations: tuple[str, ...] = OPERATIONS) -> list[str]:
    return [str(BIN / "apiconform"), "upgrade", "prefect", "--contracts", str(contracts), "--from", old_url,
            "--to", new_url, "--operation", ",".join(operations), "--suite", "examples,properties,negative",
            "--allow-writes", "--max-examples", "3", "--seed", str(SEED), "--rate", "200", "--max-requests", "5000",
            "--reports-dir", str(reports), "--format", "json"]


def import_and_upgrade(vendor: str, new: Any, contracts: Path, reports: Path,
                       command: Any) -> tuple[list[dict[str, Any]], Any, float, list[str]] | str:
    """Import the newer release's served description into `contracts` (`apiconform init VENDOR --from-openapi`), run
    `command(contracts)` (the upgrade) and read its upgrade.json: (changes, the process, its wall, the command), or
    the error line."""
    user, password = new.user
    env = {**new.env(), "APICONFORM_SPEC_PASSWORD": password}
    shutil.rmtree(contracts, ignore_errors=True)
    imported = subprocess.run([str(BIN / "apiconform"), "init", vendor, "--from-openapi", new.spec_url, "--user",
                               user, "--dir", str(contracts)], env=env, capture_output=True, text=True, timeout=300)
    if imported.returncode != 0:
        return (imported.stdout + imported.stderr)[-600:]
    shutil.rmtree(reports, ignore_errors=True)
    cmd = command(contracts)
    t0 = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    wall = time.monotonic() - t0
    report_path = reports / "upgrade.json"
    if not report_path.is_file():
        return f"upgrade exit {done.returncode}: {(done.stdout + done.stderr)[-800:]}"
    return json.loads(report_path.read_text())["changes"], done, wall, cmd


def run(tmp: Path, operations: tuple[str, ...] = OPERATIONS) -> dict[str, Any]:
    """Start both releases (in parallel, fresh databases, seeded), import the newer one's description, run
    `apiconform upgrade`, and classify every reported change against the ground truth."""
    realapi_server = load_realapi_server()
    if not realapi_server.available("prefect"):
        return {"skipped": f"kit prefect not found at {realapi_server.kit_dir('prefect')}"}
    servers, errors, started = start_pair(lambda v: realapi_server.start("prefect", version=v, fresh=True), (OLD, NEW))
    try:
        if errors:
            return {"error": "; ".join(errors)}
        import httpx

        for server in servers.values():
            seed_concurrency_options(server)
        specs = {v: httpx.get(s.spec_url, auth=s.user, timeout=60).json() for v, s in servers.items()}
        new = servers[NEW]
        reports = tmp / "upgrade-reports"
        outcome = import_and_upgrade(
            "prefect", new, tmp / "upgrade-contracts", reports,
            lambda contracts: upgrade_command(contracts, servers[OLD].base_url, new.base_url, reports, operations))
        if isinstance(outcome, str):
            return {"error": outcome}
        changes, done, wall, cmd = outcome
        rows = []
        explained: set[int] = set()
        truths = ground_truth(specs, servers, operations)
        shapes = json.loads((reports / "to" / "run.json").read_text()).get("shapes", {}).get("prefect", {})
        old_record = json.loads((reports / "from" / "run.json").read_text())
        old_shapes = old_record.get("shapes", {}).get("prefect", {})
        for number, truth in enumerate(truths, 1):
            hits = [i for i, c in enumerate(changes) if c["operation"] == truth.operation and c["kind"] == truth.kind
                    and str(c["location"]).endswith(truth.where)]
            explained |= set(hits)
            hit = changes[hits[0]] if hits else None
            status, _, field = truth.where.partition(" #")
            side = old_shapes if truth.kind.endswith("removed") else shapes
            seen = truth.kind == "operation-added" or _in_shape(side.get(truth.operation, {}).get(status), field) \
                if truth.kind != "status-changed" else _sent_new_field(old_record, truth)
            rows.append({"id": f"T{number}", "operation": truth.operation, "change": truth.change,
                         "breaking": truth.breaking, "evidence": truth.evidence, "observable": seen,
                         "reported": bool(hit), "reported_breaking": bool(hit and hit["breaking"]),
                         "as": f"{hit['kind']} ({'breaking' if hit['breaking'] else 'not breaking'})" if hit else ""})
        noise = [{"operation": c["operation"], "kind": c["kind"], "location": c["location"], "breaking": c["breaking"],
                  "message": c["message"]} for i, c in enumerate(changes) if i not in explained]
        return {
            "releases": [OLD, NEW], "operations": list(operations), "servers_started_s": round(started, 1),
            "upgrade_s": round(wall, 1), "exit": done.returncode,
            "command": command_line(cmd, tmp, servers),
            "rows": rows, "noise": noise, "controls": [c for c in CONTROLS if c[0] in operations],
            "summary": tally(rows, noise),
        }
    finally:
        stop_all(servers)


def stop_all(servers: dict[str, Any]) -> None:
    """Stop every server a pair started (each its own process group)."""
    for server in servers.values():
        server.stop()


def not_run(result: dict[str, Any], label: str) -> str | None:
    """The one line of a section that did not run (skipped, or an error before the upgrade), else None."""
    if "skipped" in result or "error" in result:
        return f"{label}: {result.get('skipped') or result.get('error')}"
    return None


def render(result: dict[str, Any]) -> str:
    if (line := not_run(result, "upgrade")) is not None:
        return line
    s = result["summary"]
    lines = [f"apiconform upgrade prefect {OLD} -> {NEW} (contract imported from {NEW}'s served description; "
             f"{len(result['operations'])} operations, servers up in {result['servers_started_s']} s, "
             f"upgrade {result['upgrade_s']} s, exit {result['exit']})",
             f"ground truth {len(result['rows'])} changes ({s['true_changes']} observable with the seeded data), detected "
             f"{s['detected']}, classified as the ground truth "
             f"{s['classified_right']}, false changes reported {s['false_changes']}",
             "", f"{'id':4} {'operation':54} {'change':58} {'truth':8} {'from':5} reported as"]
    for r in result["rows"]:
        truth = "breaking" if r["breaking"] else "additive"
        shown = r["as"] or ("MISSED" if r["observable"] else "not reported: no answer of this run shows the field")
        lines.append(f"{r['id']:4} {r['operation'][:54]:54} {r['change'][:58]:58} {truth:8} {r['evidence']:5} {shown}")
    for op, why in result["controls"]:
        reported = [n for n in result["noise"] if n["operation"] == op]
        lines.append(f"ctl  {op[:54]:54} {why[:58]:58} {'none':8} {'':5} "
                     f"{'reported (noise)' if reported else 'nothing reported'}")
    if result["noise"]:
        lines += ["", "false changes (reported, no ground truth):"]
        lines += [f"  {n['kind']} {n['location']} ({'breaking' if n['breaking'] else 'not breaking'})"
                  for n in result["noise"]]
    lines += ["", "reproduce: python benchmarks/run.py --only upgrade   (the run's own command:)", f"  {result['command']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="apiconform-upgrade-") as name:
        outcome = run(Path(name))
    print(render(outcome))
    print(json.dumps(outcome, indent=1, default=str)[:4000])
