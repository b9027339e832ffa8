"""Budget plans for live targets: coverage is planned before the first request, never lost to the order of suites.

A live target's request budget used to be spent in plan order, so whatever came last (the negative suite, which
holds the auth tests) was what the budget dropped. Here every work item of a live vendor gets a cost estimate in
requests: what its *first* case needs and what each further case needs. The plan then

- covers every item's first case before any item gets a second: the number of generated cases per operation is the
  largest that fits the budget (down to one), and while the run goes the requests the items still to run need for
  their first case are held back (`BudgetPlan.reserve`), so an item that costs more than estimated never starves a
  later one;
- is an error naming the budget needed when even the first cases do not fit, unless the caller accepts a partial
  run: then the items that fit run (the least recently covered first, when a coverage history is given) and the
  others are cut, each one named in the run record and the gate's summary.

Estimates are per request the engine sends (a login, an id lookup and the preflight count as overhead); the reserve
makes an estimate that is too low visible (the run says what was cut) rather than silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from apiconform.contracts import Contract, Operation

if TYPE_CHECKING:
    from apiconform.engine import WorkItem
    from apiconform.engine._targets import Safety

#: the reason of a work item the plan cut (contains the gate's BUDGET_MARK, "request budget")
CUT_REASON = "cut by the request budget plan (not run: the budget cannot cover it; see the plan line)"


@dataclass(frozen=True)
class ItemCost:
    """Requests one work item needs: for its first case, and for each further case (up to `cases` in all)."""

    first: int
    more: int = 0  # per further case
    cases: int = 1

    def at(self, cases: int) -> int:
        """Requests for `cases` cases (at least the first, at most the item's own number)."""
        if self.first == 0:
            return 0
        return self.first + self.more * max(0, min(cases, self.cases) - 1)


@dataclass
class BudgetPlan:
    """How one live vendor's work items fit its budget."""

    vendor: str
    budget: int | None
    overhead: int
    first: int  # requests for every planned item's first case, overhead included
    full: int  # requests for the whole plan at the requested number of cases
    requested: int  # generated cases per operation asked for
    examples: int  # generated cases per operation the budget allows (0: one case per test, the first-case plan)
    costs: dict[str, ItemCost] = field(default_factory=dict)  # item key -> its cost
    run: list[WorkItem] = field(default_factory=list)  # WorkItems that run
    cut: list[WorkItem] = field(default_factory=list)  # WorkItems the budget cut (partial runs only)
    share: str = ""  # how the budget was shared between shards, when it was

    @property
    def planned(self) -> int:
        """Requests the items that run are planned to use (overhead included)."""
        return self.overhead + sum(self.costs[i.key].at(self._cases(i)) for i in self.run)

    def _cases(self, item: WorkItem) -> int:
        return cases_at(item, self.examples)

    def cases(self, item: WorkItem) -> int:
        """Generated cases the item runs under this plan."""
        return self._cases(item)

    def describe(self) -> str:
        """The plan line printed before the run starts."""
        budget = "no budget" if self.budget is None else f"budget {self.budget}"
        head = (f"plan {self.vendor}: {len(self.run)} tests, {self.planned} requests planned "
                f"(first cases {self.first}, full plan {self.full}; {budget}{self.share})")
        if self.examples < self.requested:
            fewer = f"{self.examples} generated cases per operation" if self.examples else "one case per test"
            head += f"; {fewer} instead of {self.requested}" + ("" if self.cut else ", so every test runs")
        if self.cut:
            head += f"; PARTIAL: {len(self.cut)} tests cut: {cut_summary(self.cut)}"
        return head


def cut_summary(items: list[WorkItem], limit: int = 6) -> str:
    """Which suites and operations a plan cut, one phrase."""
    by_suite: dict[str, list[str]] = {}
    for item in items:
        by_suite.setdefault(item.suite, []).append(item.case_name)
    parts = []
    for suite, subjects in sorted(by_suite.items()):
        shown = ", ".join(subjects[:limit]) + (f" and {len(subjects) - limit} more" if len(subjects) > limit else "")
        parts.append(f"{suite} ({len(subjects)}: {shown})")
    return "; ".join(parts)


def cases_at(item: WorkItem, examples: int) -> int:
    """An item's generated cases when operations get `examples` each (0: only its first case)."""
    from apiconform.engine import examples_for

    return examples_for(item.test, examples) if examples else 1


def example_count(op: Operation) -> int:
    return sum(1 for m in op.request_body.values() for e in m.examples.values() if "value" in e and not e.get("x-erratum"))


def lifecycle_cost(contract: Contract, resource: str) -> int:
    """create, read back, update + read back, list, delete + read (gone): what `_stateful` sends at most."""
    from apiconform.engine._stateful import lifecycle_operations

    ops = lifecycle_operations(contract, resource)
    if "create" not in ops:
        return 0
    reads = 1 + ("update" in ops or "replace" in ops) + ("delete" in ops) if "read" in ops else 0
    return 1 + reads + ("update" in ops or "replace" in ops) + ("list" in ops) + ("delete" in ops)


def item_cost(contract: Contract, item: WorkItem, safety: Safety, examples: int) -> ItemCost:
    """The requests one work item sends against a live target (0 when it will be skipped without sending)."""
    from apiconform.engine import TESTS, examples_for

    test = TESTS.get(item.test)
    if test.subject == "resource":
        ops = [op for op in contract if op.resource == item.subject and op.action == "create"]
        if not ops or not all(safety.allows(op.label, op.method) for op in ops):
            return ItemCost(0)
    else:
        op = contract.operations[item.subject]
        if not safety.allows(op.label, op.method):
            return ItemCost(0)
    return test.request_cost(contract, item.subject, examples_for(item.test, examples))  # the registered test's cost


def overhead(contract: Contract, operations: Iterable[Operation], preflight: bool = True) -> int:
    """Requests a live run sends besides the tests' cases: the preflight (reachability, its own login, the probe),
    the run's login or identity lookups, and one id lookup per resource whose ids path parameters take."""
    from apiconform.auth import identity_specs

    lookups = set()
    for op in operations:
        for resource in contract.path_param_resources(op).values():
            if any(o.resource == resource and o.action == "list" for o in contract):
                lookups.add(resource)
    specs = identity_specs(contract)
    identity = (1 if any(s.operation is None for s in specs) else 0) + sum(1 for s in specs if s.operation)
    # the preflight's own session: a reachability request, its login / identity lookups, the probe
    return (2 + identity if preflight else 0) + identity + len(lookups)


def make_plan(vendor: str, contract: Contract, items: list[WorkItem], safety: Safety, requested: int,
              partial: bool = False, history: Mapping[str, str] | None = None, share: str = "") -> BudgetPlan:
    """Fit `items` (one live vendor's) into `safety.max_requests`; raises UsageError when the first cases do not fit
    and `partial` is false. `history`: WorkItem.history_key -> when it last ran (ISO time), least recent first when cutting."""
    from apiconform.engine import TESTS
    from apiconform.errors import UsageError

    budget = safety.max_requests
    costs = {i.key: item_cost(contract, i, safety, requested) for i in items}
    subjects = {i.subject: contract.operations[i.subject] for i in items if i.subject in contract.operations}
    extra = overhead(contract, subjects.values())
    first = extra + sum(c.first for c in costs.values())

    def cost(n: int) -> int:
        return extra + sum(costs[i.key].at(cases_at(i, n)) for i in items)

    full = cost(requested)
    plan = BudgetPlan(vendor, budget, extra, first, full, requested, requested, costs, list(items), share=share)
    if budget is None or full <= budget:
        return plan
    if first <= budget:
        n = requested
        while n > 0 and cost(n) > budget:
            n -= 1
        plan.examples = n  # 0: one case per test (the negative suite's floor of 3 does not fit)
        return plan
    if not partial:
        raise UsageError(
            f"{vendor}: a budget of {budget} requests cannot give every operation × suite its first case: the plan "
            f"needs {first} (full plan {full}); pass --max-requests {first} or more, select fewer with --operation "
            f"or --suite, or accept a partial run with --partial")
    plan.examples = 0
    # never run first, then least recently run; among equals whole operations in contract order, every suite of
    # an operation together (a slice cuts operations, never one suite across all of them)
    position = {op.label: n for n, op in enumerate(contract)}
    position.update({op.resource: position[op.label] for op in contract if op.resource and op.action == "create"})
    rank = {t.name: n for n, t in enumerate(TESTS)}
    order = sorted(items, key=lambda i: ((history or {}).get(i.history_key, ""), position.get(i.subject, 0), rank[i.test]))
    groups: dict[str, list[WorkItem]] = {}
    for item in order:
        groups.setdefault(item.subject, []).append(item)

    def staleness(group: list[WorkItem]) -> str:  # a group is as stale as its least recently run test that sends
        return min(((history or {}).get(i.history_key, "") for i in group if costs[i.key].first), default="~")

    groups = dict(sorted(groups.items(), key=lambda kv: staleness(kv[1])))
    room = budget - extra
    keep: set[str] = set()
    for group in groups.values():  # an operation runs with all its suites, or is cut with all of them
        need = sum(costs[i.key].first for i in group)
        if need <= room:
            keep.update(i.key for i in group)
            room -= need
    plan.run = [i for i in items if i.key in keep]
    plan.cut = [i for i in items if i.key not in keep]
    return plan


__all__ = ["CUT_REASON", "BudgetPlan", "ItemCost", "cut_summary", "item_cost", "make_plan", "overhead"]
