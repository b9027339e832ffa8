"""The fast validator (jsonschema-rs) only ever short-cuts "valid": it must never call valid what the reference
validator (jsonschema, whose messages and paths the findings carry) rejects. Checked on every schema of every
bundled contract, over synthesized valid values and mutations of them (dropped, mistyped, malformed members)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from apiconform.contracts import load_contract
from apiconform.contracts._model import CheckedValidator
from apiconform.contracts._pointer import objects, pointer
from apiconform.mock._synth import Synthesizer

VENDORS = ("eduframe", "tesla-ce", "goodstack", "ctrlhub", "cofe-cms")
BAD: list[Any] = [None, 0, -1, 1.5, "", "x" * 300, "not-a-date", "2020-13-45T99:00:00Z", "2020-01-01", [], {}, True,
                  "ünïcødé", "1\n", "a@", "::1", "http://[bad", "00000000-0000-0000-0000-00000000000g", 2**70]


def schema_pointers(document: dict[str, Any]) -> list[str]:
    found = {f"{ptr}/schema" for ptr, node in objects(document) if isinstance(node.get("schema"), dict)}
    found.update(pointer("components", "schemas", name) for name in (document.get("components") or {}).get("schemas") or {})
    return sorted(found)


def mutations(value: Any, rng: random.Random, depth: int = 0) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for key in list(value):
            yield {k: v for k, v in value.items() if k != key}
            for bad in rng.sample(BAD, 4):
                yield {**value, key: bad}
            if isinstance(value[key], (dict, list)) and depth < 3:
                for inner in list(mutations(value[key], rng, depth + 1))[1:8]:
                    yield {**value, key: inner}
        yield {**value, "zz_extra": 1}
    elif isinstance(value, list):
        yield []
        if value:
            for inner in list(mutations(value[0], rng, depth + 1))[1:8]:
                yield [inner, *value[1:]]
    else:
        yield from BAD


def disagreements(validator: CheckedValidator, instances: Iterator[Any]) -> tuple[int, list[Any]]:
    """(instances compared, those the fast validator calls valid although the reference rejects them)."""
    compared, wrong = 0, []
    for instance in instances:
        try:
            fast = validator.fast.is_valid(instance)
        except (ValueError, TypeError, OverflowError):
            continue  # CheckedValidator sends these to the reference alone
        compared += 1
        if fast and list(validator.reference.iter_errors(instance)):
            wrong.append(instance)
    return compared, wrong


@pytest.mark.parametrize("vendor", VENDORS)
def test_fast_validator_never_accepts_what_the_reference_rejects(vendor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from rstr.xeger import Xeger

    repeat = Xeger._handle_repeat  # Eduframe's Link-header pattern is 890 KB at rstr's 100 repeats: cap them at 4

    def short(self: Xeger, start: int, end: int, value: str) -> str:
        return repeat(self, start, min(end, max(start, 4)), value)

    monkeypatch.setattr(Xeger, "_handle_repeat", short)
    contract = load_contract(vendor)
    synth = Synthesizer(contract, seed=1)
    rng = random.Random(3)
    compared, wrong, slow = 0, [], []
    for ptr in schema_pointers(contract.document):
        validator = contract.validator(ptr)
        if validator.fast is None:
            slow.append(ptr)
            continue
        n, bad = disagreements(validator, mutations(synth.value(contract.at(ptr)), rng))
        compared += n
        wrong += [(ptr, instance) for instance in bad]
    assert not wrong, wrong[:5]
    assert not slow, f"schemas without the fast path (every validation of them is pure Python): {slow[:5]}"
    assert compared > 200


def test_the_agreement_check_catches_a_fast_validator_that_accepts_too_much() -> None:
    contract = load_contract("goodstack")
    ptr = next(p for p in schema_pointers(contract.document) if "/responses/200/" in p)
    honest = contract.validator(ptr)

    class Lenient:
        def is_valid(self, instance: Any) -> bool:
            return True

    lying = CheckedValidator(lambda: honest.reference, Lenient())
    _, wrong = disagreements(lying, iter([None, 17, "x"]))
    assert wrong, "a fast validator that accepts everything must be caught"
    assert list(lying.iter_errors(None)) == []  # ... because CheckedValidator trusts its "valid"
    assert list(honest.iter_errors(None)), "the real pair rejects a null body"


def test_a_path_value_is_kept_or_replaced_without_the_reference_validator() -> None:
    """`pin_path` only asks whether a generated path value fits (`CheckedValidator.decides`): the compiled validator
    answers alone, in both directions, and agrees with the reference on ids and on garbage."""
    values = ("1001", 1001, "not an id/..", "", -1)
    checked = 0
    for vendor in VENDORS:
        contract = load_contract(vendor)
        for ptr in sorted({p for op in contract for (where, _), p in op.param_schemas.items() if where == "path" and p}):
            shared = contract.validator(ptr)
            fresh = CheckedValidator(shared._make, shared.fast)
            answers = [fresh.decides(value) for value in values]
            assert fresh._reference is None, ptr  # never built: no error list, no jsonschema import
            assert answers == [fresh.reference.is_valid(value) for value in values], ptr
            checked += 1
    assert checked > 20
