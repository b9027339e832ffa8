"""Conformance matrix and coverage: the numbers every human-facing report is drawn from.

Computed once here so JSON, Markdown and HTML can never disagree. Both documents have a
versioned, documented schema (docs/run-record.md) because CI bots and dashboards parse them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from apiconform.findings import Category, Finding
from apiconform.report._groups import group_findings
from apiconform.runrecord import RunRecord, write_text_atomic

__all__ = [
    "COVERAGE_SCHEMA",
    "MATRIX_SCHEMA",
    "Waived",
    "build_coverage",
    "build_matrix",
    "render_matrix_md",
    "status_documented",
    "waived_map",
    "write_coverage_json",
    "write_matrix_json",
    "write_matrix_md",
]

MATRIX_SCHEMA = "apiconform.matrix/1"
COVERAGE_SCHEMA = "apiconform.coverage/1"
CATEGORIES: list[Category] = list(Category)

# Waived findings, as given by the gate: fingerprint -> waiver reason (or just a set of fingerprints).
Waived = Mapping[str, str] | Collection[str]


def waived_map(waived: Waived | None) -> dict[str, str]:
    """Normalise the `waived` argument of every writer to fingerprint -> reason."""
    if not waived:
        return {}
    if isinstance(waived, Mapping):
        return {str(k): str(v) for k, v in waived.items()}
    return {str(k): "" for k in waived}


def _counts() -> dict[str, int]:
    return {"passed": 0, "failed": 0, "waived": 0}


def build_matrix(
    record: RunRecord, waived: Waived | None = None, fail_on: Collection[Category] | None = None
) -> dict[str, Any]:
    """Vendor x category counts and verdicts.

    passed = executed cases whose checks covered the category with no finding in it;
    failed = unwaived findings in the category; waived = findings a baseline waiver matched.
    `fail_on` only changes the verdict (as in the gate); counts always include every category.
    """
    wmap = waived_map(waived)
    gating = {Category(c) for c in fail_on} if fail_on else set(CATEGORIES)
    coverage = build_coverage(record)
    vendors: dict[str, Any] = {}
    overall = {"cases": 0, "executed": 0, "skipped": 0, "failed_cases": 0, **_counts()}
    gating_failures = 0
    for vendor in record.all_vendors():
        cats = {c.value: _counts() for c in CATEGORIES}
        tot = {"cases": 0, "executed": 0, "skipped": 0, "failed_cases": 0}
        vendor_gating = 0
        for case in (c for c in record.cases if c.vendor == vendor):
            tot["cases"] += 1
            if case.skipped and not case.findings:
                tot["skipped"] += 1
                continue
            tot["executed"] += 1
            hit: set[Category] = set()
            unwaived = 0
            for f in case.findings:
                hit.add(f.category)
                if f.fingerprint in wmap:
                    cats[f.category.value]["waived"] += 1
                else:
                    cats[f.category.value]["failed"] += 1
                    unwaived += 1
                    vendor_gating += f.category in gating
            tot["failed_cases"] += unwaived > 0
            for cat in set(case.categories) - hit:
                cats[Category(cat).value]["passed"] += 1
        sums = {k: sum(c[k] for c in cats.values()) for k in _counts()}
        if vendor_gating:
            verdict = "fail"
        elif tot["executed"] == 0:
            verdict = "untested"
        else:
            verdict = "pass"
        vcov = coverage["vendors"].get(vendor, {})
        vendors[vendor] = {
            "target": record.targets.get(vendor, ""),
            "categories": cats,
            "totals": {**tot, **sums},
            "verdict": verdict,
            "operations": {
                "documented": vcov.get("documented_operations"),
                "exercised": vcov.get("exercised_operations", 0),
            },
        }
        for key in overall:
            overall[key] += vendors[vendor]["totals"][key]
        gating_failures += vendor_gating
    if gating_failures:
        verdict = "fail"
    elif overall["executed"] == 0:
        verdict = "untested"
    else:
        verdict = "pass"
    warnings = list(coverage["warnings"])
    if record.interrupted:  # never a pass: what never ran was not judged
        verdict = "interrupted"
        warnings.insert(0, f"INTERRUPTED by {record.interrupted}: {len(record.cases)} of {record.planned or len(record.cases)} "
                           f"cases finished; the others never ran")
    return {
        "schema": MATRIX_SCHEMA,
        "run": {
            "started": record.started,
            "finished": record.finished,
            "duration": round(record.duration, 3),
            "seed": record.seed,
            "targets": dict(record.targets),
            "suites": list(record.suites),
            "context": dict(record.context),
            "interrupted": record.interrupted or None,
            "planned": record.planned or None,
        },
        "categories": [c.value for c in CATEGORIES],
        "fail_on": sorted(c.value for c in gating) if fail_on else None,
        "vendors": vendors,
        "totals": overall,
        "verdict": verdict,
        "warnings": warnings,
        "root_causes": [dict(g.to_dict(), waived=all(fp in wmap for fp in g.fingerprints))
                        for g in group_findings(record.findings)],
    }


# --------------------------------------------------------------------------- coverage


def status_documented(status: int | str, documented: Collection[str]) -> bool:
    """Whether a seen status is documented: exact code, `4XX` range, or `default`."""
    text = str(status)
    if text in documented:
        return True
    if text.isdigit() and (f"{text[0]}XX" in documented or f"{text[0]}xx" in documented):
        return True
    return "default" in documented


def _documented_seen(doc: str, seen: list[int | str], documented: Collection[str]) -> bool:
    """Whether a documented status was exercised (`default` = any status nothing else documents)."""
    seen_text = [str(s) for s in seen]
    if doc == "default":
        explicit = [d for d in documented if d != "default"]
        return any(not status_documented(s, explicit) for s in seen_text)
    if doc.upper().endswith("XX"):
        return any(s[:1] == doc[:1] and len(s) == 3 for s in seen_text)
    return doc in seen_text


def build_coverage(record: RunRecord) -> dict[str, Any]:
    """What the run exercised against what the contracts document, with loud warnings.

    A gate is only as good as what it touched: "0 of 31 operations exercised" must be
    visible next to a green verdict, never hidden by it.
    """
    vendors: dict[str, Any] = {}
    warnings: list[str] = []
    for vendor in record.all_vendors():
        vcov = record.coverage.get(vendor) or {}
        ops_cov: Mapping[str, Any] = vcov.get("operations") or {}
        cases = [c for c in record.cases if c.vendor == vendor]
        executed = [c for c in cases if not (c.skipped and not c.findings)]
        labels = list(ops_cov) + sorted({c.operation for c in cases} - set(ops_cov))
        ops: dict[str, Any] = {}
        st = {"documented": 0, "seen": 0, "undocumented_seen": 0}
        en = {"documented": 0, "seen": 0, "undocumented_seen": 0}
        for label in labels:
            ocov = ops_cov.get(label) or {}
            documented = [str(s) for s in ocov.get("documented_statuses") or []]
            seen = list(ocov.get("seen_statuses") or [])
            seen = sorted({*seen, *(c.status for c in executed if c.operation == label and c.status is not None)})
            n_cases = sum(c.operation == label for c in executed)
            unseen = [d for d in documented if not _documented_seen(d, seen, documented)]
            undocumented = [s for s in seen if documented and not status_documented(s, documented)]
            st["documented"] += len(documented)
            st["seen"] += len(documented) - len(unseen)
            st["undocumented_seen"] += len(undocumented)
            enums: dict[str, Any] = {}
            for location, ecov in (ocov.get("enums") or {}).items():
                edoc = list(ecov.get("documented") or [])
                eseen = list(ecov.get("seen") or [])
                e_unseen = [v for v in edoc if v not in eseen]
                e_undoc = [v for v in eseen if edoc and v not in edoc]
                enums[location] = {
                    "documented": edoc,
                    "seen": eseen,
                    "unseen": e_unseen,
                    "undocumented": e_undoc,
                }
                en["documented"] += len(edoc)
                en["seen"] += len(edoc) - len(e_unseen)
                en["undocumented_seen"] += len(e_undoc)
            ops[label] = {
                "exercised": bool(n_cases or seen),
                "cases": n_cases,
                "documented_statuses": documented,
                "seen_statuses": seen,
                "unseen_statuses": unseen,
                "undocumented_statuses": undocumented,
                "enums": enums,
                **({"no_success": ocov["no_success"]} if ocov.get("no_success") else {}),
            }
        documented_ops = vcov.get("documented_operations") if vcov else None
        if documented_ops is not None:
            documented_ops = max(int(documented_ops), sum(1 for o in ops_cov.values() if o.get("documented_statuses")))
        exercised = sum(1 for o in ops.values() if o["exercised"])
        vwarn: list[str] = []
        if documented_ops is None:
            vwarn.append(f"{vendor}: no contract coverage in the run record; {exercised} operations exercised")
        elif exercised == 0:
            vwarn.append(f"{vendor}: 0 of {documented_ops} operations exercised - a pass here tested nothing")
        if cases and not executed:
            vwarn.append(f"{vendor}: all {len(cases)} cases were skipped")
        unobserved = [(label, d) for label, o in ops.items() if o["exercised"] for d in o["unseen_statuses"]]
        success = _documented_success(ops, cases)
        if unobserved:
            vwarn.append(f"{vendor}: {len(unobserved)} documented responses of exercised operations never observed"
                         " (coverage.json lists each as unseen_statuses)")
        if success["never"] and exercised:  # nothing exercised: the warning above says it for every operation
            vwarn.append(f"{vendor}: {len(success['never'])} of {success['operations']} operations never got a documented "
                         "success: " + "; ".join(f"{n['operation']} {'/'.join(n['documented'])} ({n['why']})"
                                                 for n in success["never"]))
        warnings.extend(vwarn)
        vendors[vendor] = {
            "documented_operations": documented_ops,
            "exercised_operations": exercised,
            "statuses": st,
            "enum_values": en,
            "documented_success": success,
            "operations": ops,
            "warnings": vwarn,
        }
    if not record.cases:
        warnings.insert(0, "no test cases ran")
    history = record.covered_history()
    planned = {f"{c.vendor}:{c.name}" for c in record.cases} | set(history)
    rolling = {"tests_planned": len(planned), "tests_covered": sum(1 for k in planned if k in history),
               "never_covered": sorted(k for k in planned if k not in history)}
    # `history` accumulates across runs (a rolling run reads it back): every test's last run
    return {"schema": COVERAGE_SCHEMA, "vendors": vendors, "warnings": warnings, "rolling": rolling, "history": history}


#: skip reasons saying a test does not apply to an operation (not why its success was never seen)
_NOT_APPLICABLE = ("the docs show no request example", "operation requires no credentials",
                   "operation documents no idempotency key")


def _short(reason: str) -> str:
    """A skip reason without the record's path (`not a record of this run: PUT op on /x/1 not sent, ...`), keeping
    why no record of the run's own could be made."""
    head, _, _ = reason.partition(" on /")
    _, own, why = reason.partition("no record of its own could be made: ")
    return head + (f" ({own}{why})" if own else "") if head != reason else reason[:200]


def _documented_success(ops: Mapping[str, Any], cases: list[Any]) -> dict[str, Any]:
    """Every operation documenting a 2xx that never answered one in this run, exercised or not, and why: the
    statuses it answered, or the reason its cases did not run (a read-only run, a write the policy refused)."""
    never: list[dict[str, Any]] = []
    documenting = 0
    for label, o in ops.items():
        documented = [d for d in o["documented_statuses"] if d.startswith("2")]
        if not documented:
            continue
        documenting += 1
        seen = list(o["seen_statuses"])
        if any(str(status).startswith("2") for status in seen):
            continue
        skipped = sorted({_short(c.skipped) for c in cases if c.operation == label and c.skipped
                          and not c.skipped.startswith(_NOT_APPLICABLE)})
        why = f"answered {', '.join(map(str, seen))}" if seen else "not run" if not o["exercised"] else "no answer"
        if skipped:
            why += f"; skipped: {skipped[0]}" + (f" (+{len(skipped) - 1} more reasons)" if len(skipped) > 1 else "")
        expected = str(o.get("no_success") or "")
        if expected:
            why += f"; expected: {expected}"
        never.append({"operation": label, "documented": documented, "seen": seen, "why": why, "skipped": skipped,
                      "expected": expected})
    return {"operations": documenting, "observed": documenting - len(never), "never": never}


# --------------------------------------------------------------------------- writers

def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_matrix_json(
    record: RunRecord,
    out_dir: str | os.PathLike[str],
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
) -> Path:
    """`matrix.json`: the stable machine-readable verdict (schema apiconform.matrix/1)."""
    return write_text_atomic(Path(out_dir) / "matrix.json", _dump(build_matrix(record, waived, fail_on)))


def write_coverage_json(record: RunRecord, out_dir: str | os.PathLike[str]) -> Path:
    """`coverage.json`: documented vs exercised operations, statuses and enum values."""
    return write_text_atomic(Path(out_dir) / "coverage.json", _dump(build_coverage(record)))


_VERDICT_MD = {"pass": "✅ pass", "fail": "❌ fail", "untested": "⚠️ untested", "interrupted": "⚠️ interrupted"}


def _md(text: Any, limit: int = 160) -> str:
    """Table-safe Markdown text: no raw HTML, pipes or line breaks from vendor data."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return (
        s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("`", "'")
    )


def _md_cell(counts: Mapping[str, int]) -> str:
    if counts["failed"]:
        return f"❌ {counts['failed']}"
    if counts["waived"]:
        return f"🟡 {counts['waived']}w"
    if counts["passed"]:
        return f"✅ {counts['passed']}"
    return "·"


def render_matrix_md(
    record: RunRecord,
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
    max_findings: int = 10,
) -> str:
    """Markdown for a CI job summary or PR comment: grid, first findings per vendor, coverage."""
    wmap = waived_map(waived)
    m = build_matrix(record, wmap, fail_on)
    cov = build_coverage(record)
    t = m["totals"]
    lines = [
        f"## apiconform conformance: {_VERDICT_MD[m['verdict']]}",
        "",
        f"{t['executed']} cases run, {t['skipped']} skipped · {t['failed']} findings"
        f" · {t['waived']} waived · {t['passed']} category passes"
        f" · started {_md(record.started)} · {record.duration:.1f}s"
        + (f" · seed {record.seed}" if record.seed is not None else ""),
        "",
    ]
    if record.context:
        shown = {k: v for k, v in record.context.items() if k != "reproduce"}
        lines += ["Run context: " + " · ".join(f"{_md(k)} `{_md(v, 300)}`" for k, v in shown.items()), ""]
        if "reproduce" in record.context:
            lines += [f"Reproduce: `{_md(record.context['reproduce'], 1000)}`", ""]
    for w in m["warnings"]:
        lines.append(f"> ⚠️ **{_md(w, 300)}**")
    if m["warnings"]:
        lines.append("")
    cats = m["categories"]
    lines.append("| vendor | target | " + " | ".join(cats) + " | cases | verdict |")
    lines.append("|---|---|" + "---|" * len(cats) + "---|---|")
    for vendor, v in m["vendors"].items():
        cells = " | ".join(_md_cell(v["categories"][c]) for c in cats)
        lines.append(
            f"| {_md(vendor)} | {_md(v['target'] or '-')} | {cells} | {v['totals']['executed']} | {_VERDICT_MD[v['verdict']]} |"
        )
    lines += [
        "",
        "✅ passed cases · ❌ findings · 🟡 waived by baseline · · not covered by any check",
        "",
    ]
    if m["fail_on"]:
        lines += [f"Gate fails only on: {', '.join(m['fail_on'])} (other categories are reported).", ""]

    groups = m["root_causes"]
    if groups:
        lines += [f"### Findings by root cause ({len(groups)})", "",
                  "| vendor | root cause | operations | cases | fingerprints |", "|---|---|---|---|---|"]
        for g in groups[:max_findings]:
            mark = " 🟡 waived" if g["waived"] else ""
            ops = ", ".join(g["operations"][:5]) + (f", … (+{len(g['operations']) - 5})" if len(g["operations"]) > 5 else "")
            fps = ", ".join(g["fingerprints"][:3]) + (" …" if len(g["fingerprints"]) > 3 else "")
            lines.append(f"| {_md(g['vendor'])} | {_md(g['title'])}{mark} | {_md(ops, 300)} | {g['cases']} | {fps} |")
        if len(groups) > max_findings:
            lines.append(f"| … | {len(groups) - max_findings} more root causes in matrix.json | | | |")
        lines.append("")
    findings_by_vendor: dict[str, list[Finding]] = {}
    for f in record.findings:
        findings_by_vendor.setdefault(f.vendor, []).append(f)
    if findings_by_vendor:
        lines += ["### Findings", ""]
        for vendor, findings in findings_by_vendor.items():
            findings.sort(key=lambda f: (f.fingerprint in wmap, f.operation, f.category.value))
            lines += [f"**{_md(vendor)}** ({len(findings)})", "", "| operation | category | message |", "|---|---|---|"]
            # one row per distinct finding (fingerprint): a finding seen by several cases must not crowd others out
            rows: dict[str, list[Finding]] = {}
            for f in findings:
                rows.setdefault(f.fingerprint, []).append(f)
            for same in list(rows.values())[:max_findings]:
                f = same[0]
                mark = " 🟡 waived" if f.fingerprint in wmap else ""
                times = f" (×{len(same)})" if len(same) > 1 else ""
                lines.append(f"| {_md(f.operation)} | {f.category.value} {f.code}{mark} | {_md(f.message)}{times} |")
            hidden = sum(len(same) for same in list(rows.values())[max_findings:])
            if hidden:
                lines.append(f"| … | | {hidden} more in matrix.html / run.json |")
            lines.append("")
    lines += ["### Coverage", "", "| vendor | operations exercised | documented statuses seen | enum values seen |"]
    lines.append("|---|---|---|---|")
    for vendor, v in cov["vendors"].items():
        doc = v["documented_operations"]
        ops = f"{v['exercised_operations']} of {doc}" if doc is not None else f"{v['exercised_operations']} of ?"
        if v["warnings"]:
            ops = "⚠️ " + ops
        st, en = v["statuses"], v["enum_values"]
        extra = f" (+{st['undocumented_seen']} undocumented)" if st["undocumented_seen"] else ""
        eextra = f" (+{en['undocumented_seen']} undocumented)" if en["undocumented_seen"] else ""
        lines.append(
            f"| {_md(vendor)} | {ops} | {st['seen']} of {st['documented']}{extra} | {en['seen']} of {en['documented']}{eextra} |"
        )
    never = [(vendor, n) for vendor, v in cov["vendors"].items() if v["exercised_operations"]
             for n in v["documented_success"]["never"]]
    if never:
        lines += ["", f"### Documented success never observed ({len(never)})", "",
                  "| vendor | operation | documented | why |", "|---|---|---|---|"]
        lines += [f"| {_md(vendor)} | {_md(n['operation'])} | {'/'.join(n['documented'])} | {_md(n['why'], 300)} |"
                  for vendor, n in never]
    return "\n".join(lines) + "\n"


def write_matrix_md(
    record: RunRecord,
    out_dir: str | os.PathLike[str],
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
    max_findings: int = 10,
) -> Path:
    """`matrix.md`: append it to $GITHUB_STEP_SUMMARY or post it as a PR comment."""
    return write_text_atomic(Path(out_dir) / "matrix.md", render_matrix_md(record, waived, fail_on, max_findings))
