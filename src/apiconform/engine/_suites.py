"""The suite tests: each sends its requests through the session and judges the answers into a `Recorder`.

The case pipeline lives beside them: `_generate` (schemathesis + compiled strategies, the case cache),
`_request` (a case as the request sent), `_judge` (valid or not, as sent), `_record` (findings, coverage,
shapes), `_discovery` (the path values a request addresses). The pytest suites in `suites/` are thin: each
test runs one work item through the engine and asserts on the `CaseResult`.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from apiconform.auth import select_scheme
from apiconform.contracts import Contract, Operation, from_httpx
from apiconform.engine._discovery import Discovery
from apiconform.engine._generate import example_requests, generate, valid_request
from apiconform.engine._judge import judge
from apiconform.engine._overlap import Overlap
from apiconform.engine._record import Recorder
from apiconform.engine._request import _clone, build_request, pin_path
from apiconform.engine._session import BudgetExhausted, Exchange, Session, Unsendable, WriteRefused
from apiconform.engine.checks import NEGATIVE, POSITIVE, UNAUTHENTICATED, CheckContext
from apiconform.findings import Category, Severity


def _skip_if_unsafe(rec: Recorder, op: Operation) -> bool:
    if not rec.target.safety.allows(op.label, op.method):
        rec.skipped = f"{op.method.upper()} skipped: target is read-only (pass --allow-writes to run writes)"
        return True
    return False


def _run_generated(session: Session, op: Operation, mode: str, max_examples: int, seed: int,
                   discovery: Discovery, rec: Recorder) -> Recorder:
    """Send generated cases and judge each by the contract (not by the mode that generated it)."""
    if _skip_if_unsafe(rec, op):
        return rec
    rng = random.Random(seed)

    fixed = discovery.fixed_values(op)
    known = discovery.path_values(op)
    unsent = 0
    realistic = mode == "positive"  # the first valid case sent addresses known records with real references
    # over HTTP the client idles while the target answers: the next cases are drawn and built, and the last answer
    # judged, on other threads meanwhile (engine._overlap); same order, same values; an embedded mock: all inline
    overlap = Overlap(session.target.kind != "mock")

    def prepare(drawn: Any) -> tuple[Any, httpx.Request | None, str]:
        """A drawn case as the request it becomes, and what the contract says of it (in draw order: `rng`)."""
        case = pin_path(session.target.contract, op, drawn, fixed, rng, id_style=mode == "positive")
        try:
            request = build_request(session.target, op, case, rng)
        except (ValueError, TypeError, UnicodeEncodeError):
            return drawn, None, ""  # a value httpx cannot put on the wire (e.g. non-Latin-1 header)
        # a compiled case was judged when drawn
        return drawn, request, POSITIVE if getattr(case, "judged", False) else judge(session.target.contract, op, request)

    def consume(prepared: tuple[Any, httpx.Request | None, str]) -> None:
        nonlocal unsent, realistic
        drawn, request, expectation = prepared
        if request is None:
            return
        if realistic and expectation == POSITIVE:
            realistic = False
            real = _realistic_case(session, op, drawn, {**known, **fixed}, discovery)
            if real is not None:
                request = real
        if mode == "positive" and expectation == NEGATIVE:
            unsent += 1  # meant as valid, invalid as built: apiconform's doing, never sent nor blamed on the vendor
            return
        try:
            exchange = session.send(op, request)
        except WriteRefused as exc:
            rec.refuse(exc)
            return
        except Unsendable:
            return
        if mode == "negative" and expectation == POSITIVE:
            rec.reclassified += 1
        overlap.submit(rec.observe, exchange, expectation, known_records=addresses_known(op, request, known))

    def produce(emit: Callable[[tuple[Any, httpx.Request | None, str]], None]) -> str:
        return generate(session.target.contract, op, mode, max_examples, seed, known, lambda drawn: emit(prepare(drawn)))

    try:
        note = overlap.ahead(produce, consume)
    except BudgetExhausted as exc:
        note = str(exc)
    finally:
        overlap.drain()  # every answer judged before the recorder is read
    if rec.reclassified:
        rec.notes.append(f"{rec.reclassified} generated 'invalid' cases were valid under the contract and were checked as valid")
    if unsent:
        rec.notes.append(f"{unsent} generated valid cases were invalid as built (apiconform's generation) and were not sent")
    if note and not rec.requests:
        rec.skipped = note
    return rec


def _realistic_case(session: Session, op: Operation, case: Any, known: dict[str, str],
                    discovery: Discovery) -> httpx.Request | None:
    """The drawn valid case addressed to the records the run knows, its write body's references real
    (`Discovery.realistic`); None where that request would not be valid (the case is then sent as drawn)."""
    rng = random.Random(0)  # its own: the cases after it are drawn and pinned as before
    try:
        request = build_request(session.target, op, pin_path(session.target.contract, op, case, known, rng, id_style=True), rng)
    except (ValueError, TypeError, UnicodeEncodeError):
        return None
    request = discovery.realistic(op, request)
    return request if judge(session.target.contract, op, request) == POSITIVE else None


def addresses_known(op: Operation, request: httpx.Request, known: dict[str, str]) -> bool:
    """Whether every path value of `request` names a record the run knows exists (discovered, created, configured):
    only then can a documented 403 be blamed on the credentials rather than on the record asked for."""
    names = op.path_params()
    if not names:
        return True
    sent = from_httpx(request, op).path_params
    return all(name in known and sent.get(name) == str(known[name]) for name in names)


def run_properties(session: Session, op: Operation, max_examples: int, seed: int, discovery: Discovery) -> Recorder:
    """Valid requests (property-based): every answer must conform to the contract."""
    rec = Recorder(session.target, op, "properties", f"properties[{op.label}]")
    return _run_generated(session, op, "positive", max_examples, seed, discovery, rec)


def run_negative(session: Session, op: Operation, max_examples: int, seed: int, discovery: Discovery) -> Recorder:
    """Invalid requests must be refused with a documented 4xx and the documented error shape.

    Every generated case is re-judged against the contract: a case that is in fact valid is checked
    as a positive case instead, so the API is never blamed for accepting a valid request.
    """
    rec = Recorder(session.target, op, "negative", f"negative[{op.label}]")
    return _run_generated(session, op, "negative", max_examples, seed, discovery, rec)


def _prepared(rec: Recorder, session: Session, op: Operation, seed: int, discovery: Discovery,
              applicable: bool, why_not: str) -> httpx.Request | None:
    """The valid request a targeted negative test starts from, or None with the skip reason set."""
    if not applicable:
        rec.skipped = why_not
        return None
    if _skip_if_unsafe(rec, op):
        return None
    request = valid_request(session, op, seed, discovery)
    if request is None:
        rec.skipped = "no valid request could be built for this operation"
    return request


def run_auth(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Missing and wrong credentials get the documented auth failure status and error shape."""
    rec = Recorder(session.target, op, "negative", f"auth[{op.label}]")
    request = _prepared(rec, session, op, seed, discovery, bool(op.security), "operation requires no credentials")
    if request is None:
        return rec
    for mode in ("none", "wrong"):
        try:
            exchange = session.send(op, _clone(request), auth=mode)
        except (BudgetExhausted, Unsendable) as exc:
            rec.skipped = str(exc)
            break
        rec.observe(exchange, UNAUTHENTICATED)
        if mode == "none":
            _undeclared_auth(rec, session, op, exchange)
        if exchange.status is not None:
            rec.record.observe_behaviour(session.target.vendor, op.label, f"auth {mode}", exchange.status)
    if session.target.other_credentials and not rec.skipped:
        _other_identity_probe(rec, session, op, seed, discovery)
    return rec


def _undeclared_auth(rec: Recorder, session: Session, op: Operation, exchange: Exchange) -> None:
    """A live server that refuses a request without credentials (401/403) where the vendor's own description says
    nothing about authentication: every scheme the operation requires was inferred by `apiconform init`
    (`x-apiconform-inferred`, not the vendor's) and the operation documents no auth failure. The description then
    deviates from the server (a client generated from it sends no credentials): AC404. Never on a mock (it answers
    what the contract, inferred scheme included, says)."""
    status = exchange.status
    if session.target.kind == "mock" or status not in (401, 403) or not op.implied_auth_statuses:
        return
    schemes = session.target.contract.security_schemes
    names = {name for requirement in op.security for name in requirement}
    if not names or not all((schemes.get(n) or {}).get("x-apiconform-inferred") is True for n in names):
        return
    rec.checks.add("auth_undeclared")
    ctx = CheckContext(session.target.contract, op, exchange, UNAUTHENTICATED, session.target.redactor(),
                       reproduce=rec.reproduce)
    rec.add(ctx.finding("auth_undeclared", Category.AUTH,
                        f"refused without credentials ({status}), yet the vendor's description declares no security "
                        f"and documents no auth failure for the operation (its scheme was inferred by apiconform init)",
                        expected="no credentials required, as described", actual=status, severity=Severity.NORMAL))


def other_identity_statuses(contract: Contract) -> tuple[int, ...]:
    """What the contract says another identity gets for the caller's records (`x-apiconform-auth.other-identity`:
    a status or a list), 403 or 404 when it says nothing."""
    from apiconform.auth import auth_config

    picked = select_scheme(contract)
    declared = auth_config(picked[1]).get("other-identity") if picked else None
    values = declared if isinstance(declared, list) else [declared] if declared is not None else [403, 404]
    return tuple(int(v) for v in values if str(v).isdigit())


def _other_identity_probe(rec: Recorder, session: Session, op: Operation, seed: int, discovery: Discovery) -> None:
    """Broken object-level authorization: the first identity's record, asked for with the second identity's
    credentials, must get the answer the contract declares (403/404), never the record. Only for operations
    whose every path parameter holds a real value of the first identity (discovered or its own id)."""
    names = op.path_params()
    known = discovery.path_values(op)
    if not names or set(names) - set(known):
        return  # no record of the first identity to ask for
    request = valid_request(session, op, seed, discovery, path_values=known, exact=True)  # addressed to that record
    if request is None:
        return
    try:
        exchange = session.send(op, _clone(request), auth="other")
    except (BudgetExhausted, Unsendable):
        return
    rec.requests += exchange.attempts
    status = exchange.status
    if status is None:
        return
    rec.record.observe_behaviour(session.target.vendor, op.label, "auth other-identity", status)
    rec.checks.add("other_identity")
    rec.categories.add(Category.AUTH)
    expected = other_identity_statuses(session.target.contract)
    if status not in expected:
        ctx = CheckContext(session.target.contract, op, exchange, UNAUTHENTICATED, session.target.redactor(),
                           reproduce=rec.reproduce)
        granted = 200 <= status < 300
        message = (f"another identity got the first identity's record ({status}): broken object-level authorization"
                   if granted else f"another identity's request for the first identity's record got {status}")
        rec.add(ctx.finding("other_identity", Category.AUTH, message,
                            expected=" or ".join(map(str, expected)), actual=status))


def run_idempotency(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Same key + same body replays; same key + different body is refused in the documented error shape."""
    rec = Recorder(session.target, op, "negative", f"idempotency[{op.label}]")
    request = _prepared(rec, session, op, seed, discovery, op.idempotency is not None,
                        "operation documents no idempotency key")
    if request is None or op.idempotency is None:
        return rec
    header = op.idempotency.header
    key = str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4))
    try:
        _idempotency_steps(session, op, rec, request, header, key)
    except (BudgetExhausted, Unsendable) as exc:
        rec.skipped = str(exc)
    return rec


def _idempotency_steps(session: Session, op: Operation, rec: Recorder, request: httpx.Request, header: str, key: str) -> None:
    first = session.send(op, _clone(request, {header: key}))
    rec.observe(first, POSITIVE)
    second = session.send(op, _clone(request, {header: key}))
    rec.observe(second, POSITIVE)
    if first.status is not None and second.status is not None and 200 <= first.status < 300:
        if (second.status, second.json()) != (first.status, first.json()):
            ctx = CheckContext(session.target.contract, op, second, POSITIVE, session.target.redactor(),
                           reproduce=rec.reproduce)
            rec.add(ctx.finding("idempotent_replay", Category.STATUS_CODE,
                                "same idempotency key and body did not replay the first answer",
                                expected=first.status, actual=second.status))
        changed = _changed_body(request)
        if changed is not None:
            third = session.send(op, _clone(changed, {header: key}))
            rec.observe(third, NEGATIVE)


def _changed_body(request: httpx.Request) -> httpx.Request | None:
    import json

    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    body = dict(body)
    body["apiconform_changed"] = str(uuid.uuid4())
    for key, value in list(body.items()):
        if isinstance(value, str) and key != "apiconform_changed":
            body[key] = value + "-changed"
            body.pop("apiconform_changed")
            break
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, json=body)


def run_examples(session: Session, op: Operation, seed: int, discovery: Discovery) -> Recorder:
    """Every documented request example is sent; the answer must conform."""
    rec = Recorder(session.target, op, "examples", f"examples[{op.label}]")
    if not any("value" in e and not e.get("x-erratum") for m in op.request_body.values() for e in m.examples.values()):
        rec.skipped = "the docs show no request example for this operation"
        return rec
    if _skip_if_unsafe(rec, op):  # before discovery: a skipped write must not spend the budget on id lookups
        return rec
    requests = example_requests(session.target, op, discovery.path_values(op), random.Random(seed))
    if not requests:
        rec.skipped = "the docs show no request example for this operation"
        return rec
    for request in requests:
        request = discovery.realistic(op, request)  # the docs' placeholder references: real records instead
        try:
            exchange = session.send(op, request)
        except BudgetExhausted as exc:
            rec.skipped = str(exc)
            break
        except WriteRefused as exc:
            rec.refuse(exc)
            continue
        except Unsendable:
            continue
        rec.observe(exchange, judge(session.target.contract, op, exchange.request))
    return rec
