"""`compare` between a green run and a drifted one reports the drift first, and what the generator itself put
into answers (echoed fuzz keys, generated values, which field a negative case broke) is not reported as drift:
two green runs with different seeds compare clean (noise ≤ 5 lines)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from apiconform.gate.compare import compare_runs
from apiconform.mock import DRIFTS
from apiconform.gate._run import RunOptions, execute

# drift -> (vendor, operations, suite): where the drift shows (as in tests/engine/test_suites.py)
WHERE = {
    "enum-value-changed": ("eduframe", ("get_account", "list_accounts"), "properties"),
    "field-type-changed": ("goodstack", ("create_eligibility_subscription",), "properties"),
    "required-field-dropped": ("tesla-ce", ("read_provider",), "properties"),
    "field-renamed": ("goodstack", ("create_eligibility_subscription",), "properties"),
    "null-not-allowed": ("tesla-ce", ("list_providers",), "properties"),
    "error-shape-changed": ("goodstack", ("create_eligibility_subscription",), "negative"),
    "status-code-changed": ("eduframe", ("list_accounts",), "properties"),
    "content-type-changed": ("ctrlhub", ("create_qualification_award",), "properties"),
    "pagination-header-missing": ("eduframe", ("list_accounts",), "properties"),
    "echo-value-changed": ("ctrlhub", ("create_qualification_award",), "properties"),
    "login-tokens-null": ("tesla-ce", ("list_providers", "login_approle"), "properties"),
    "login-html-200": ("tesla-ce", ("list_providers", "login_approle"), "properties"),
}


def _run(tmp: Path, vendor: str, ops: tuple[str, ...], suite: str, seed: int, drift: str | None = None):
    out = tmp / f"{vendor}-{suite}-{seed}-{drift or 'green'}"
    options = RunOptions(vendors=[vendor], suites=[suite], max_examples=4, seed=seed, operations=list(ops),
                         drifts=[drift] if drift else [], reports_dir=out, allure=False)
    return execute(options).record


@functools.lru_cache(maxsize=None)
def _green(tmp: Path, vendor: str, ops: tuple[str, ...], suite: str) -> object:
    return _run(tmp, vendor, ops, suite, seed=101)


def test_every_drift_has_a_compare_case():
    assert set(WHERE) == set(DRIFTS)


@pytest.mark.parametrize("vendor, ops, suite", sorted(set(WHERE.values())))
def test_two_green_runs_with_different_seeds_compare_clean(vendor, ops, suite, tmp_path_factory):
    tmp = tmp_path_factory.getbasetemp()
    report = compare_runs(_green(tmp, vendor, ops, suite), _run(tmp, vendor, ops, suite, seed=202))
    lines = report.render_text().splitlines()
    assert len(lines) - 1 <= 5, "\n".join(lines)
    assert not report.appeared and not report.disappeared, "\n".join(lines)


@pytest.mark.parametrize("drift", sorted(WHERE))
def test_the_drift_is_the_top_change(drift, tmp_path_factory):
    tmp = tmp_path_factory.getbasetemp()
    vendor, ops, suite = WHERE[drift]
    report = compare_runs(_green(tmp, vendor, ops, suite), _run(tmp, vendor, ops, suite, seed=202, drift=drift))
    lines = report.render_text().splitlines()
    assert report.appeared, "\n".join(lines)
    # the drift's category, or error-shape: the same drift seen on an error answer
    top = {f"[{DRIFTS[drift].category.value}]", "[error-shape]"}
    assert lines[1].startswith("  + ") and any(t in lines[1] for t in top), "\n".join(lines)
    assert not report.disappeared, "\n".join(lines)
    unrelated = [f for f in report.appeared if f.category is not DRIFTS[drift].category and f.operation not in ops]
    assert not unrelated, "\n".join(lines)
