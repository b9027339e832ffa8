"""The diff report as text (the terminal), Markdown (a pull-request comment) or JSON (machines)."""

from __future__ import annotations

import json
from typing import Any

from apiconform.errors import UsageError
from apiconform.gate.diff._model import DiffReport

FORMATS = ("text", "md", "json")


def render_text(report: DiffReport) -> str:
    lines = [
        f"apiconform diff {report.old} -> {report.new}",
        f"{len(report.breaking)} breaking, {len(report.non_breaking)} non-breaking",
    ]
    for title, group in (("BREAKING", report.breaking), ("NON-BREAKING", report.non_breaking)):
        if not group:
            continue
        lines += ["", f"{title}:"]
        for c in group:
            cat = f"[{c.category.value}] " if c.category else ""
            op = f"{c.operation}: " if c.operation else ""
            lines.append(f"  {cat}{c.kind.value}  {op}{c.location}")
            lines.append(f"      {c.message}")
    if not report.changes:
        lines += ["", "no changes"]
    return "\n".join(lines) + "\n"


def render_markdown(report: DiffReport) -> str:
    def cell(text: Any) -> str:
        return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")

    lines = [
        f"# Contract diff: `{report.old}` → `{report.new}`",
        "",
        f"**{len(report.breaking)} breaking**, {len(report.non_breaking)} non-breaking.",
    ]
    for title, group in (("Breaking changes", report.breaking), ("Non-breaking changes", report.non_breaking)):
        if not group:
            continue
        lines += ["", f"## {title}", "", "| Kind | Category | Operation | Location | Change |", "|---|---|---|---|---|"]
        for c in group:
            lines.append(
                f"| {cell(c.kind.value)} | {cell(c.category.value if c.category else '')} | {cell(c.operation)} | "
                f"`{cell(c.location)}` | {cell(c.message)} |"
            )
    if not report.changes:
        lines += ["", "No changes."]
    return "\n".join(lines) + "\n"


def render_json(report: DiffReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def render(report: DiffReport, fmt: str = "text") -> str:
    """Render in one of FORMATS."""
    renderers = {"text": render_text, "md": render_markdown, "json": render_json}
    if fmt not in renderers:
        raise UsageError(f"unknown diff format {fmt!r} (known: {', '.join(FORMATS)})")
    return renderers[fmt](report)
