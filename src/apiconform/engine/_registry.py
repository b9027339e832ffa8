"""One registration per suite test: `@suite_test(...)` on the function that runs it.

A suite test is all the run needs to know about one test of a suite: the suite, its name (the pytest test's and
the work item's), the prefix of the `CaseResult` it produces, what it runs on (operations or resources), where it
applies, the categories its checks can cover (the pytest markers), its cost in requests for a live budget, and the
function running it on one work item. The plan, `execute_item`, the budget plan, the pytest suites and their
markers all read this registry, so adding a test is one decorated function (tests/test_suite_registry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

from apiconform.findings import Category

if TYPE_CHECKING:
    from apiconform.contracts import Contract, Operation
    from apiconform.engine._budget import ItemCost
    from apiconform.engine._discovery import Discovery
    from apiconform.engine._record import Recorder
    from apiconform.engine._session import Session

Subject = Literal["operation", "resource"]


@dataclass(frozen=True)
class ItemRun:
    """What a suite test is given for one work item."""

    test: SuiteTest
    session: Session
    discovery: Discovery
    subject: str  # the operation's label, or the resource's name
    seed: int  # the item's own seed (`item_seed`)
    cases: int  # generated cases: its suite's share of --max-examples, or what the live budget plan gives it

    @property
    def operation(self) -> Operation:
        """An operation test's operation; a resource test's create operation."""
        contract = self.session.target.contract
        if self.test.subject == "operation":
            return contract.operations[self.subject]
        return next((op for op in contract if op.resource == self.subject and op.action == "create"), next(iter(contract)))

    def recorder(self) -> Recorder:
        """A recorder named as the work item's `CaseResult` (`case[subject]`, in the test's suite)."""
        from apiconform.engine._record import Recorder

        return Recorder(self.session.target, self.operation, self.test.suite, f"{self.test.case}[{self.subject}]")


Runner = Callable[[ItemRun], "Recorder"]
#: requests one item sends on a live target: (contract, subject, generated cases) -> its cost
Cost = Callable[["Contract", str, int], "ItemCost"]


@dataclass(frozen=True)
class SuiteTest:
    """One test of a suite: what it runs on and, for operations, where it applies."""

    suite: str
    name: str  # the pytest test's name, and the work item's (`WorkItem.test`)
    subject: Subject
    applies: Callable[[Operation], bool] | None
    case: str  # the CaseResult's name is `case[subject]`
    categories: tuple[Category, ...]  # what its checks can cover: the pytest markers of its tests
    run: Runner
    cost: Cost | None = None  # None: one request per generated case

    def request_cost(self, contract: Contract, subject: str, cases: int) -> ItemCost:
        from apiconform.engine._budget import ItemCost

        return ItemCost(1, 1, cases) if self.cost is None else self.cost(contract, subject, cases)


class Registry(Sequence[SuiteTest]):
    """Every registered suite test, in run order (registration order): `apiconform.engine.TESTS`."""

    def __init__(self) -> None:
        self._tests: dict[str, SuiteTest] = {}

    @overload
    def __getitem__(self, index: int) -> SuiteTest: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SuiteTest]: ...
    def __getitem__(self, index: int | slice) -> SuiteTest | Sequence[SuiteTest]:
        return tuple(self._tests.values())[index]

    def __len__(self) -> int:
        return len(self._tests)

    def __iter__(self) -> Iterator[SuiteTest]:
        return iter(tuple(self._tests.values()))

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._tests)})"

    def get(self, name: str) -> SuiteTest:
        """The test named `name` (a KeyError naming the registered ones otherwise)."""
        try:
            return self._tests[name]
        except KeyError:
            raise KeyError(f"no suite test {name!r} (registered: {', '.join(self._tests)})") from None

    def add(self, test: SuiteTest) -> None:
        if test.name in self._tests:
            raise ValueError(f"suite test {test.name!r} is registered twice")
        if not test.name.startswith("test_"):
            raise ValueError(f"suite test {test.name!r}: its name must start with 'test_' (pytest collects it by name)")
        if test.subject not in ("operation", "resource"):
            raise ValueError(f"suite test {test.name!r}: subject must be 'operation' or 'resource', not {test.subject!r}")
        if test.subject == "resource" and test.applies is not None:
            raise ValueError(f"suite test {test.name!r}: `applies` selects operations; a resource test has none")
        if not test.suite or not test.case:
            raise ValueError(f"suite test {test.name!r}: suite and case name are required")
        self._tests[test.name] = test

    def remove(self, name: str) -> None:
        self._tests.pop(name, None)

    @property
    def suites(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.suite for t in self._tests.values()))


TESTS = Registry()


class SuiteNames(Sequence[str]):
    """The suites of the registered tests, in run order: `apiconform.engine.SUITES` (a live view)."""

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return TESTS.suites[index]

    def __len__(self) -> int:
        return len(TESTS.suites)

    def __iter__(self) -> Iterator[str]:
        return iter(TESTS.suites)

    def __repr__(self) -> str:
        return repr(TESTS.suites)


SUITES = SuiteNames()


def suite_test(suite: str, name: str, *, case: str, categories: Sequence[Category], subject: Subject = "operation",
               applies: Callable[[Operation], bool] | None = None, cost: Cost | None = None) -> Callable[[Runner], Runner]:
    """Register the decorated function as the suite test `name` of `suite`. It is given an `ItemRun` and returns
    the `Recorder` of what it sent and judged (`ItemRun.recorder()` names it). `applies`: the operations it runs
    on (default: all; tests that cannot apply are not planned); `subject="resource"`: it runs once per resource
    with a create operation (lifecycles); `cost`: its requests on a live target (default one per generated case)."""

    def register(run: Runner) -> Runner:
        TESTS.add(SuiteTest(suite, name, subject, applies, case, tuple(categories), run, cost))
        return run

    return register


__all__ = ["SUITES", "TESTS", "ItemRun", "Registry", "SuiteTest", "suite_test"]
