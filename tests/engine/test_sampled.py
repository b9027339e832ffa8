"""Valid cases from compiled samplers (engine._sampled), the fast path of the compiled generator: exact for the
contracts' JSON Schema subset, seeded, the simplest case first, every case judged when drawn, and the hypothesis
strategies (engine._compiled) for whatever they cannot draw."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from apiconform.contracts import load_contract
from apiconform.engine import _compiled, _sampled
from apiconform.engine import _generate as runner
from apiconform.engine.checks import POSITIVE

VENDORS = ("eduframe", "tesla-ce", "goodstack", "ctrlhub", "cofe-cms")


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICONFORM_CACHE", "off")


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_bundled_operation_samples_only_valid_cases(vendor: str) -> None:
    """Exact on the bundled contracts: every raw draw is accepted by the judge, every operation yields cases, and
    the sampled path (not the hypothesis strategies, not schemathesis) is the one that draws them."""
    contract = load_contract(vendor)
    for op in contract:
        sampler = _sampled.compiled_sampler(contract, op, {}, False, runner._encoded_query(contract, op))
        verdicts: list[str] = []

        def valid(case: Any, op: Any = op, verdicts: list[str] = verdicts) -> bool:
            verdict = runner.judge(contract, op, runner._offline_request(contract, op, case))
            verdicts.append(verdict)
            return verdict == POSITIVE

        cases = _sampled.draw(sampler, 8, 3, valid, None)
        assert cases, op.label
        assert set(verdicts) == {POSITIVE}, (op.label, verdicts)
        assert all(c.judged and c.generation == "positive" and c.path == op.path for c in cases)


def test_a_sampler_that_breaks_a_bound_is_caught_by_the_judge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The judge guards the samplers: a broken sampler drawing integers one past their maximum (`per_page` of 1..100)
    has its cases refused, so no such case comes out."""
    contract = load_contract("eduframe")
    op = contract.operation("list_courses")
    real = _sampled.Source.integer

    def past_the_end(self: _sampled.Source, lo: int | None, hi: int | None) -> int:
        return hi + 1 if hi is not None else real(self, lo, hi)

    _sampled._operation.cache_clear()
    monkeypatch.setattr(_sampled.Source, "integer", past_the_end)
    try:
        sampler = _sampled.compiled_sampler(contract, op, {}, False, {})
        verdicts: list[str] = []

        def valid(case: Any) -> bool:
            verdicts.append(runner.judge(contract, op, runner._offline_request(contract, op, case)))
            return verdicts[-1] == POSITIVE

        cases = _sampled.draw(sampler, 10, 1, valid, None)
        assert verdicts.count(POSITIVE) == len(cases) < len(verdicts)
        assert all(int(c.kwargs["params"].get("per_page", 1)) <= 100 for c in cases)
    finally:
        _sampled._operation.cache_clear()


def test_draws_are_seeded_simplest_first_and_honour_bounds_formats_and_known_values() -> None:
    contract = load_contract("eduframe")
    op = contract.operation("get_lead")
    sampler = _sampled.compiled_sampler(contract, op, {"id": "42"}, False, {})
    first = _sampled.draw(sampler, 6, 11, lambda case: True, None)
    again = _sampled.draw(sampler, 6, 11, lambda case: True, None)
    other = _sampled.draw(sampler, 6, 12, lambda case: True, None)
    assert [c.kwargs for c in first] == [c.kwargs for c in again] != [c.kwargs for c in other]
    assert first[0].kwargs["url"] == "/leads/42"  # the simplest case: the first option, the known value
    fixed = _sampled.draw(_sampled.compiled_sampler(contract, op, {"id": "42"}, True, {}), 4, 11, lambda c: True, None)
    assert {c.kwargs["url"] for c in fixed} == {"/leads/42"}
    compiler = _sampled._Compiler(contract)
    schemas = {
        "int": {"type": "integer", "minimum": 3, "exclusiveMaximum": 7},
        "multiple": {"type": "integer", "multipleOf": 5, "minimum": 1, "maximum": 30},
        "number": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "uuid": {"type": "string", "format": "uuid"},
        "date": {"type": "string", "format": "date"},
        "stamp": {"type": "string", "format": "date-time"},
        "email": {"type": "string", "format": "email", "maxLength": 20},
        "short": {"type": "string", "minLength": 2, "maxLength": 4},
        "pattern": {"type": "string", "pattern": "^[1-5][0-9]{2}$"},
        "unique": {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 1, "uniqueItems": True},
        "closed": {"type": "object", "properties": {"a": {"type": "boolean"}}, "required": ["a"],
                   "additionalProperties": False},
        "nullable": {"type": "string", "nullable": True, "enum": ["x", None]},
    }
    samplers = {name: _sampled._retry(compiler.schema(schema), lambda v: True) for name, schema in schemas.items()}
    src = _sampled.Source(5)
    seen: dict[str, set[str]] = {name: set() for name in schemas}
    for _ in range(200):
        for name, sampler in samplers.items():
            try:
                value = sampler(src)
            except _sampled.Reject:
                continue
            seen[name].add(json.dumps(value))
            if name == "int":
                assert 3 <= value < 7
            elif name == "multiple":
                assert value % 5 == 0 and 1 <= value <= 30
            elif name == "number":
                assert 0 < value <= 1
            elif name == "uuid":
                assert re.fullmatch(r"[0-9a-f-]{36}", value)
            elif name == "date":
                assert re.fullmatch(r"\d{4}-\d\d-\d\d", value)
            elif name == "stamp":
                assert value.endswith("+00:00")
            elif name == "email":
                assert "@" in value and len(value) <= 20
            elif name == "short":
                assert 2 <= len(value) <= 4
            elif name == "pattern":
                assert re.fullmatch(r"[1-5][0-9]{2}", value)
            elif name == "unique":
                assert value and len(set(value)) == len(value)
            elif name == "closed":
                assert set(value) == {"a"}
    assert seen["int"] == {"3", "4", "5", "6"} and len(seen["unique"]) >= 3 and len(seen["nullable"]) == 2
    assert samplers["int"](_sampled.Minimal()) == 3 and samplers["short"](_sampled.Minimal()) == "00"


def test_draws_are_the_same_in_every_process() -> None:
    """A seed draws the same cases whatever ran before in the process (the case cache keys on the seed)."""
    contract = load_contract("tesla-ce")
    op = next(iter(contract))
    sampler = _sampled.compiled_sampler(contract, op, {}, False, {})
    before = _sampled.draw(sampler, 5, 99, lambda case: True, None)
    random.seed(1234)
    [random.random() for _ in range(10)]
    assert [c.kwargs for c in _sampled.draw(sampler, 5, 99, lambda case: True, None)] == [c.kwargs for c in before]


def test_what_the_samplers_cannot_draw_goes_to_the_hypothesis_strategies() -> None:
    contract = load_contract("eduframe")
    compiler = _sampled._Compiler(contract)
    for schema in ({"not": {"type": "string"}}, {"type": "string", "format": "hostname"},
                   {"type": "string", "pattern": "(?=a)b"}, {"type": "object", "patternProperties": {"^x": {}}}):
        with pytest.raises(_compiled.Unsupported):
            compiler.schema(schema)
    op = contract.operation("list_courses")

    def unsupported(*args: object, **kwargs: object) -> object:
        raise _compiled.Unsupported("test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_sampled, "compiled_sampler", unsupported)
        cases, note = runner.generated_cases(contract, op, "positive", 3, 5, {})
    assert cases and not note and all(c.judged for c in cases)  # the compiled hypothesis strategies drew them


def test_documented_examples_need_no_schemathesis() -> None:
    """A documented body example becomes a request with the body as documented and the known path values."""
    contract = load_contract("eduframe")
    op = next(o for o in contract if any(m.examples for m in o.request_body.values()) and o.path_params())
    media_type, media = next((k, m) for k, m in op.request_body.items() if m.examples)
    example = next(e for e in media.examples.values() if "value" in e)
    known = {name: "77" for name in op.path_params()}
    case = _sampled.example_case(contract, op, known, media_type, example["value"], 3)
    assert case.kwargs["json"] == example["value"] and case.kwargs["headers"]["Content-Type"] == media_type
    assert case.kwargs["url"] == op.fill_path(known)
