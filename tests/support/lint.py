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


def share_bundled_lints(monkeypatch: pytest.MonkeyPatch) -> None:
    """`apiconform contracts check` of a bundled contract (by name or path) reads `checked`: the same lint, computed
    once per process with the other `LINT_GROUP` tests (each lint of Eduframe is ~1.5 s of CPU); any other contract
    is linted as usual."""
    import apiconform.contracts as contracts
    from apiconform.contracts import BUNDLED_DIR, CONTRACT_FILE, contract_path

    real = contracts.check_contract
    bundled = BUNDLED_DIR.resolve()

    def check(name: str) -> CheckResult:
        path = contract_path(name).resolve()
        if path.name == CONTRACT_FILE and path.parent.parent == bundled:
            return checked(path.parent.name)
        return real(name)

    monkeypatch.setattr(contracts, "check_contract", check)
