"""The run record: everything one apiconform run observed, as one JSON document (`run.json`).

Every report (JUnit, matrix, coverage, compare, gate) is rendered from this record alone, so a
report can be regenerated, merged across shards or compared with last week's run without
re-running anything. The format is documented in docs/run-record.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apiconform.errors import ConfigError
from apiconform.findings import CaseResult, Category, Finding

__all__ = [
    "RUN_SCHEMA",
    "RunRecord",
    "Shape",
    "case_from_dict",
    "case_to_dict",
    "check_mergeable",
    "load_run",
    "merge_coverage",
    "merge_records",
    "merge_shape_maps",
    "merge_shapes",
    "now_iso",
    "shape_of",
]

RUN_SCHEMA = "apiconform.gate._run/1"

# A shape is a JSON-able type skeleton: "integer", "string|null", ["string"], {"id": "integer"}.
Shape = Any

_SCALAR_ORDER = ("boolean", "integer", "number", "string", "object", "array", "null")
_MAX_DEPTH = 16
_MAX_ITEMS = 64  # array elements sampled per array: shapes stay cheap on huge pages
_MAX_KEYS = 256


def now_iso() -> str:
    """UTC timestamp in the one format the record uses (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- shapes


def shape_of(value: Any, _depth: int = 0) -> Shape:
    """The type skeleton of a JSON value: what `compare` diffs to spot silent response drift.

    Objects map keys to shapes, arrays become a one-element list holding the merged shape of
    their items (`[]` when empty: element type unknown), scalars become their JSON type name.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if _depth >= _MAX_DEPTH:
        return "object" if isinstance(value, Mapping) else "array"
    if isinstance(value, Mapping):
        keys = sorted(str(k) for k in value)[:_MAX_KEYS]
        by_str = {str(k): v for k, v in value.items()}
        return {k: shape_of(by_str[k], _depth + 1) for k in keys}
    if isinstance(value, (list, tuple)):
        item: Shape = _EMPTY
        for element in list(value)[:_MAX_ITEMS]:
            item = merge_shapes(item, shape_of(element, _depth + 1))
        return [] if item is _EMPTY else [item]
    return "string"  # anything else a body could decode to is text on the wire


class _Empty:
    """Identity of merge_shapes: 'no observation yet'."""


_EMPTY: Any = _Empty()


def _kind(shape: Shape) -> str:
    if isinstance(shape, dict):
        return "object"
    if isinstance(shape, list):
        return "array"
    return str(shape)


def _union(*texts: str) -> str:
    parts = {p for t in texts for p in t.split("|") if p}
    return "|".join(sorted(parts, key=lambda p: (_SCALAR_ORDER.index(p) if p in _SCALAR_ORDER else 99, p)))


def merge_shapes(a: Shape, b: Shape) -> Shape:
    """One shape describing both inputs: union of object keys, union of scalar types.

    An object or array that is sometimes null keeps its members: whether a record holds the optional object is
    the data, what the object holds is the answer's shape (a member added inside an optional object of a few
    records would be invisible once one record had it null; `compare.only_nullability`: never drift either way).
    Mixing a structure with another scalar collapses to the kind names, e.g. "string|object": the skeleton stays
    small and comparable rather than exhaustive.
    """
    if a is _EMPTY:
        return b
    if b is _EMPTY or a == b or (b == "null" and isinstance(a, (dict, list))):
        return a
    if a == "null" and isinstance(b, (dict, list)):
        return b
    if isinstance(a, dict) and isinstance(b, dict):
        out = {}
        for key in sorted(set(a) | set(b)):
            out[key] = merge_shapes(a.get(key, _EMPTY), b.get(key, _EMPTY))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if not a:
            return b
        if not b:
            return a
        return [merge_shapes(a[0], b[0])]
    return _union(_kind(a), _kind(b))


def merge_shape_maps(*maps: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `{vendor: {operation: {status: shape}}}` maps (shards, or responses of one run)."""
    out: dict[str, Any] = {}
    for shapes in maps:
        for vendor, ops in shapes.items():
            vout = out.setdefault(vendor, {})
            for op, statuses in ops.items():
                oout = vout.setdefault(op, {})
                for status, shape in statuses.items():
                    oout[str(status)] = merge_shapes(oout.get(str(status), _EMPTY), shape)
    return out


# --------------------------------------------------------------------------- coverage


def _union_list(*lists: Iterable[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for items in lists:
        for item in items:
            seen.setdefault(json.dumps(item, sort_keys=True), item)
    return sorted(seen.values(), key=lambda v: (type(v).__name__, str(v)))


def merge_coverage(*coverages: Mapping[str, Any]) -> dict[str, Any]:
    """Union of documented and seen statuses / enum values per vendor and operation."""
    out: dict[str, Any] = {}
    for coverage in coverages:
        for vendor, vcov in coverage.items():
            vout = out.setdefault(vendor, {"documented_operations": 0, "operations": {}})
            vout["documented_operations"] = max(
                int(vout.get("documented_operations") or 0), int(vcov.get("documented_operations") or 0)
            )
            for label, ocov in (vcov.get("operations") or {}).items():
                oout = vout["operations"].setdefault(
                    label, {"documented_statuses": [], "seen_statuses": [], "enums": {}}
                )
                oout["documented_statuses"] = _union_list(
                    oout["documented_statuses"], ocov.get("documented_statuses") or []
                )
                oout["seen_statuses"] = _union_list(oout["seen_statuses"], ocov.get("seen_statuses") or [])
                if ocov.get("no_success"):
                    oout["no_success"] = ocov["no_success"]
                for key, values in (ocov.get("behaviour") or {}).items():
                    bout = oout.setdefault("behaviour", {})
                    bout[key] = _union_list(bout.get(key, []), values)
                for location, ecov in (ocov.get("enums") or {}).items():
                    eout = oout["enums"].setdefault(location, {"documented": [], "seen": []})
                    eout["documented"] = _union_list(eout["documented"], ecov.get("documented") or [])
                    eout["seen"] = _union_list(eout["seen"], ecov.get("seen") or [])
    return out


# --------------------------------------------------------------------------- cases


def case_to_dict(case: CaseResult) -> dict[str, Any]:
    """CaseResult as JSON (findings carry their fingerprint, for humans and for `compare`)."""
    return {
        "vendor": case.vendor,
        "operation": case.operation,
        "suite": case.suite,
        "name": case.name,
        "status": case.status,
        "duration": round(float(case.duration), 6),
        "skipped": case.skipped,
        "requests": int(case.requests),
        "statuses": [int(s) for s in case.statuses],
        "checks": list(case.checks),
        "categories": [Category(c).value for c in case.categories],
        "findings": [f.to_dict() for f in case.findings],
    }


def case_from_dict(data: Mapping[str, Any]) -> CaseResult:
    """Inverse of case_to_dict; the stored fingerprint is ignored (it is recomputed)."""
    return CaseResult(
        vendor=data["vendor"],
        operation=data["operation"],
        suite=data.get("suite", ""),
        name=data.get("name", ""),
        findings=[Finding.from_dict(f) for f in data.get("findings") or []],
        checks=list(data.get("checks") or []),
        categories=[Category(c) for c in data.get("categories") or []],
        status=data.get("status"),
        duration=float(data.get("duration") or 0.0),
        skipped=data.get("skipped") or "",
        requests=int(data.get("requests") or 0),
        statuses=[int(s) for s in data.get("statuses") or []],
    )


# --------------------------------------------------------------------------- the record


@dataclass
class RunRecord:
    """One run (or several merged shards): metadata, every case, coverage and response shapes."""

    started: str = field(default_factory=now_iso)
    finished: str = ""
    duration: float = 0.0
    seed: int | None = None
    argv: list[str] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)  # what ran against what: drifts, faults, budget, versions
    targets: dict[str, str] = field(default_factory=dict)  # vendor -> "mock" | base URL
    vendors: list[str] = field(default_factory=list)
    suites: list[str] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    coverage: dict[str, Any] = field(default_factory=dict)
    shapes: dict[str, Any] = field(default_factory=dict)
    interrupted: str = ""  # "SIGINT" / "SIGTERM": the run was stopped; `cases` are the ones that finished
    planned: int = 0  # cases the run planned (set when it was interrupted: how many never finished)
    history: dict[str, str] = field(default_factory=dict)  # "VENDOR:CASE" -> when it last ran, before this run (rolling)
    # vendor -> its live target's writes: policy, created, deleted, refused, left_behind (engine._writes.WriteReport)
    writes: dict[str, Any] = field(default_factory=dict)
    schema: str = RUN_SCHEMA

    # ---- accumulation helpers for the runner (optional; plain field access works too)

    def add_case(self, case: CaseResult) -> None:
        self.cases.append(case)
        if case.vendor not in self.vendors:
            self.vendors.append(case.vendor)
        if case.suite and case.suite not in self.suites:
            self.suites.append(case.suite)

    def observe_response(self, vendor: str, operation: str, status: int, body: Any = _EMPTY) -> None:
        """Record a seen status (coverage) and, for a decoded body, its shape."""
        ocov = self._op_coverage(vendor, operation)
        ocov["seen_statuses"] = _union_list(ocov["seen_statuses"], [int(status)])
        if body is not _EMPTY:
            statuses = self.shapes.setdefault(vendor, {}).setdefault(operation, {})
            statuses[str(status)] = merge_shapes(statuses.get(str(status), _EMPTY), shape_of(body))

    def observe_behaviour(self, vendor: str, operation: str, key: str, value: Any) -> None:
        """Record something an answer showed besides its body: `media STATUS` -> content type, `headers STATUS` ->
        header name, `auth MODE` -> the status a probe got (MODE: none, wrong, other-identity)."""
        bcov = self._op_coverage(vendor, operation).setdefault("behaviour", {})
        bcov[key] = _union_list(bcov.get(key, []), [value])

    def observe_enum(self, vendor: str, operation: str, location: str, value: Any) -> None:
        """Record a value seen at an enum-typed location (coverage of documented values)."""
        ecov = self._op_coverage(vendor, operation)["enums"].setdefault(location, {"documented": [], "seen": []})
        ecov["seen"] = _union_list(ecov["seen"], [value])

    def document_operation(
        self,
        vendor: str,
        operation: str,
        statuses: Iterable[str],
        enums: Mapping[str, Iterable[Any]] | None = None,
        no_success: str = "",
    ) -> None:
        """Declare what the contract documents, so coverage can show what was never exercised (`no_success`: why the
        contract itself says a run never gets this operation's documented success, e.g. a 403 to these credentials)."""
        ocov = self._op_coverage(vendor, operation)
        if no_success:
            ocov["no_success"] = no_success
        ocov["documented_statuses"] = _union_list(ocov["documented_statuses"], [str(s) for s in statuses])
        for location, values in (enums or {}).items():
            ecov = ocov["enums"].setdefault(location, {"documented": [], "seen": []})
            ecov["documented"] = _union_list(ecov["documented"], list(values))
        vcov = self.coverage[vendor]
        vcov["documented_operations"] = max(int(vcov.get("documented_operations") or 0), len(vcov["operations"]))

    def _op_coverage(self, vendor: str, operation: str) -> dict[str, Any]:
        vcov = self.coverage.setdefault(vendor, {"documented_operations": 0, "operations": {}})
        operations: dict[str, dict[str, Any]] = vcov["operations"]
        return operations.setdefault(operation, {"documented_statuses": [], "seen_statuses": [], "enums": {}})

    def finish(self) -> None:
        """Stamp `finished` and the wall-clock duration."""
        self.finished = now_iso()
        self.duration = _seconds_between(self.started, self.finished)

    # ---- views

    @property
    def left_behind(self) -> list[dict[str, Any]]:
        """Every record the run created on a live target and could not delete (vendor, operation, id, url, reason)."""
        return [entry for report in self.writes.values() for entry in report.get("left_behind") or []]

    @property
    def findings(self) -> list[Finding]:
        return [f for case in self.cases for f in case.findings]

    def all_vendors(self) -> list[str]:
        """Declared vendors first, then any that only appear in cases or coverage."""
        out = list(self.vendors)
        for name in [c.vendor for c in self.cases] + list(self.coverage):
            if name not in out:
                out.append(name)
        return out

    # ---- serialisation

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "started": self.started,
            "finished": self.finished,
            "duration": round(float(self.duration), 3),
            "seed": self.seed,
            "argv": list(self.argv),
            "context": dict(self.context),
            "targets": dict(self.targets),
            "vendors": list(self.vendors),
            "suites": list(self.suites),
            "cases": [case_to_dict(c) for c in self.cases],
            "coverage": self.coverage,
            "shapes": self.shapes,
            "interrupted": self.interrupted or None,
            "planned": self.planned or None,
            "history": dict(self.history),
            "writes": self.writes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "run record") -> RunRecord:
        """Parse a record; a wrong or newer schema is a one-line ConfigError naming `source`."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{source}: not an apiconform run record (expected a JSON object)")
        schema = data.get("schema")
        if not isinstance(schema, str) or not schema.startswith("apiconform.gate._run/"):
            raise ConfigError(f"{source}: not an apiconform run record (schema {schema!r}, expected {RUN_SCHEMA!r})")
        if schema != RUN_SCHEMA:
            raise ConfigError(f"{source}: unsupported run record schema {schema!r} (this apiconform reads {RUN_SCHEMA!r})")
        try:
            cases = [case_from_dict(c) for c in data.get("cases") or []]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid case in run record: {type(exc).__name__}: {exc}") from None
        return cls(
            schema=schema,
            started=str(data.get("started") or ""),
            finished=str(data.get("finished") or ""),
            duration=float(data.get("duration") or 0.0),
            seed=data.get("seed"),
            argv=list(data.get("argv") or []),
            context={str(k): str(v) for k, v in (data.get("context") or {}).items()},
            targets=dict(data.get("targets") or {}),
            vendors=list(data.get("vendors") or []),
            suites=list(data.get("suites") or []),
            cases=cases,
            coverage=dict(data.get("coverage") or {}),
            shapes=dict(data.get("shapes") or {}),
            interrupted=str(data.get("interrupted") or ""),
            planned=int(data.get("planned") or 0),
            history={str(k): str(v) for k, v in (data.get("history") or {}).items()},
            writes=dict(data.get("writes") or {}),
        )

    def covered_history(self) -> dict[str, str]:
        """Every test ("VENDOR:CASE") -> when it last ran: the earlier runs' history with this run's tests stamped
        `started` (a test counts when it sent a request, judged something or found it cannot apply; one the request
        budget kept from running keeps its earlier date)."""
        history = dict(self.history)
        for case in self.cases:
            if case.requests or case.findings or "request budget" not in case.skipped:
                history[f"{case.vendor}:{case.name}"] = self.started
        return dict(sorted(history.items()))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def write(self, out: str | os.PathLike[str]) -> Path:
        """Write `run.json` atomically (a directory gets `run.json` inside it); returns the path."""
        path = Path(out)
        if path.is_dir() or not path.suffix:
            path = path / "run.json"
        return write_text_atomic(path, self.to_json())


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read a run record from a file, or from `run.json` inside a reports directory."""
    p = Path(path)
    if p.is_dir():
        p = p / "run.json"
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no run record here (run the suite first, or pass a reports directory)") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read run record: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not an apiconform run record (not UTF-8 text: byte 0x{exc.object[exc.start]:02x} "
                          f"at offset {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}:{exc.lineno}: invalid JSON in run record: {exc.msg}") from None
    return RunRecord.from_dict(data, source=str(p))


def write_text_atomic(path: Path, text: str) -> Path:
    """Write via a temp file + rename so a crashed run never leaves half a report behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # reports are read by CI artifact uploaders and web servers (mkstemp makes 0600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- merge


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _seconds_between(start: str, end: str) -> float:
    a, b = _parse_time(start), _parse_time(end)
    return max(0.0, (b - a).total_seconds()) if a and b else 0.0


def _merged_context(records: list[RunRecord]) -> dict[str, str]:
    """The first shard's context, saying that every shard is in (and reproducing the whole run, not one shard)."""
    import re

    context = dict(records[0].context)
    shards = sorted({r.context.get("shard", "none") for r in records})
    if shards != ["none"] and "shard" in context:
        context["shard"] = f"{len(records)} merged ({', '.join(shards)})"
        context["reproduce"] = re.sub(r" --shard=\S+", "", context.get("reproduce", ""))
    return context


def merge_records(records: Iterable[RunRecord]) -> RunRecord:
    """One record from sharded runs: cases concatenated, coverage and shapes merged, wall-clock span."""
    records = list(records)
    if not records:
        raise ConfigError("merge: no run records to merge")
    if len(records) == 1:
        return RunRecord.from_dict(records[0].to_dict())  # a copy, never an alias

    def ordered_union(lists: Iterable[Iterable[str]]) -> list[str]:
        out: list[str] = []
        for items in lists:
            out.extend(i for i in items if i not in out)
        return out

    starts = [(t, r.started) for r in records if (t := _parse_time(r.started))]
    ends = [(t, r.finished) for r in records if (t := _parse_time(r.finished))]
    started = min(starts)[1] if starts else records[0].started
    finished = max(ends)[1] if ends else records[-1].finished
    seeds = {r.seed for r in records}
    targets: dict[str, str] = {}
    for r in records:
        targets.update(r.targets)
    merged = RunRecord(
        started=started,
        finished=finished,
        duration=_seconds_between(started, finished) if starts and ends else max(r.duration for r in records),
        seed=seeds.pop() if len(seeds) == 1 else None,  # shards with different seeds: no single seed
        argv=list(records[0].argv),
        context=_merged_context(records),
        targets=targets,
        vendors=ordered_union(r.vendors for r in records),
        suites=ordered_union(r.suites for r in records),
        cases=[case_from_dict(case_to_dict(c)) for r in records for c in r.cases],
        coverage=merge_coverage(*(r.coverage for r in records)),
        shapes=merge_shape_maps(*(r.shapes for r in records)),
        interrupted=",".join(dict.fromkeys(r.interrupted for r in records if r.interrupted)),  # one stopped shard: stopped
        planned=sum(r.planned or len(r.cases) for r in records) if any(r.interrupted for r in records) else 0,
        history={k: v for r in records for k, v in r.history.items()},
        writes=_merge_writes(r.writes for r in records),
    )
    return merged


# Options that decide what a shard sends and judges: shards of one run agree on every one of them.
SHARD_OPTIONS = ("seed", "vendors", "suites", "operations", "targets", "drifts", "faults", "max_examples",
                 "allow_writes", "max_requests", "rate", "apiconform", "schemathesis", "hypothesis")


def check_mergeable(named: Iterable[tuple[str, RunRecord]]) -> None:
    """Refuse a merge that would not be one whole run: a shard missing or merged twice, shards of different
    runs (seed, vendors, suites, drifts, ... or tool versions differ), or the same case recorded twice.
    One `ConfigError` naming every problem and the directories concerned."""
    runs = list(named)
    problems: list[str] = []
    shards: dict[str, list[str]] = {}
    for source, record in runs:
        shards.setdefault(record.context.get("shard", "unknown"), []).append(source)
    declared = {s for s in shards if s not in ("none", "unknown")}
    if declared:
        totals: set[int] = set()
        indexes: dict[int, list[str]] = {}
        for spec in declared:
            head, _, tail = spec.partition("/")
            try:
                totals.add(int(tail))
                indexes.setdefault(int(head), []).extend(shards[spec])
            except ValueError:
                problems.append(f"unreadable shard {spec!r} in {', '.join(shards[spec])}")
        for other in ("none", "unknown"):
            if other in shards:
                what = "not sharded" if other == "none" else "records no shard"
                problems.append(f"{', '.join(shards[other])} {what}, merged with shards")
        if len(totals) > 1:
            problems.append(f"shards of different splits: {', '.join(sorted(declared))}")
        elif totals:
            count = totals.pop()
            missing = [i for i in range(1, count + 1) if i not in indexes]
            if missing:
                problems.append(f"shard {', '.join(f'{i}/{count}' for i in missing)} missing "
                                f"(merged {len(runs)} of {count})")
        for number, sources in sorted(indexes.items()):
            if len(sources) > 1:
                problems.append(f"shard {number} merged {len(sources)} times: {', '.join(sources)}")
    first_source, first = runs[0]
    for option in SHARD_OPTIONS:
        if option not in first.context:
            continue
        for source, record in runs[1:]:
            if record.context.get(option) != first.context[option]:
                problems.append(f"{option} differs: {first.context[option]!r} in {first_source}, "
                                f"{record.context.get(option)!r} in {source}")
                break
    seen: dict[tuple[str, str, str], str] = {}
    for source, record in runs:
        for case in record.cases:
            key = (case.vendor, case.suite, case.name)
            if key in seen and seen[key] != source:
                problems.append(f"{case.name} ({case.vendor}) recorded in both {seen[key]} and {source}")
                break
            seen.setdefault(key, source)
    if problems:
        raise ConfigError("merge refused, not one whole run: " + "; ".join(dict.fromkeys(problems)))


def _merge_writes(maps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Shards' write reports per vendor: counts added, refusals and left-behind records joined."""
    out: dict[str, Any] = {}
    for writes in maps:
        for vendor, report in writes.items():
            if vendor not in out:
                out[vendor] = json.loads(json.dumps(report))
                continue
            into = out[vendor]
            for key in ("created", "deleted", "refused_requests", "cleanup_seconds"):
                into[key] = into.get(key, 0) + report.get(key, 0)
            into["refused"] = {**report.get("refused", {}), **into.get("refused", {})}
            into["left_behind"] = [*into.get("left_behind", []), *report.get("left_behind", [])]
    return out
