"""Valid cases from compiled strategies (engine._compiled): exact for the contracts' JSON Schema subset, seeded,
re-judged, and schemathesis for whatever they cannot compile."""

from __future__ import annotations

import random
from pathlib import Path
from typing import cast

import pytest

from apiconform.contracts import load_contract
from apiconform.engine import _compiled, _sampled
from apiconform.engine import _generate as runner
from apiconform.engine._request import build_request
from apiconform.engine._targets import Target
from apiconform.engine.checks import POSITIVE

VENDORS = ("eduframe", "tesla-ce", "goodstack", "ctrlhub", "cofe-cms")


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_CACHE", "off")


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_bundled_operation_compiles_and_draws_only_valid_cases(vendor: str) -> None:
    """The compiler is exact on the bundled contracts: every raw draw is accepted by the judge (no case had to be
    rejected), and every operation yields cases."""
    contract = load_contract(vendor)
    for op in contract:
        strategy = _compiled.compiled_strategy(contract, op, {}, False, runner._encoded_query(contract, op))
        judged: list[str] = []

        def valid(case: object, op: object = op, judged: list[str] = judged) -> bool:
            verdict = runner.judge(contract, op, runner._offline_request(contract, op, case))  # type: ignore[arg-type]
            judged.append(verdict)
            return verdict == POSITIVE

        cases = _compiled.draw(strategy, 4, 3, valid, None, runner._settings(2))
        assert cases, op.label
        assert set(judged) == {POSITIVE}, (op.label, judged)
        assert all(c.generation == "positive" and c.path == op.path for c in cases)
        # judged when drawn, so not judged again when sent: the request sent (another base URL with a path, another
        # idempotency key) is one the judge accepts too; addressed to other path values, the flag is gone
        elsewhere = cast(Target, runner._Offline(contract, "https://api.example.test/base/v1"))
        for case in cases:
            assert case.judged, op.label
            sent = build_request(elsewhere, op, case, random.Random(7))
            assert runner.judge(contract, op, sent) == POSITIVE, (op.label, case.kwargs)
            if case.path_parameters:
                assert not case.with_path_parameters(dict(case.path_parameters)).judged


def test_a_case_the_contract_refuses_never_comes_out() -> None:
    """The judge guards the compiler: a strategy that draws invalid bodies (here the real one, with every case
    judged invalid) yields nothing, and generated_cases then lets schemathesis draw."""
    contract = load_contract("eduframe")
    op = contract.operation("create_program")
    strategy = _compiled.compiled_strategy(contract, op, {}, False, {})
    assert _compiled.draw(strategy, 5, 1, lambda case: False, None, runner._settings(2)) == []


def test_unsupported_keywords_fall_back_to_schemathesis(monkeypatch: pytest.MonkeyPatch) -> None:
    contract = load_contract("eduframe")
    compiler = _compiled._Compiler(contract)
    for schema in ({"not": {"type": "string"}}, {"type": "string", "format": "hostname"},
                   {"type": "object", "patternProperties": {"^x": {}}}, {"allOf": [{"type": "string"}, {"minLength": 2}]}):
        with pytest.raises(_compiled.Unsupported):
            compiler.schema(schema)
    op = contract.operation("list_courses")

    def unsupported(*args: object, **kwargs: object) -> object:
        raise _compiled.Unsupported("test")

    monkeypatch.setattr(_sampled, "compiled_sampler", unsupported)
    monkeypatch.setattr(_compiled, "compiled_strategy", unsupported)
    cases, note = runner.generated_cases(contract, op, "positive", 3, 5, {})
    assert cases and not note  # schemathesis drew them
    assert any(k.lower().startswith("x-schemathesis") for c in cases for k in c.kwargs.get("headers", {}))


def test_draws_are_seeded_and_honour_bounds_formats_and_known_path_values() -> None:
    contract = load_contract("eduframe")
    op = contract.operation("get_lead")
    first, _ = runner.generated_cases(contract, op, "positive", 6, 11, {"id": "42"})
    again, _ = runner.generated_cases(contract, op, "positive", 6, 11, {"id": "42"})
    other, _ = runner.generated_cases(contract, op, "positive", 6, 12, {"id": "42"})
    assert [c.kwargs for c in first] == [c.kwargs for c in again]
    assert [c.kwargs for c in first] != [c.kwargs for c in other]
    assert any(c.kwargs["url"] == "/leads/42" for c in first + other)
    fixed, _ = runner.generated_cases(contract, op, "positive", 4, 11, {"id": "42"}, fixed=True)
    assert fixed and {c.kwargs["url"] for c in fixed} == {"/leads/42"}
    compiler = _compiled._Compiler(contract)
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seen: list[object] = []

    @settings(max_examples=60, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.tuples(compiler.schema({"type": "integer", "minimum": 3, "exclusiveMaximum": 7}),
                     compiler.schema({"type": "string", "format": "uuid"}),
                     compiler.schema({"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "uniqueItems": True})))
    def check(value: tuple[int, str, list[str]]) -> None:
        number, uid, items = value
        assert 3 <= number < 7 and len(uid) == 36 and items and len(set(items)) == len(items)
        seen.append(value)

    check()
    assert seen


def test_generator_code_is_part_of_the_cache_key() -> None:
    assert "_compiled.py" in Path(runner.__file__).with_name("_casecache.py").read_text()


def test_every_contract_draws_compiled_cases(tmp_path: Path) -> None:
    """One generator for every contract: a team's or an imported contract (here a copy of a bundled one outside the
    tool) draws the same compiled cases as the bundled one, with no switch in the environment."""
    import shutil

    bundled = load_contract("goodstack")
    team = tmp_path / "goodstack"
    shutil.copytree(Path(bundled.path).parent, team)
    copy = load_contract(team / "openapi.yaml")
    op = next(iter(bundled))
    ours, _ = runner.generated_cases(bundled, op, "positive", 3, 1, {})
    theirs, _ = runner.generated_cases(copy, copy.operations[op.label], "positive", 3, 1, {})
    assert ours and all(c.judged for c in ours)  # compiled (schemathesis' cases are never judged when drawn)
    assert [c.kwargs for c in theirs] == [c.kwargs for c in ours]
