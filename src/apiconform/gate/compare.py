"""Compare two runs: what broke, what got fixed, and what drifted without failing any check.

Findings are matched by fingerprint (stable across runs); a finding whose place is the same
but whose category changed is reported as such rather than as one fixed plus one new. Shape
drift catches the changes contracts do not forbid (a new field, a field that became nullable):
the early warning before a vendor change turns into a failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from apiconform.contracts import escape
from apiconform.errors import EXIT_FINDINGS, EXIT_OK
from apiconform.findings import Finding, _generic_pointer
from apiconform.runrecord import RunRecord

__all__ = ["CompareReport", "Mismatch", "ShapeChange", "StatusChange", "compare_runs", "diff_shapes", "run_mismatches"]


@dataclass(frozen=True)
class StatusChange:
    """The set of statuses one operation answered changed between two runs of the same plan (coverage.json's
    `seen_statuses`): a list that went 200 → 403, an action 403 → 200, a 400 that became a 500."""

    vendor: str
    operation: str
    gained: tuple[int, ...]
    lost: tuple[int, ...]

    def describe(self) -> str:
        parts = []
        if self.lost:
            parts.append("no longer " + ", ".join(map(str, self.lost)))
        if self.gained:
            parts.append("now " + ", ".join(map(str, self.gained)))
        return f"{self.vendor} {self.operation}: statuses changed: {'; '.join(parts)}"

    def to_dict(self) -> dict[str, Any]:
        return {"vendor": self.vendor, "operation": self.operation, "gained": list(self.gained), "lost": list(self.lost)}


@dataclass(frozen=True)
class Mismatch:
    """Two runs that did not run the same plan: `refuse` ones make a comparison meaningless (a read-only run
    against a writes run "appears" every write finding), the others are warned about."""

    what: str
    a: str
    b: str
    refuse: bool
    why: str

    def describe(self) -> str:
        return f"the runs differ in {self.what} ({self.a} vs {self.b}): {self.why}"


def run_mismatches(a: RunRecord, b: RunRecord) -> list[Mismatch]:
    """How two runs' plans differ: mode (read-only vs writes), suites, operations, seed, max examples."""
    from apiconform.gate._verdict import run_mode

    out: list[Mismatch] = []
    if run_mode(a) != run_mode(b):
        out.append(Mismatch("mode", run_mode(a), run_mode(b), True,
                            "writes run only in one of them, so their findings and statuses appear or vanish"))
    for what, key in (("suites", "suites"), ("operations", "operations")):
        va, vb = a.context.get(key, ""), b.context.get(key, "")
        if va != vb and va and vb:
            out.append(Mismatch(what, va, vb, True, "tests ran in only one of them"))
    if a.suites and b.suites and not a.context.get("suites") and sorted(a.suites) != sorted(b.suites):
        out.append(Mismatch("suites", ",".join(sorted(a.suites)), ",".join(sorted(b.suites)), True,
                            "tests ran in only one of them"))
    if a.seed != b.seed:
        out.append(Mismatch("seed", str(a.seed), str(b.seed), False,
                            "the generated requests differ, so status sets are not compared and a shape change may be "
                            "only data (run both with the same --seed)"))
    ma, mb = a.context.get("max_examples", ""), b.context.get("max_examples", "")
    if ma != mb and ma and mb:
        out.append(Mismatch("max examples", ma, mb, False, "one run drew more cases"))
    return out


@dataclass(frozen=True)
class ShapeChange:
    """One difference between the response skeletons of the same vendor/operation/status."""

    vendor: str
    operation: str
    status: str
    path: str  # JSON-pointer-like; array items are `*`
    kind: str  # added | removed | type-changed
    before: Any = None
    after: Any = None

    def describe(self) -> str:
        where = f"{self.vendor} {self.operation} {self.status} {self.path or '/'}"
        if self.kind == "added":
            return f"{where}: field added ({_short(self.after)})"
        if self.kind == "removed":
            return f"{where}: field removed (was {_short(self.before)})"
        return f"{where}: type changed {_short(self.before)} -> {_short(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "operation": self.operation,
            "status": self.status,
            "path": self.path,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
        }


def _short(shape: Any, limit: int = 80) -> str:
    text = shape if isinstance(shape, str) else json.dumps(shape, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _types(shape: Any) -> set[str]:
    if isinstance(shape, dict):
        return {"object"}
    if isinstance(shape, list):
        return {"array"}
    return set(str(shape).split("|"))


def only_nullability(before: Any, after: Any) -> bool:
    """`string` ↔ `string|null`, `null` → `integer|null`: whether a value was *sometimes* seen null depends
    on what the generator sent and which optional fields a record got, not on the vendor (a null the contract
    forbids is a finding already). A value that became *always* null (`string` → `null`) is still drift."""
    a, b = _types(before), _types(after)
    return "null" in a | b and (a <= b or b <= a)


def diff_shapes(before: Any, after: Any, path: str = "") -> list[tuple[str, str, Any, Any]]:
    """(path, kind, before, after) for every difference between two shapes.

    An empty array shape (`[]`, item type unknown) matches any array: an empty page is not drift.
    """
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[tuple[str, str, Any, Any]] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}/{escape(key)}"
            if key not in after:
                out.append((sub, "removed", before[key], None))
            elif key not in before:
                out.append((sub, "added", None, after[key]))
            else:
                out.extend(diff_shapes(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list):
        if not before or not after:
            return []
        return diff_shapes(before[0], after[0], f"{path}/*")
    if only_nullability(before, after):
        return []
    return [(path, "type-changed", before, after)]


@dataclass
class CompareReport:
    """Differences from run A (before) to run B (after)."""

    appeared: list[Finding] = field(default_factory=list)
    disappeared: list[Finding] = field(default_factory=list)
    changed_category: list[tuple[Finding, Finding]] = field(default_factory=list)  # (before, after)
    shape_changes: list[ShapeChange] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    a_label: str = "A"
    b_label: str = "B"

    @property
    def exit_code(self) -> int:
        """1 when B is worse or different in a way someone must look at; fixes alone are 0."""
        worse = self.appeared or self.changed_category or self.shape_changes or self.status_changes
        return EXIT_FINDINGS if worse else EXIT_OK

    def warnings(self) -> list[str]:
        return [f"WARNING: {m.describe()}" for m in self.mismatches]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "apiconform.gate.compare/1",
            "a": self.a_label,
            "b": self.b_label,
            "appeared": [f.to_dict() for f in self.appeared],
            "disappeared": [f.to_dict() for f in self.disappeared],
            "changed_category": [{"before": a.to_dict(), "after": b.to_dict()} for a, b in self.changed_category],
            "shape_changes": [s.to_dict() for s in self.shape_changes],
            "status_changes": [s.to_dict() for s in self.status_changes],
            "warnings": self.warnings(),
            "exit_code": self.exit_code,
        }

    def render_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render_text(self) -> str:
        lines = [
            f"compare {self.a_label} -> {self.b_label}: {len(self.appeared)} appeared, "
            f"{len(self.disappeared)} disappeared, {len(self.changed_category)} changed category, "
            f"{len(self.shape_changes)} shape changes, {len(self.status_changes)} status changes"
        ]
        from apiconform.report import group_findings

        for sign, findings in (("+", self.appeared), ("-", self.disappeared)):
            for g in group_findings(findings):  # one line per root cause, every member's fingerprint named
                lines.append(g.line(f"  {sign}", all_fingerprints=True))
        for a, b in self.changed_category:
            lines.append(f"  ~ {b.vendor} {b.operation} {b.check} {a.category.value} -> {b.category.value}: {b.message}")
        for group in self.shape_groups():
            s = group[0]
            if len(group) == 1:
                lines.append(f"  shape {s.describe()}")
            else:
                pairs = sorted({f"{c.operation} {c.status}" for c in group})
                where = ", ".join(pairs[:3]) + (", …" if len(pairs) > 3 else "")
                what = s.describe().split(": ", 1)[1]
                lines.append(f"  shape {s.vendor} {s.path or '/'}: {what} at {len(group)} operation/status pairs ({where})")
        for change in self.status_changes:
            lines.append(f"  status {change.describe()}")
        lines += [f"  {w}" for w in self.warnings()]
        return "\n".join(lines) + "\n"

    def shape_groups(self) -> list[list[ShapeChange]]:
        """Shape changes of the same kind at the same path across operations: one root cause each."""
        groups: dict[tuple[str, str, str, str, str], list[ShapeChange]] = {}
        for s in self.shape_changes:
            key = (s.vendor, s.path, s.kind, json.dumps(s.before, sort_keys=True), json.dumps(s.after, sort_keys=True))
            groups.setdefault(key, []).append(s)
        return sorted(groups.values(), key=lambda g: -len(g))

    def render_md(self) -> str:
        def cell(text: Any) -> str:
            s = " ".join(str(text).split())
            s = s if len(s) <= 160 else s[:159] + "…"
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")

        icon = "❌" if self.exit_code else "✅"
        lines = [
            f"## {icon} apiconform compare: {cell(self.a_label)} → {cell(self.b_label)}",
            "",
            f"{len(self.appeared)} appeared · {len(self.disappeared)} disappeared · "
            f"{len(self.changed_category)} changed category · {len(self.shape_changes)} shape changes · "
            f"{len(self.status_changes)} status changes",
            "",
        ]
        lines += [f"> ⚠️ {cell(w)}" for w in self.warnings()] + ([""] if self.mismatches else [])
        if self.appeared or self.disappeared or self.changed_category:
            lines += ["| change | vendor | operation | category | message |", "|---|---|---|---|---|"]
            for f in self.appeared:
                lines.append(f"| ➕ appeared | {cell(f.vendor)} | {cell(f.operation)} | {f.category.value} | {cell(f.message)} |")
            for f in self.disappeared:
                lines.append(f"| ➖ fixed | {cell(f.vendor)} | {cell(f.operation)} | {f.category.value} | {cell(f.message)} |")
            for a, b in self.changed_category:
                lines.append(
                    f"| 🔀 category | {cell(b.vendor)} | {cell(b.operation)} | {a.category.value} → {b.category.value}"
                    f" | {cell(b.message)} |"
                )
            lines.append("")
        if self.shape_changes:
            lines += ["### Response shape drift", "", "| vendor | operation | status | path | change |", "|---|---|---|---|---|"]
            for s in self.shape_changes:
                if s.kind == "type-changed":
                    change = f"{cell(_short(s.before))} → {cell(_short(s.after))}"
                elif s.kind == "added":
                    change = f"added ({cell(_short(s.after))})"
                else:
                    change = f"removed (was {cell(_short(s.before))})"
                lines.append(
                    f"| {cell(s.vendor)} | {cell(s.operation)} | {cell(s.status)} | `{cell(s.path or '/')}` | {change} |"
                )
            lines.append("")
        if self.status_changes:
            lines += ["### Status changes", "", "| vendor | operation | no longer | now |", "|---|---|---|---|"]
            for c in self.status_changes:
                lines.append(f"| {cell(c.vendor)} | {cell(c.operation)} | {', '.join(map(str, c.lost)) or '-'} | "
                             f"{', '.join(map(str, c.gained)) or '-'} |")
            lines.append("")
        return "\n".join(lines)

    def render(self, fmt: str = "text") -> str:
        """Render as text, md or json."""
        renderers = {"text": self.render_text, "md": self.render_md, "json": self.render_json}
        return renderers[fmt]()


def _unique(findings: list[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        out.setdefault(f.fingerprint, f)
    return out


def _place(f: Finding) -> tuple[str, str, str, str]:
    return (f.vendor, f.operation, f.check, _generic_pointer(f.pointer))


def compare_runs(a: RunRecord, b: RunRecord, a_label: str = "A", b_label: str = "B") -> CompareReport:
    """Differences from run `a` (before) to run `b` (after); see CompareReport.exit_code."""
    fa, fb = _unique(a.findings), _unique(b.findings)
    only_a = {fp: f for fp, f in fa.items() if fp not in fb}
    only_b = {fp: f for fp, f in fb.items() if fp not in fa}
    report = CompareReport(a_label=a_label, b_label=b_label)

    by_place_a: dict[tuple[str, str, str, str], list[str]] = {}
    for fp, f in only_a.items():
        by_place_a.setdefault(_place(f), []).append(fp)
    for fp, f in list(only_b.items()):
        candidates = [c for c in by_place_a.get(_place(f), []) if c in only_a and only_a[c].category != f.category]
        if candidates:
            before = only_a.pop(candidates[0])
            del only_b[fp]
            report.changed_category.append((before, f))
    report.appeared = list(only_b.values())
    report.disappeared = list(only_a.values())

    for vendor in sorted(set(a.shapes) & set(b.shapes)):
        ops_a, ops_b = a.shapes[vendor], b.shapes[vendor]
        for op in sorted(set(ops_a) & set(ops_b)):
            for status in sorted(set(ops_a[op]) & set(ops_b[op])):
                for path, kind, before, after in diff_shapes(ops_a[op][status], ops_b[op][status]):
                    report.shape_changes.append(ShapeChange(vendor, op, str(status), path, kind, before, after))
    report.mismatches = run_mismatches(a, b)
    if a.seed == b.seed:  # other seeds send other requests: their status sets differ without any change
        report.status_changes = status_changes(a, b)
    return report


def _exercised(record: RunRecord) -> set[tuple[str, str]]:
    return {(c.vendor, c.operation) for c in record.cases if c.requests or not c.skipped}


def status_changes(a: RunRecord, b: RunRecord) -> list[StatusChange]:
    """Operations both runs exercised whose sets of answered statuses differ."""
    both = _exercised(a) & _exercised(b)
    out: list[StatusChange] = []
    for vendor, operation in sorted(both):
        seen_a = set(a.coverage.get(vendor, {}).get("operations", {}).get(operation, {}).get("seen_statuses", []))
        seen_b = set(b.coverage.get(vendor, {}).get("operations", {}).get(operation, {}).get("seen_statuses", []))
        if seen_a != seen_b and seen_a and seen_b:
            out.append(StatusChange(vendor, operation, tuple(sorted(seen_b - seen_a)), tuple(sorted(seen_a - seen_b))))
    return out
