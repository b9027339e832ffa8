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

from apiconform.contracts._pointer import escape
from apiconform.errors import EXIT_FINDINGS, EXIT_OK
from apiconform.findings import Finding, _generic_pointer
from apiconform.report._run import RunRecord

__all__ = ["CompareReport", "ShapeChange", "compare_runs", "diff_shapes"]


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
    a_label: str = "A"
    b_label: str = "B"

    @property
    def exit_code(self) -> int:
        """1 when B is worse or different in a way someone must look at; fixes alone are 0."""
        worse = self.appeared or self.changed_category or self.shape_changes
        return EXIT_FINDINGS if worse else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "apiconform.gate.compare/1",
            "a": self.a_label,
            "b": self.b_label,
            "appeared": [f.to_dict() for f in self.appeared],
            "disappeared": [f.to_dict() for f in self.disappeared],
            "changed_category": [{"before": a.to_dict(), "after": b.to_dict()} for a, b in self.changed_category],
            "shape_changes": [s.to_dict() for s in self.shape_changes],
            "exit_code": self.exit_code,
        }

    def render_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def render_text(self) -> str:
        lines = [
            f"compare {self.a_label} -> {self.b_label}: {len(self.appeared)} appeared, "
            f"{len(self.disappeared)} disappeared, {len(self.changed_category)} changed category, "
            f"{len(self.shape_changes)} shape changes"
        ]
        from apiconform.report._groups import group_findings

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
            f"{len(self.changed_category)} changed category · {len(self.shape_changes)} shape changes",
            "",
        ]
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
    return report
