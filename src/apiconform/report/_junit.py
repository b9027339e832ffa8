"""JUnit XML: the lowest common denominator every CI system can show as test results.

Layout follows the Ant/Jenkins/GitLab flavour: <testsuites> > <testsuite> per vendor >
<testcase> per CaseResult, at most one <failure> per testcase (the strict XSDs allow only one),
whose text lists every finding with its category, message and reproduction command.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from apiconform.findings import CaseResult, Category, Finding
from apiconform.report._groups import group_findings, root_cause
from apiconform.report._matrix import Waived, waived_map
from apiconform.runrecord import RunRecord, write_text_atomic

__all__ = ["render_junit", "write_junit"]

# XML 1.0 forbids most control characters even escaped; vendor bodies can contain anything.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(value: Any) -> str:
    return _INVALID_XML.sub("\ufffd", str(value))


def _timestamp(iso: str) -> str:
    """JUnit timestamps are ISO 8601 without a zone (the XSD pattern rejects offsets)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M:%S")
    except (TypeError, ValueError):
        return "1970-01-01T00:00:00"


def _short(value: Any, limit: int = 500) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finding_text(f: Finding, reason: str | None = None) -> str:
    head = f"[{f.category.value}] {f.operation}: {f.message}"
    if reason is not None:
        head = f"WAIVED ({reason or 'baseline'}) " + head
    lines = [head, f"  code: {f.code}  check: {f.check}  fingerprint: {f.fingerprint}  severity: {f.severity.value}",
             f"  root cause: {root_cause(f)}"]
    if f.status is not None or f.pointer:
        lines.append(f"  status: {f.status}  pointer: {f.pointer or '(whole response)'}")
    if f.expected is not None:
        lines.append(f"  expected: {_short(f.expected)}")
    if f.actual is not None:
        lines.append(f"  actual: {_short(f.actual)}")
    if f.curl:
        lines.append(f"  reproduce: {f.curl}")
    return "\n".join(lines)


def _testcase(parent: ET.Element, case: CaseResult, wmap: dict[str, str], titles: dict[str, str] | None = None) -> tuple[int, int]:
    el = ET.SubElement(
        parent,
        "testcase",
        classname=_x(f"{case.vendor}.{case.operation}"),
        name=_x(f"{case.suite}::{case.name}"),
        time=f"{max(case.duration, 0.0):.3f}",
    )
    failing = [f for f in case.findings if f.fingerprint not in wmap]
    waived = [f for f in case.findings if f.fingerprint in wmap]
    if failing:
        props = ET.SubElement(el, "properties")
        for key in dict.fromkeys(root_cause(f) for f in failing):
            ET.SubElement(props, "property", name="root_cause", value=_x(key))
        cats = sorted({f.category.value for f in failing}, key=[c.value for c in Category].index)
        message = failing[0].message + (f" (+{len(failing) - 1} more)" if len(failing) > 1 else "")
        title = (titles or {}).get(root_cause(failing[0]))
        if title:
            message += f" — root cause: {title}"
        fail = ET.SubElement(el, "failure", message=_x(f"[{failing[0].category.value}] {message}"), type=",".join(cats))
        fail.text = _x("\n\n".join(_finding_text(f) for f in failing))
    elif case.skipped:
        ET.SubElement(el, "skipped", message=_x(case.skipped))
    if waived:
        out = ET.SubElement(el, "system-out")
        out.text = _x("\n\n".join(_finding_text(f, wmap[f.fingerprint]) for f in waived))
    return int(bool(failing)), int(bool(case.skipped) and not failing)


def render_junit(record: RunRecord, waived: Waived | None = None) -> str:
    """The JUnit XML document as text (waived findings do not fail their testcase)."""
    wmap = waived_map(waived)
    stamp = _timestamp(record.started)
    root = ET.Element("testsuites", name="apiconform")
    if record.context:  # the run's context (target, drifts, faults, budget, seed, versions, reproduce)
        context = ET.SubElement(root, "properties")
        for name, value in record.context.items():
            ET.SubElement(context, "property", name=_x(name), value=_x(value))
    if record.interrupted:  # the run stopped early: these are the cases that finished
        found = root.find("properties")
        context = found if found is not None else ET.SubElement(root, "properties")
        ET.SubElement(context, "property", name="interrupted", value=_x(record.interrupted))
        ET.SubElement(context, "property", name="planned", value=str(record.planned))
    titles = {g.key: g.title for g in group_findings(f for f in record.findings if f.fingerprint not in wmap)}
    totals = {"tests": 0, "failures": 0, "skipped": 0, "time": 0.0}
    for i, vendor in enumerate(record.all_vendors()):
        cases = [c for c in record.cases if c.vendor == vendor]
        suite = ET.SubElement(root, "testsuite", name=_x(vendor), id=str(i), package=_x(vendor))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="target", value=_x(record.targets.get(vendor, "")))
        if record.seed is not None:
            ET.SubElement(props, "property", name="seed", value=str(record.seed))
        for name, value in record.context.items():
            ET.SubElement(props, "property", name=_x(name), value=_x(value))
        failures = skipped = 0
        for case in cases:
            f, s = _testcase(suite, case, wmap, titles)
            failures += f
            skipped += s
        seconds = sum(max(c.duration, 0.0) for c in cases)
        suite.attrib.update(
            tests=str(len(cases)),
            failures=str(failures),
            errors="0",
            skipped=str(skipped),
            time=f"{seconds:.3f}",
            timestamp=stamp,
            hostname=_x(record.targets.get(vendor, "") or "localhost"),
        )
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
        totals["time"] += seconds
    root.attrib.update(
        tests=str(totals["tests"]),
        failures=str(totals["failures"]),
        errors="0",
        skipped=str(totals["skipped"]),
        time=f"{totals['time']:.3f}",
    )
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(
    record: RunRecord,
    out_dir: str | os.PathLike[str],
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
) -> Path:
    """`junit.xml` for CI test-result views (`fail_on` is accepted for a uniform writer signature)."""
    del fail_on  # a finding is a failed check whatever the gate policy; JUnit shows checks
    return write_text_atomic(Path(out_dir) / "junit.xml", render_junit(record, waived))
