"""Findings grouped by root cause: one vendor change seen at many operations is one line, not 143.

A root cause is (vendor, check, category, kind of change). The kind is read from what the check
recorded — an enum value that gained a suffix, a type answered as another type, a required field
missing — and otherwise is the JSON-pointer pattern (indices and ids normalised) plus the message
with its values masked. The key of a finding depends on that finding alone, so it can be written into
each failing test's message at run time (Allure categories match on it) and recomputed from run.json.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from apiconform.findings import Category, Finding

_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-fA-F]{16,}|[A-Za-z]+_[A-Za-z0-9]{12,})$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"(?<![\w/])-?\d+(\.\d+)?(?![\w/])")
_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null", list: "array", dict: "object"}


def pointer_pattern(ptr: str) -> str:
    """`/results/3/id` and `/data/3c90c3cc-…/id` → `/results/*/id`, `/data/*/id`."""
    return "/".join("*" if _ID_SEGMENT.match(part) else part for part in ptr.split("/"))


def _value(raw: Any) -> Any:
    """Findings keep short reprs of non-scalar values; read them back where they are literals."""
    if isinstance(raw, str) and raw[:1] in "{[(":
        try:
            return ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
    return raw


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _answered_type(raw: Any) -> str:
    """The JSON type of a finding's `actual`, also when its short repr was cut and no longer parses
    (`"['a', 'b', …"` is an array, never a string)."""
    value = _value(raw)
    if isinstance(value, str) and value is raw and raw[:1] in "[{(" and not raw.startswith(("'", '"')):
        return {"[": "array", "(": "array", "{": "object"}[raw[0]]
    return _json_type(value)


def _status(f: Finding) -> int | None:
    """The HTTP status a status-code or server-error finding is about (kept in its label, never masked)."""
    if isinstance(f.actual, int) and not isinstance(f.actual, bool) and 100 <= f.actual <= 599 and (
            f.category in (Category.STATUS_CODE, Category.SERVER_ERROR) or f.actual == f.status):
        return f.actual
    return None


def _suffix(actual: str, allowed: Iterable[Any]) -> str | None:
    for value in allowed:
        if isinstance(value, str) and value and actual.startswith(value) and actual != value:
            return actual[len(value):]
    return None


def change_kind(f: Finding) -> str:
    """What kind of change a finding shows, independent of where and which generated values."""
    expected = _value(f.expected)
    if isinstance(expected, dict) and len(expected) == 1:
        (keyword, rule), = expected.items()
        if keyword == "enum" and isinstance(rule, list):
            if isinstance(f.actual, str):
                suffix = _suffix(f.actual, rule)
                if suffix is not None:
                    return f"values gained suffix `{suffix}`"
                return "string value outside the documented enum"
            return f"{_answered_type(f.actual)} value outside the documented enum"
        if keyword == "type":
            return f"{rule if isinstance(rule, str) else '/'.join(map(str, rule))} answered as {_answered_type(f.actual)}"
        if keyword == "required":
            return "a required field is missing"
        return f"`{keyword}` violated at {pointer_pattern(f.pointer) or '/'}"
    message = f.message
    if f.pointer and message.startswith(f.pointer):
        message = message[len(f.pointer):].lstrip(": ")
    status = _status(f)
    if f.operation:  # the operation is named in the group's title; its label in the message would split a cause
        message = re.sub(rf"\b(for|of|at) {re.escape(f.operation)}\b", r"\1 the operation", message)
        message = _REDACTED_LABEL.sub(lambda m: f"{m.group(1)} the operation" if _is_label(m.group(2), f.operation)
                                      else m.group(0), message)
    masked = _NUMBER.sub(lambda m: m.group(0) if status is not None and m.group(0) == str(status) else "N",
                         _QUOTED.sub("…", message))
    where = pointer_pattern(f.pointer)
    return f"{masked} at {where}" if where else masked


_REDACTED_LABEL = re.compile(r"\b(for|of|at) (\S*\[REDACTED\]\S*)")


def _is_label(text: str, operation: str) -> bool:
    """Whether `text` is the operation's label as the redactor left it (a credential value inside an operation id,
    e.g. a user name, masked): it must not make one root cause per operation."""
    pattern = ".+?".join(re.escape(part) for part in text.split("[REDACTED]"))
    return re.fullmatch(pattern, operation) is not None


def root_cause(f: Finding) -> str:
    """The group key of a finding, as text: `vendor · category · check · kind`."""
    return f"{f.vendor} · {f.category.value} · {f.check} · {change_kind(f)}"


@dataclass
class Group:
    key: str
    vendor: str
    category: Category
    check: str
    kind: str
    findings: list[Finding] = field(default_factory=list)  # one per case that hit it (every member reachable)

    @property
    def operations(self) -> list[str]:
        return sorted({f.operation for f in self.findings})

    @property
    def code(self) -> str:
        """The failure code of the group's findings (one check and kind of change: one code)."""
        return self.findings[0].code if self.findings else ""

    @property
    def fingerprints(self) -> list[str]:
        return sorted({f.fingerprint for f in self.findings})

    @property
    def title(self) -> str:
        ops, cases = len(self.operations), len(self.findings)
        where = self.operations[0] if ops == 1 else f"{ops} operations"
        return f"{self.category.value}: {self.kind} at {where}, {cases} case{'s' if cases != 1 else ''}"

    def line(self, mark: str, all_fingerprints: bool = False) -> str:
        """One text line: the finding itself when alone, else the root cause with one example."""
        f = self.findings[0]
        if len(self.findings) == 1:
            return f"{mark} {f.vendor} {f.operation} [{f.category.value}] {f.code} {f.message} ({f.fingerprint})"
        fps = ", ".join(self.fingerprints) if all_fingerprints else (
            f"{len(self.fingerprints)} fingerprints, first {self.fingerprints[0]}")
        return f"{mark} {self.vendor} [{self.category.value}] {self.code} {self.title}; e.g. {f.operation}: {f.message} ({fps})"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "code": self.code, "vendor": self.vendor, "category": self.category.value,
                "check": self.check, "kind": self.kind, "operations": self.operations, "cases": len(self.findings),
                "fingerprints": self.fingerprints}


def group_findings(findings: Iterable[Finding]) -> list[Group]:
    """Groups, largest first; members in run order."""
    groups: dict[str, Group] = {}
    for f in findings:
        key = root_cause(f)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, f.vendor, f.category, f.check, change_kind(f))
        group.findings.append(f)
    return sorted(groups.values(), key=lambda g: (-len(g.findings), g.vendor, g.category.value, g.kind))


def allure_categories(groups: Iterable[Group]) -> list[dict[str, Any]]:
    """Allure `categories.json`: one category per root cause (matched on the `root cause:` line every failing
    test message carries), then one per apiconform category, so each failure lands in exactly one."""
    entries: list[dict[str, Any]] = []
    for g in groups:
        entries.append({"name": f"{g.code} {g.vendor} {g.title}", "matchedStatuses": ["failed"],
                        "messageRegex": f"(?s).*root cause: {re.escape(g.key)}(\n.*|$)"})
    for category in Category:
        entries.append({"name": f"apiconform: {category.value}", "matchedStatuses": ["failed"],
                        "messageRegex": f"(?s).*\\[{re.escape(category.value)}\\].*"})
    entries.append({"name": "apiconform: test crashed (no verdict)", "matchedStatuses": ["broken"]})
    return entries
