"""One registration per suite test: a test added with `@suite_test` (and nothing else) is planned, run by the
engine, counted by the budget plan, and collected, marked and run by the pytest suites."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from apiconform import engine
from apiconform.engine import TESTS, ItemRun, Sessions, SuiteTest, execute_item, plan, suite_test
from apiconform.contracts import load_contract
from apiconform.engine.checks import POSITIVE
from apiconform.findings import Category

REPO = Path(__file__).resolve().parents[2]
NAME = "test_reads_answer"

#: the whole of a new suite test: one decorated function, public names only
NEW_TEST = '''
from apiconform.engine import ItemRun, Recorder, suite_test, valid_request
from apiconform.contracts import load_contract
from apiconform.engine.checks import POSITIVE
from apiconform.findings import Category


@suite_test("properties", "test_reads_answer", case="reads", categories=(Category.STATUS_CODE, Category.FIELD_TYPE),
            applies=lambda op: op.method == "get" and not op.path_params())
def reads_answer(run: ItemRun) -> Recorder:
    """One valid read of a collection; its answer must conform."""
    rec = run.recorder()
    request = valid_request(run.session, run.operation, run.seed, run.discovery)
    if request is None:
        rec.skipped = "no valid request"
        return rec
    rec.observe(run.session.send(run.operation, request), POSITIVE)
    return rec
'''


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[Path]:
    """The new test registered (as a module on sys.path, for the pytest run too), unregistered afterwards."""
    (tmp_path / "reads_answer_plugin.py").write_text(NEW_TEST)
    sys.path.insert(0, str(tmp_path))
    try:
        import reads_answer_plugin  # noqa: F401
        yield tmp_path
    finally:
        TESTS.remove(NAME)
        sys.modules.pop("reads_answer_plugin", None)
        sys.path.remove(str(tmp_path))


def test_a_new_suite_test_is_planned_and_run_by_the_engine(registered: Path) -> None:
    spec = TESTS.get(NAME)
    assert spec.suite == "properties" and [t.name for t in TESTS][-1] == NAME  # run order: registration order
    items = [i for i in plan(["eduframe"]) if i.test == NAME]
    contract = load_contract("eduframe")
    assert {i.subject for i in items} == {op.label for op in contract if op.method == "get" and not op.path_params()}
    assert items and all(i.suite == "properties" and i.case_name == f"reads[{i.subject}]" for i in items)
    assert not [i for i in plan(["eduframe"], suites=["negative"]) if i.test == NAME]  # selected with its suite

    sessions = Sessions(engine.EngineOptions(vendors=["eduframe"]))
    try:
        session, discovery, owned = sessions.for_item("eduframe")
        outcome = execute_item(items[0], session, discovery, run_seed=1, max_examples=2)
    finally:
        sessions.close()
    case = outcome.case
    assert (case.suite, case.name, case.skipped, case.findings) == ("properties", items[0].case_name, "", [])
    assert case.requests >= 1 and {"status_code_documented", "response_schema_conformance"} <= set(case.checks)


@pytest.mark.e2e  # a whole `pytest suites` process: `make test-e2e` (CI runs it)
def test_a_new_suite_test_is_collected_marked_and_run_by_the_pytest_suites(registered: Path) -> None:
    env = {**__import__("os").environ, "PYTHONPATH": str(registered)}
    args = [sys.executable, "-m", "pytest", "-p", "reads_answer_plugin", str(REPO / "suites"), "-p", "no:cacheprovider",
            "--vendor", "eduframe", "-m", "suite_properties and status_code", "-k", NAME, "-q", "-n", "0",
            "-o", "addopts=", "--rootdir", str(registered)]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=registered, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    passed = [line for line in proc.stdout.splitlines() if "passed" in line]
    contract = load_contract("eduframe")
    expected = sum(1 for op in contract if op.method == "get" and not op.path_params())
    assert passed and f"{expected} passed" in passed[-1], proc.stdout[-2000:]


def test_a_broken_registration_is_refused() -> None:
    def run(item: ItemRun) -> object:
        raise AssertionError("never run")

    with pytest.raises(ValueError, match="registered twice"):
        suite_test("properties", "test_properties", case="p", categories=())(run)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must start with 'test_'"):
        suite_test("properties", "reads", case="p", categories=())(run)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="subject must be"):
        suite_test("properties", "test_x", case="p", categories=(), subject="record")(run)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no suite test 'test_nothing'"):
        TESTS.get("test_nothing")
    assert "test_x" not in {t.name for t in TESTS}


def test_the_shipped_registrations_hold_what_the_five_lists_held() -> None:
    """The run order, suites, case names, where each applies and the marker categories as they were listed."""
    assert [(t.suite, t.name, t.case, t.subject) for t in TESTS] == [
        ("examples", "test_documented_examples", "examples", "operation"),
        ("properties", "test_properties", "properties", "operation"),
        ("stateful", "test_lifecycle", "lifecycle", "resource"),
        ("negative", "test_invalid_requests_rejected", "negative", "operation"),
        ("negative", "test_bad_credentials_rejected", "auth", "operation"),
        ("negative", "test_idempotency_key_reuse", "idempotency", "operation"),
    ]
    assert list(engine.SUITES) == ["examples", "properties", "stateful", "negative"]
    assert Category.PAGINATION in TESTS.get("test_properties").categories
    assert Category.ERROR_SHAPE in TESTS.get("test_bad_credentials_rejected").categories
    assert isinstance(TESTS.get("test_lifecycle"), SuiteTest)
    assert POSITIVE
