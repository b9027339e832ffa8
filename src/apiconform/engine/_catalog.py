"""The shipped suite tests, in run order: one `@suite_test` registration each (`engine._registry`).

Each function runs one work item through its suite runner (`engine._suites`, `engine._stateful`: imported when
the item runs, as they pull in the generator). The categories are what the suite's checks can cover: the
pytest markers of its tests (`pytest suites -m enum`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apiconform.engine._budget import ItemCost, example_count, lifecycle_cost
from apiconform.engine._registry import ItemRun, suite_test
from apiconform.findings import Category

if TYPE_CHECKING:
    from apiconform.contracts import Contract
    from apiconform.engine._record import Recorder

C = Category
EXAMPLES = (C.STATUS_CODE, C.FIELD_TYPE, C.ENUM, C.REQUIRED_FIELD, C.CONTENT_TYPE, C.SERVER_ERROR, C.TRANSPORT)
PROPERTIES = (C.STATUS_CODE, C.FIELD_TYPE, C.ENUM, C.REQUIRED_FIELD, C.CONTENT_TYPE, C.PAGINATION, C.SERVER_ERROR,
              C.TRANSPORT, C.AUTH)
STATEFUL = (C.STATUS_CODE, C.FIELD_TYPE, C.REQUIRED_FIELD, C.SERVER_ERROR, C.TRANSPORT)
NEGATIVE = (C.STATUS_CODE, C.ERROR_SHAPE, C.AUTH, C.CONTENT_TYPE, C.SERVER_ERROR, C.TRANSPORT)


def _examples_cost(contract: Contract, subject: str, cases: int) -> ItemCost:
    n = example_count(contract.operations[subject])
    return ItemCost(1, 1, n) if n else ItemCost(0)


@suite_test("examples", "test_documented_examples", case="examples", categories=EXAMPLES, cost=_examples_cost)
def documented_examples(run: ItemRun) -> Recorder:
    """Every documented request example is sent; the answer must conform."""
    from apiconform.engine._suites import run_examples

    return run_examples(run.session, run.operation, run.seed, run.discovery)


@suite_test("properties", "test_properties", case="properties", categories=PROPERTIES)
def properties(run: ItemRun) -> Recorder:
    """Valid requests (property-based): every answer must conform to the contract."""
    from apiconform.engine._suites import run_properties

    return run_properties(run.session, run.operation, run.cases, run.seed, run.discovery)


@suite_test("stateful", "test_lifecycle", case="lifecycle", categories=STATEFUL, subject="resource",
            cost=lambda contract, subject, cases: ItemCost(lifecycle_cost(contract, subject)))
def lifecycle(run: ItemRun) -> Recorder:
    """A resource's lifecycle (create → read → update → list → delete) following the contract's links."""
    from apiconform.engine._stateful import run_lifecycle

    return run_lifecycle(run.session, run.discovery, run.subject, run.seed)


@suite_test("negative", "test_invalid_requests_rejected", case="negative", categories=NEGATIVE)
def invalid_requests(run: ItemRun) -> Recorder:
    """Invalid requests are refused with a documented 4xx and the documented error shape."""
    from apiconform.engine._suites import run_negative

    return run_negative(run.session, run.operation, run.cases, run.seed, run.discovery)


@suite_test("negative", "test_bad_credentials_rejected", case="auth", categories=NEGATIVE,
            applies=lambda op: bool(op.security), cost=lambda contract, subject, cases: ItemCost(2))
def bad_credentials(run: ItemRun) -> Recorder:
    """Missing and wrong credentials (anonymous, then wrong) get the documented auth failure."""
    from apiconform.engine._suites import run_auth

    return run_auth(run.session, run.operation, run.seed, run.discovery)


@suite_test("negative", "test_idempotency_key_reuse", case="idempotency", categories=NEGATIVE,
            applies=lambda op: op.idempotency is not None, cost=lambda contract, subject, cases: ItemCost(3))
def idempotency_key_reuse(run: ItemRun) -> Recorder:
    """Same key + same body replays (first, replay); same key + another body is refused."""
    from apiconform.engine._suites import run_idempotency

    return run_idempotency(run.session, run.operation, run.seed, run.discovery)
