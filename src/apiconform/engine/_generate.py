"""Generation: schemathesis + hypothesis draw requests from the contract; the compiled strategies
(`engine._compiled`) draw the valid ones where they can. Every draw is keyed and replayed from the case cache.

`generated_cases` is the one entry: compiled strategies for valid cases of a contract they apply to (each case
re-judged, a refused one never kept), schemathesis' `APIOperation.as_strategy` otherwise and for every negative
case. `example_requests` builds the documented request examples; `valid_request` finds one request the contract
accepts (an example, else a generated one) for the tests that start from a valid request.
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import httpx

from apiconform.contracts import Contract, Operation, content_encoded_examples
from apiconform.engine import _casecache as _casecache
from apiconform.engine import _compiled as _compiled
from apiconform.engine import _sampled as _sampled
from apiconform.engine._casecache import WireCase, from_case
from apiconform.engine._draws import isolated_draws, untracked
from apiconform.engine._judge import judge
from apiconform.engine._request import build_request, pin_path
from apiconform.engine._session import Session
from apiconform.engine._targets import Target
from apiconform.engine.checks import NEGATIVE, POSITIVE

if TYPE_CHECKING:
    from hypothesis import settings

    from apiconform.engine._discovery import Discovery


# --- schemathesis bridge ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _st_schema(contract: Contract) -> Any:
    import schemathesis

    # strings carrying encoded content become formats the compiler draws (schemathesis reads those keywords as
    # annotations and would draw any text, which the judge then refuses)
    return schemathesis.openapi.from_dict(_compiled.content_formats(contract, copy.deepcopy(contract.document)))


def st_operation(contract: Contract, op: Operation) -> Any:
    """The schemathesis APIOperation for one of our operations."""
    schema = _st_schema(contract)
    if "operationId" in op.definition:
        return schema.find_operation_by_id(op.operation_id)
    return schema[op.path][op.method.upper()]


def _settings(max_examples: int) -> settings:
    """Hypothesis is imported only when a case is really drawn: a run replayed from the case cache never loads it."""
    from hypothesis import HealthCheck, Phase, settings

    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        print_blob=False,
        report_multiple_bugs=False,
    )


@functools.lru_cache(maxsize=1024)
def _encoded_query_cached(contract: Contract, label: str) -> tuple[tuple[str, str], ...]:
    from apiconform.mock import Synthesizer

    synth = Synthesizer(contract, seed=0)
    return tuple(sorted(content_encoded_examples(contract, contract.operations[label], synth.value).items()))


def _encoded_query(contract: Contract, op: Operation) -> dict[str, str]:
    """Valid JSON-in-a-string query values (e.g. CofE `data`): schemathesis cannot derive them."""
    return dict(_encoded_query_cached(contract, op.label))


def _strategy(contract: Contract, op: Operation, mode: str, known: dict[str, str], fixed: bool = False) -> Any:
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    api_op = st_operation(contract, op)
    query = _encoded_query(contract, op) if mode == "positive" else {}
    if fixed:
        return api_op.as_strategy(generation_mode=GenerationMode(mode), path_parameters=known, query=query or None)
    generated = api_op.as_strategy(generation_mode=GenerationMode(mode))
    if query:
        generated = st.one_of(api_op.as_strategy(generation_mode=GenerationMode(mode), query=query,
                                                 path_parameters=known or None), generated)
    if known and mode == "positive":
        return st.one_of(api_op.as_strategy(generation_mode=GenerationMode(mode), path_parameters=known), generated)
    return generated


@functools.lru_cache(maxsize=32)
def _digest(contract: Contract) -> str:
    return _casecache.contract_digest(contract.document)


def generated_cases(
    contract: Contract, op: Operation, mode: str, max_examples: int, seed: int, known: dict[str, str],
    fixed: bool = False, until: Callable[[WireCase], bool] | None = None,
) -> tuple[list[WireCase], str]:
    """Up to `max_examples` generated cases (stopping after the first one `until` accepts), and a note if
    generation was impossible. Drawn once per key and replayed from the on-disk case cache afterwards.

    The known path values (discovered, configured, created by the run: they differ from run to run on a live
    target) are not part of the key: the cases are drawn with a placeholder where a known value goes, stored so,
    and filled with this run's values (`_casecache.filled`), so a kept cache (a restored CI cache) replays."""
    key = _casecache.key(_digest(contract), op.label, mode, max_examples, seed, sorted(known), fixed,
                         "until" if until is not None else "all")
    cached = _casecache.get(key)
    if cached is not None:
        stored, stored_note, judged_with = cached
        return [_casecache.filled(c, known, op.path_wire, judged_with == known) for c in stored], stored_note
    tokens = _casecache.placeholders(known)

    def fill(case: WireCase) -> WireCase:
        return _casecache.filled(case, known, op.path_wire, True)

    cases, note = _drawn_cases(contract, op, mode, max_examples, seed, tokens, fixed, fill, until)
    _casecache.put(key, cases, note, known)
    return [fill(c) for c in cases], note


def _drawn_cases(
    contract: Contract, op: Operation, mode: str, max_examples: int, seed: int, tokens: dict[str, str], fixed: bool,
    fill: Callable[[WireCase], WireCase], until: Callable[[WireCase], bool] | None,
) -> tuple[list[WireCase], str]:
    """The cases drawn with placeholders (`tokens`) for the known path values; `fill` gives the case as it is sent
    (what the judge and `until` see)."""
    if until is not None:
        search = until

        def until_filled(case: WireCase) -> bool:
            return search(fill(case))

        until = until_filled
    compiled = None
    if mode == "positive":  # every contract's valid cases: compiled samplers/strategies, schemathesis where they cannot be
        compiled = _compiled_cases(contract, op, max_examples, seed, tokens, fixed, fill, until)
    elif mode == "negative":  # invalid cases: a valid compiled case with one part broken, schemathesis otherwise
        compiled = _negative_cases(contract, op, max_examples, seed, tokens, fixed, fill, until)
    if compiled is not None:
        return compiled, ""
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import FailedHealthCheck, InvalidArgument, Unsatisfiable

    cases: list[WireCase] = []
    try:
        strategy = _strategy(contract, op, mode, tokens, fixed)
    except Exception as exc:  # schemathesis cannot build a strategy (e.g. nothing to negate)
        return cases, f"no {mode} cases: {type(exc).__name__}: {exc}"

    @untracked
    @hypothesis_seed(seed)
    @_settings(max_examples)
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            wire = from_case(case)
        except (ValueError, TypeError, UnicodeEncodeError):
            return  # cannot be serialised: nothing to send
        cases.append(wire)
        if until is not None and until(wire):
            raise _Enough()

    note = ""
    try:
        with isolated_draws():  # the draws depend on the contract and the seed, not on the modules loaded
            run()
    except _Enough:
        pass
    except (Unsatisfiable, FailedHealthCheck, InvalidArgument) as exc:
        note = f"no {mode} cases: {type(exc).__name__}"
    return cases, note


def _compiled_cases(contract: Contract, op: Operation, max_examples: int, seed: int, tokens: dict[str, str],
                    fixed: bool, fill: Callable[[WireCase], WireCase],
                    until: Callable[[WireCase], bool] | None) -> list[WireCase] | None:
    """Valid (positive) cases from the operation's compiled samplers (`engine._sampled`, no hypothesis engine), else
    its compiled hypothesis strategy (`engine._compiled`), or None when neither can be compiled (or drew nothing):
    schemathesis draws those. Each case is judged as it is sent (`fill`: the known path values in place)."""

    def valid(case: WireCase) -> bool:
        try:
            return judge(contract, op, _offline_request(contract, op, fill(case))) == POSITIVE
        except (ValueError, TypeError, UnicodeEncodeError):
            return False

    encoded = _encoded_query(contract, op)
    try:
        sampler = _sampled.compiled_sampler(contract, op, tokens, fixed, encoded)
    except _compiled.Unsupported:
        pass
    else:
        sampled = _sampled.draw(sampler, max_examples, seed, valid, until)
        if sampled:
            return sampled
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    try:
        strategy = _compiled.compiled_strategy(contract, op, tokens, fixed, encoded)
    except _compiled.Unsupported:
        return None
    try:
        cases = _compiled.draw(strategy, max_examples, seed, valid, until, _settings(2))
    except (Unsatisfiable, FailedHealthCheck):
        return None
    return cases or None


def _negative_cases(contract: Contract, op: Operation, max_examples: int, seed: int, tokens: dict[str, str],
                    fixed: bool, fill: Callable[[WireCase], WireCase],
                    until: Callable[[WireCase], bool] | None) -> list[WireCase] | None:
    """Invalid cases from the compiled samplers' mutations (`engine._sampled.negative_sampler`), each one the contract
    refuses as it is sent; None when none can be drawn (schemathesis' negative mode draws them then)."""

    def invalid(case: WireCase) -> bool:
        try:
            return judge(contract, op, _offline_request(contract, op, fill(case))) == NEGATIVE
        except (ValueError, TypeError, UnicodeEncodeError):
            return False

    try:
        sampler = _sampled.negative_sampler(contract, op, tokens, fixed, _encoded_query(contract, op))
    except _compiled.Unsupported:
        return None
    return _sampled.draw(sampler, max_examples, seed, invalid, until) or None


def _offline_request(contract: Contract, op: Operation, case: WireCase) -> httpx.Request:
    """The request a case becomes, on a placeholder base URL (what the judge reads does not depend on it)."""
    return build_request(cast(Target, _Offline(contract)), op, case, random.Random(0))


@dataclass(frozen=True)
class _Offline:
    contract: Contract
    base_url: str = "http://apiconform.invalid"


def generate(
    contract: Contract, op: Operation, mode: str, max_examples: int, seed: int, known: dict[str, str],
    consume: Callable[[Any], None], fixed: bool = False,
) -> str:
    """Feed up to `max_examples` generated cases to `consume`; returns a note if generation was impossible."""
    cases, note = generated_cases(contract, op, mode, max_examples, seed, known, fixed)
    for case in cases:
        consume(case)
    return note


class _Enough(Exception):
    """Stops generation early once a search has what it needs (hypothesis re-raises it unchanged)."""


def example_requests(target: Target, op: Operation, known: dict[str, str], rng: random.Random) -> list[httpx.Request]:
    """Requests built from every documented request example (errata excluded)."""
    requests: list[httpx.Request] = []
    for media_type, media in op.request_body.items():
        for name, example in media.examples.items():
            if "value" not in example or example.get("x-erratum"):
                continue
            example_seed = rng.randrange(1 << 30)
            key = _casecache.key(_digest(target.contract), op.label, "example", media_type, name, example_seed,
                                 sorted(known))  # known values as placeholders (generated_cases)
            cached = _casecache.get(key)
            if cached is not None:
                cases = cached[0]
            else:
                case = _example_case(target.contract, op, _casecache.placeholders(known), media_type, example["value"],
                                     example_seed)
                if case is None:  # an example that cannot even be serialised is reported by `contracts check`
                    continue
                cases = [case]
                _casecache.put(key, cases)
            try:
                requests.append(build_request(target, op, _casecache.filled(cases[0], known, op.path_wire, False), rng))
            except Exception:  # an example that cannot even be serialised is reported by `contracts check`
                continue
    return requests


def _example_case(contract: Contract, op: Operation, known: dict[str, str], media_type: str, value: Any,
                  seed: int) -> WireCase | None:
    """A documented body example as a case, its other parameters drawn by the compiled samplers, else by
    schemathesis (None: it cannot even be serialised)."""
    try:
        return _sampled.example_case(contract, op, known, media_type, value, seed)
    except _compiled.Unsupported:
        pass
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed

    cases: list[WireCase] = []

    @untracked
    @hypothesis_seed(seed)
    @_settings(1)
    @given(case=st_operation(contract, op).as_strategy(body=value, media_type=media_type, path_parameters=known or None))
    def first(case: Any) -> None:
        if not cases:
            cases.append(from_case(case))

    try:
        with isolated_draws():
            first()
    except Exception:
        return None
    return cases[0] if cases else None


def valid_request(
    session: Session, op: Operation, seed: int, discovery: Discovery, path_values: dict[str, str] | None = None,
    exact: bool = False,
) -> httpx.Request | None:
    """One request the contract accepts: a documented example if there is one, else a generated one.

    With `path_values`, the path is generated from them (lifecycles address the record they created); `exact`:
    every one of them is kept as it is, never replaced by an id-style value (the probe of another identity
    must ask for exactly the record it names)."""
    rng = random.Random(seed)
    known = path_values if path_values is not None else discovery.path_values(op)
    for request in example_requests(session.target, op, known, rng):
        if judge(session.target.contract, op, request) == POSITIVE:
            return discovery.realistic(op, request)
    probe_rng = random.Random(0)  # the search must not consume `rng`: replays build the same requests

    # the records the run knows (discovered, created, configured) rather than ids made up in their style
    fixed = {**known, **discovery.fixed_values(op)} if path_values is None else dict(path_values) if exact else {}

    def valid(case: WireCase) -> bool:
        try:
            pinned = pin_path(session.target.contract, op, case, fixed, probe_rng, id_style=True)
            return judge(session.target.contract, op, build_request(session.target, op, pinned, probe_rng)) == POSITIVE
        except (ValueError, TypeError, UnicodeEncodeError):
            return False

    cases, _ = generated_cases(session.target.contract, op, "positive", 20, seed, known,
                               fixed=path_values is not None, until=valid)
    for case in cases:
        case = pin_path(session.target.contract, op, case, fixed, rng, id_style=True)
        try:
            request = build_request(session.target, op, case, rng)
        except (ValueError, TypeError, UnicodeEncodeError):
            continue
        if judge(session.target.contract, op, request) == POSITIVE:
            return discovery.realistic(op, request)
    return None
