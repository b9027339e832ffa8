"""Reports: the run record (`run.json`) and everything rendered from it.

Consumes only `CaseResult`s (via `RunRecord`), never runner internals, so reports can be
re-rendered, merged across shards and compared long after the run.

The names below load on first use (the run record itself lives in `apiconform.runrecord`, beneath the engine
that builds it; the HTML, JUnit and matrix writers are for the end of a run), as `apiconform` itself does.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from apiconform._lazy import lazy_attributes, lazy_dir

if TYPE_CHECKING:
    from apiconform.findings import Category
    from apiconform.report._allure import AllureWriter
    from apiconform.report._allure_html import find_allure, keep_allure_history, render_allure
    from apiconform.report._dir import (
        LOCK_FILE,
        REPORT_FILES,
        check_reports_dir,
        clear_previous_reports,
        reports_lock,
        writing_reports,
    )
    from apiconform.report._events import AllureResults, EventLog
    from apiconform.report._groups import Group, allure_categories, group_findings, root_cause
    from apiconform.report._html import render_matrix_html, write_matrix_html
    from apiconform.report._junit import render_junit, write_junit
    from apiconform.report._matrix import (
        COVERAGE_SCHEMA,
        MATRIX_SCHEMA,
        Waived,
        build_coverage,
        build_matrix,
        render_matrix_md,
        write_coverage_json,
        write_matrix_json,
        write_matrix_md,
    )
    from apiconform.runrecord import (
        RUN_SCHEMA,
        RunRecord,
        case_from_dict,
        case_to_dict,
        check_mergeable,
        load_run,
        merge_coverage,
        merge_records,
        merge_shape_maps,
        merge_shapes,
        shape_of,
    )

_LAZY = {
    **dict.fromkeys(("LOCK_FILE", "REPORT_FILES", "check_reports_dir", "clear_previous_reports", "reports_lock",
                     "writing_reports"), "._dir"),
    **dict.fromkeys(("AllureResults", "EventLog"), "._events"),
    **dict.fromkeys(("Group", "allure_categories", "group_findings", "root_cause"), "._groups"),
    "AllureWriter": "._allure",
    **dict.fromkeys(("find_allure", "keep_allure_history", "render_allure"), "._allure_html"),
    **dict.fromkeys(("render_matrix_html", "write_matrix_html"), "._html"),
    **dict.fromkeys(("render_junit", "write_junit"), "._junit"),
    **dict.fromkeys(("COVERAGE_SCHEMA", "MATRIX_SCHEMA", "Waived", "build_coverage", "build_matrix", "render_matrix_md",
                     "write_coverage_json", "write_matrix_json", "write_matrix_md"), "._matrix"),
    **dict.fromkeys(("RUN_SCHEMA", "RunRecord", "case_from_dict", "case_to_dict", "check_mergeable", "load_run", "merge_coverage",
                     "merge_records", "merge_shape_maps", "merge_shapes", "shape_of"), "apiconform.runrecord"),
}


__getattr__ = lazy_attributes(globals(), _LAZY, __name__)
__dir__ = lazy_dir(globals(), _LAZY)


__all__ = [
    "COVERAGE_SCHEMA",
    "LOCK_FILE",
    "MATRIX_SCHEMA",
    "REPORT_FILES",
    "RUN_SCHEMA",
    "AllureResults",
    "AllureWriter",
    "EventLog",
    "Group",
    "RunRecord",
    "Waived",
    "allure_categories",
    "build_coverage",
    "build_matrix",
    "case_from_dict",
    "case_to_dict",
    "check_mergeable",
    "check_reports_dir",
    "clear_previous_reports",
    "find_allure",
    "group_findings",
    "keep_allure_history",
    "load_run",
    "merge_coverage",
    "merge_records",
    "merge_shape_maps",
    "merge_shapes",
    "render_allure",
    "render_junit",
    "render_matrix_html",
    "render_matrix_md",
    "reports_lock",
    "root_cause",
    "shape_of",
    "write_allure_categories",
    "write_coverage_json",
    "write_junit",
    "write_matrix_html",
    "write_matrix_json",
    "write_matrix_md",
    "write_reports",
    "writing_reports",
]


def write_reports(
    record: RunRecord,
    out_dir: str | os.PathLike[str],
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
) -> list[Path]:
    """Write junit.xml, matrix.json/.md/.html, coverage.json and apiconform.sarif; returns the paths written.

    `run.json` is not written here: the caller redacts and writes it (RunRecord.write).
    """
    from apiconform.report._html import write_matrix_html
    from apiconform.report._junit import write_junit
    from apiconform.report._matrix import write_coverage_json, write_matrix_json, write_matrix_md
    from apiconform.report._sarif import write_sarif

    written = [
        write_junit(record, out_dir, waived),
        write_matrix_json(record, out_dir, waived, fail_on),
        write_matrix_md(record, out_dir, waived, fail_on),
        write_matrix_html(record, out_dir, waived, fail_on),
        write_coverage_json(record, out_dir),
        write_sarif(record, out_dir, waived, fail_on),
    ]
    allure_results = Path(out_dir) / "allure-results"
    if allure_results.is_dir():
        written.append(write_allure_categories(record, allure_results))
    return written


def write_allure_categories(record: RunRecord, results_dir: str | os.PathLike[str]) -> Path:
    """`categories.json` in allure-results: Allure's Categories tab shows one entry per root cause
    (then per apiconform category), each listing every failing test it matched."""
    import json

    from apiconform.report._groups import allure_categories, group_findings
    from apiconform.runrecord import write_text_atomic

    path = Path(results_dir) / "categories.json"
    text = json.dumps(allure_categories(group_findings(record.findings)), indent=2, ensure_ascii=False)
    return write_text_atomic(path, text + "\n")
