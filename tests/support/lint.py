"""The lint of a bundled contract, once per test process: several tests read its verdict (the check passes, the
errata it counts, the shipped clean-lint stamps agree with it). They share one xdist group (`LINT_GROUP`) so one
worker lints each bundled contract once, not each worker that runs one of them (~1 s of CPU for Eduframe)."""

from __future__ import annotations

import functools

import pytest

from apiconform.contracts import CheckResult
from apiconform.contracts._check import check_contract

LINT_GROUP = pytest.mark.xdist_group("bundled-lint")


@functools.cache
def checked(vendor: str) -> CheckResult:
    """`check_contract(vendor)` of the bundled contract, computed once per process."""
    return check_contract(vendor)
