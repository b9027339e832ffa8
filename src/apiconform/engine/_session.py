"""Sending one request safely and capturing what came back, whatever came back.

A `Session` owns a target's clients and enforces its safety limits (budget, pacing, bounded
Retry-After, retries only where safe, body size cap). Every outcome — including timeouts,
resets, truncated or oversized bodies — becomes an `Exchange`, never an exception, so one bad
answer never loses the other results.
"""

from __future__ import annotations

import functools
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC
from enum import StrEnum
from typing import Any, Literal, get_args

import httpx

from apiconform.auth import AuthFailed, one_off_parameters, wrong_credentials
from apiconform.contracts import Operation, loads_bounded
from apiconform.engine._deadline import exceeded, within
from apiconform.engine._ledger import Exhausted, Ledger
from apiconform.engine._observed import Observed
from apiconform.engine._stop import raise_pending
from apiconform.engine._targets import LEARNED, MADE_UP, RateLimiter, Target
from apiconform.engine._writes import CLEANUP_SECONDS, Ownership, WriteReport, addressed
from apiconform.errors import ApiconformError

NOT_JSON = object()


def bodiless(method: str, status: int) -> bool:
    """Answers that end at their headers whatever Content-Length says (RFC 9110 §6.4.1, §8.6): HEAD, 1xx, 204, 304."""
    return method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200


IDEMPOTENT = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
DOWN_AFTER = 5  # connections a live target refused in a row after which it counts as down
DOWN_RETRY = 2.0  # seconds between the requests that check whether a down target is back

#: Which credentials a request goes with: the vendor's auth flow, none, or the flow's wrong ones.
AuthMode = Literal["valid", "none", "wrong", "other"]
AUTH_MODES: tuple[AuthMode, ...] = get_args(AuthMode)


class FailureKind(StrEnum):
    """Why an exchange has no usable answer: typed, so nothing is decided by matching message text."""

    TIMEOUT = "timeout"  # connect, read or the overall request deadline
    TRANSPORT = "transport"  # reset, refused, protocol error
    BODY = "body"  # truncated, oversized, undecodable or too deeply nested body
    AUTH = "auth"  # the auth flow could not authenticate (`AuthFailed`: login refused, or its answer drifted)
    CLIENT = "client"  # anything else the client raised while sending


@dataclass(frozen=True)
class TransportFailure:
    kind: FailureKind
    message: str


class Unsendable(Exception):
    """The request could not be sent as generated; the case is dropped, not judged."""


class WriteRefused(Unsendable):
    """A state-changing request the target's safety forbids (read-only, or a record the run did not create under
    the write policy): never sent (the last line of defence). Its message is the reason, for the skip."""


class BudgetExhausted(Exception):
    """The target's request budget is used up; remaining cases are skipped, not failed."""


@dataclass
class Exchange:
    """One request and its outcome."""

    operation: Operation
    request: httpx.Request
    response: httpx.Response | None = None
    body: bytes = b""
    error: str | None = None  # transport failure, if any: what went wrong, redacted (findings show it)
    failure: FailureKind | None = None  # its kind (None with `error` only where a caller built the exchange)
    elapsed: float = 0.0
    attempts: int = 1
    login_answer: httpx.Response | None = None  # the auth flow's login answer, when it drifted (no usable token)
    record_gone: bool = False  # it addressed a record (or what lies under one) this run had deleted before
    _json: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    @property
    def media_type(self) -> str | None:
        if self.response is None:
            return None
        value = self.response.headers.get("content-type")
        return value.split(";")[0].strip().lower() if value else None

    def json(self) -> Any:
        """The body parsed as JSON (strict UTF-8), or NOT_JSON."""
        if not self._parsed:
            self._parsed = True
            try:
                value, too_deep = loads_bounded(self.body.decode("utf-8")) if self.body else (NOT_JSON, None)
                self._json = NOT_JSON if too_deep else value
                if too_deep and self.error is None:  # unusable, like an oversized body: a finding, never a crash
                    self.fail(TransportFailure(FailureKind.BODY, f"body is {too_deep} (not judged further)"))
            except (UnicodeDecodeError, ValueError):
                self._json = NOT_JSON
        return self._json

    def fail(self, failure: TransportFailure | None) -> None:
        """Record `failure` (None: the attempt succeeded)."""
        self.failure, self.error = (failure.kind, failure.message) if failure else (None, None)


class _Outage:
    """A live target whose server died refuses every connection: after `DOWN_AFTER` refusals in a row its requests
    fail at once (a transport failure each, so every affected case still reports it) instead of each paying its
    retries, and one request every `DOWN_RETRY` seconds checks whether it is back."""

    def __init__(self) -> None:
        self.refused = 0
        self.retry_at = 0.0

    def down(self) -> bool:
        return self.refused >= DOWN_AFTER and time.monotonic() < self.retry_at

    def note(self, refused: bool) -> None:
        self.refused = self.refused + 1 if refused else 0
        if self.refused >= DOWN_AFTER:
            self.retry_at = time.monotonic() + DOWN_RETRY


class Session:
    """A target's clients plus the run-wide safety state (thread-safe)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.safety = target.safety
        self.limiter = RateLimiter(self.safety.rate)
        self._lock = threading.Lock()
        self.sent = 0
        self.reserve = 0  # requests held back for the first cases of the tests still to run (engine._budget)
        # a live target's budget and rate are shared by every process of the run (see _ledger)
        self.ledger = (Ledger(_ledger_key(target), self.safety.max_requests, self.safety.rate, target.ledger_dir)
                       if target.kind != "mock" else None)
        self._clients: dict[str, httpx.Client] = {}
        self.redactor = target.redactor()
        # what is no one's secret however it comes back (under `token`, `password`...): what the run sent itself
        # and every string of the vendor's published description (its examples and enums are what the run sends)
        self._public = _Public(MADE_UP.setdefault(target.vendor, set()), target.contract.document)
        self.login_error: str | None = None
        self._per_request = one_off_parameters(target.contract)  # signatures: never learned as secrets
        self._outage = _Outage() if target.kind != "mock" else None
        self.observed = Observed()  # what the target answered, reused for later requests (Discovery.realistic)
        # the write policy and the records this run created: every target reached over HTTP (an embedded mock
        # is rewound per test and needs neither)
        self.ownership: Ownership | None = None
        if target.kind != "mock":
            self.ownership = Ownership(target.vendor, target.contract, target.base_url, self.safety.writes,
                                       self.safety.expendable)

    def client(self, auth: AuthMode = "valid") -> httpx.Client:
        """`valid`: the vendor's auth flow; `none`: no credentials; `wrong`: same flow, bogus secrets."""
        if auth not in AUTH_MODES:
            raise ValueError(f"auth mode must be one of {AUTH_MODES}, not {auth!r}")
        if auth not in self._clients:
            if auth == "valid":
                self._clients[auth] = self.target.client()
            elif auth == "none":
                self._clients[auth] = self.target.client(authenticated=False)
            elif auth == "other":  # the second identity (object-level authorization probes)
                self._clients[auth] = self.target.client(credentials=self.target.other_credentials or {})
            else:
                self._clients[auth] = self._wrong_client()
        return self._clients[auth]

    def _wrong_client(self) -> httpx.Client:
        """Credentials of the right form but wrong value, as the auth flow forges them (a forged JWT, a bad
        HMAC key, an unknown key: `AuthFlow.wrong_credentials`)."""
        wrong = wrong_credentials(self.target.contract, self.target.credentials)
        if wrong.credentials is not None:
            return self.target.client(credentials=wrong.credentials)
        client = self.target.client(authenticated=False)
        client.headers.update(wrong.headers)
        return client

    def cleanup(self, seconds: float = CLEANUP_SECONDS) -> WriteReport | None:
        """Delete every record this run created that is still there (bounded: `seconds`); the target's write
        report (what was created, deleted, refused and left behind), None for an embedded mock."""
        if self.ownership is None:
            return None

        def send(op: Operation, request: httpx.Request) -> tuple[int | None, str]:
            try:
                exchange = self.send(op, request, cleanup=True)
            except (BudgetExhausted, Unsendable) as exc:
                return None, str(exc)
            return exchange.status, f"{op.label}: {exchange.error}"

        return self.ownership.cleanup(send, self.redactor, seconds)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def identities(self) -> dict[str, str]:
        """The caller's own ids the contract declares (x-apiconform-auth.identity), fetched once:
        a login answer by driving the auth flow up to its first real request, a "current user"
        answer by one GET of that operation. Missing ones stay missing (ids are then discovered)."""
        from apiconform.auth import capture, identity_specs

        target = self.target
        specs = [s for s in identity_specs(target.contract) if s.resource not in target.identities]
        with self._lock:
            if not specs or getattr(self, "_identity_tried", False):
                return target.identities
            self._identity_tried = True
        if any(s.operation is None for s in specs):
            self._login()
        for spec in (s for s in specs if s.operation):
            try:
                op = target.contract.operation(str(spec.operation))
                exchange = self.send(op, httpx.Request("GET", target.base_url + op.path))
            except (ApiconformError, BudgetExhausted, Unsendable):
                continue
            if exchange.status is not None and 200 <= exchange.status < 300:
                target.identities.update(capture((spec,), exchange.json(), spec.operation))
        return target.identities

    def _login(self) -> None:
        """Run the auth flow's own requests (a login) without sending the request it would authenticate."""
        client = self.client("valid")
        if client.auth is None or self.target.logged_in:
            return
        placeholder = client.build_request("GET", self.target.base_url + "/")
        flow = client.auth.sync_auth_flow(placeholder)
        try:
            outgoing = next(flow)
            while outgoing is not placeholder:
                self._spend()  # budget and pacing (the shared ledger, or the in-process limiter)
                self._sending()
                response = client.send(outgoing, auth=None)
                response.read()
                outgoing = flow.send(response)
        except StopIteration:
            pass
        except httpx.HTTPError:
            pass
        except Exception as exc:  # noqa: BLE001 - AuthFailed and the like: the preflight / the tests report it
            if getattr(exc, "answer", None) is not None:
                return  # the login answered, but not as documented: a finding on the login operation, not exit 3
            self.login_error = f"{type(exc).__name__}: {self.redactor.text(str(exc))}"
        finally:
            flow.close()

    def _spend(self, reserve: int | None = None) -> None:
        """Take one request of the budget, keeping `reserve` requests (default: the plan's reserve for the tests still
        to run; `send` adds the clean-up's), and wait for its slot."""
        budget = self.safety.max_requests
        total = self.reserve if reserve is None else reserve
        if self.ledger is not None:
            try:
                self.ledger.take(total)  # waits for the request's slot
            except Exhausted:
                raise BudgetExhausted(self._exhausted(budget)) from None
            with self._lock:
                self.sent += 1
            return
        with self._lock:
            if budget is not None and self.sent >= budget - total:
                raise BudgetExhausted(self._exhausted(budget))
            self.sent += 1
        self.limiter.wait()

    def _sending(self) -> None:
        """The request granted by `_spend` goes out now: the shared ledger paces the run by actual send times."""
        if self.ledger is not None:
            self.ledger.sending()

    def _exhausted(self, budget: int | None) -> str:
        if self.reserve:
            return (f"request budget of {budget} for {self.target.vendor}: the rest ({self.reserve}) is kept for the "
                    f"first cases of the tests still to run")
        return f"request budget of {budget} for {self.target.vendor} is used up"

    def send(self, op: Operation, request: httpx.Request, auth: AuthMode = "valid", cleanup: bool = False) -> Exchange:
        """Send with pacing, bounded 429 waits and safe retries; capture everything. `cleanup`: a delete of a
        record this run created, sent from the budget kept for it."""
        method = request.method.upper()
        if not self.safety.allows(op.label, method):
            raise WriteRefused(f"{method} {op.label} not sent: target is read-only (pass --allow-writes to run writes)")
        reserve = 0
        if self.ownership is not None and method not in ("GET", "HEAD", "OPTIONS"):
            refusal = self.ownership.check(op, request)
            if refusal is not None:
                self.ownership.refuse(op, refusal)
                raise WriteRefused(refusal)
        if self.target.kind != "mock":
            self._public.remember(request)
        if self.ownership is not None and not cleanup:  # room to delete what exists, and what this may create
            reserve = self.ownership.reserve() + (addressed(self.target.contract, op)[0] == "create")
        if not cleanup:
            reserve += self.reserve
        client = self.client(auth)
        exchange = Exchange(op, request)
        if self.ownership is not None:
            exchange.record_gone = self.ownership.deleted(request.url)
        attempts = 0
        started = time.perf_counter()
        while True:
            attempts += 1
            if self._outage is not None and self._outage.down():
                exchange.fail(TransportFailure(FailureKind.TRANSPORT, (
                    f"transport error: ConnectError: not sent, the target refused the last {self._outage.refused} "
                    f"connections (down?); tried again every {DOWN_RETRY:g} s")))
                break
            raise_pending()  # a stop a finalizer swallowed: no request is sent after it
            self._spend(reserve)  # budget and pacing
            self._sending()  # outside the try: a shared store that stops answering is exit 3, not a finding
            attempt_started = time.perf_counter()
            try:
                with within(self.safety.deadline):
                    request.extensions["apiconform.case"] = True  # not the auth flow's own login (targets._watch_login)
                    response = client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                over = time.perf_counter() - attempt_started >= self.safety.deadline * 0.99
                exchange.fail(TransportFailure(FailureKind.TIMEOUT,
                                               f"timeout: {type(exc).__name__}" + (self._deadline_note(True) if over else "")))
            except httpx.TransportError as exc:
                exchange.fail(TransportFailure(FailureKind.TRANSPORT,
                                               f"transport error: {type(exc).__name__}: {self.redactor.text(str(exc))}"))
                if self._outage is not None:
                    self._outage.note(isinstance(exc, httpx.ConnectError))
            except (ValueError, TypeError, UnicodeEncodeError) as exc:
                # the client cannot put this request on the wire (e.g. an HMAC flow refusing to sign a
                # repeated parameter): nothing was sent, so there is nothing to blame the API for
                raise Unsendable(f"{type(exc).__name__}: {self.redactor.text(str(exc))}") from None
            except Exception as exc:  # an auth flow failing, a broken transport: still a captured outcome
                kind = FailureKind.AUTH if isinstance(exc, AuthFailed) else FailureKind.CLIENT
                exchange.fail(TransportFailure(kind, f"{type(exc).__name__}: {self.redactor.text(str(exc))}"))
                exchange.login_answer = getattr(exc, "answer", None)
            else:
                if self._outage is not None:
                    self._outage.note(False)
                exchange.fail(None)
                exchange.response = response
                with within(max(0.0, self.safety.deadline - (time.perf_counter() - attempt_started))):
                    exchange.body, failure = self._read(response)
                exchange.fail(failure)
                exchange._parsed = False
                if exchange.error is None:
                    exchange.json()  # a JSON answer nested too deep becomes the exchange's error here
                if exchange.error is None and response.status_code == 429 and attempts <= self.safety.max_retries:
                    wait = _retry_after(response)
                    if wait is not None and wait <= self.safety.max_retry_after:
                        time.sleep(wait)
                        continue
                # 503: "currently unable to handle the request" (RFC 9110 15.6.4), not handled, so sent again as a
                # vendor's own client does (a database busy for a moment); one that persists is still the answer.
                # Idempotent methods only: a POST/PATCH answered 503 may still have been half done, and a second one
                # could leave a record the run never learns of (and so never cleans up)
                if exchange.error is None and response.status_code == 503 and attempts <= self.safety.max_retries \
                        and method in IDEMPOTENT and self.target.kind != "mock":
                    wait = _retry_after(response)
                    time.sleep(wait if wait is not None and wait <= self.safety.max_retry_after else 0.25 * 2**attempts)
                    continue
            retryable = exchange.failure is FailureKind.TRANSPORT and method in IDEMPOTENT
            if retryable and attempts <= self.safety.max_retries and exchange.response is None:
                if self.target.kind != "mock":  # the embedded mock is in-process: nothing to give time to recover
                    time.sleep(min(0.05 * 2**attempts, 1.0))
                continue
            break
        exchange.attempts = attempts
        exchange.elapsed = time.perf_counter() - started
        # the request that went out carries the auth flow's changes (signature, token)
        if exchange.response is not None:
            exchange.request = exchange.response.request
        self._learn(client, exchange.request)
        if self.ownership is not None and method not in ("GET", "HEAD", "OPTIONS"):
            self.ownership.observe(op, exchange)
        if exchange.error is None and exchange.status is not None and 200 <= exchange.status < 300 and auth == "valid":
            body = exchange.json()
            if body is not NOT_JSON:
                self.observed.see(body)
        if self.target.kind != "mock" and exchange.error is None and exchange.status is not None and exchange.status < 300:
            body = exchange.json()
            if body is not NOT_JSON:
                self.redactor.learn_json(body, public=self._public)
                LEARNED.setdefault(self.target.vendor, set()).update(self.redactor.secrets)
        return exchange

    def _learn(self, client: httpx.Client, request: httpx.Request) -> None:
        """Tokens the auth flow obtained (login access/refresh) and credentials it put on the wire join the
        redactor before anything of this exchange is reported. Not for the embedded mocks: each test's fresh
        session logs in again, and their tokens are the mock's own JWTs (always masked by shape)."""
        if self.target.kind == "mock":
            return  # an embedded mock's tokens are minted per test and are no one's secret; its credentials are known
        tokens = getattr(client.auth, "tokens", None)
        tokens = tokens() if callable(tokens) else tokens
        if tokens:
            self.redactor.add(*tokens)
        self.redactor.learn_request(request, skip=self._per_request, public=self._public)
        LEARNED.setdefault(self.target.vendor, set()).update(self.redactor.secrets)

    def _deadline_note(self, over: bool = False) -> str:
        return f" (request deadline of {self.safety.deadline:g} s exceeded)" if over or exceeded() else ""

    def _read(self, response: httpx.Response) -> tuple[bytes, TransportFailure | None]:
        cap = self.safety.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_raw():
                if exceeded():  # in-process transports do not go through the deadline-aware sockets
                    return b"".join(chunks), TransportFailure(
                        FailureKind.TIMEOUT, f"timeout while reading body: request deadline of {self.safety.deadline:g} s exceeded")
                size += len(chunk)
                if size > cap:
                    return b"".join(chunks), TransportFailure(
                        FailureKind.BODY, f"body larger than the {cap // (1024 * 1024)} MiB cap (reading stopped)")
                chunks.append(chunk)
        except httpx.TimeoutException as exc:
            return b"".join(chunks), TransportFailure(
                FailureKind.TIMEOUT, f"timeout while reading body: {type(exc).__name__}" + self._deadline_note())
        except httpx.TransportError as exc:
            return b"".join(chunks), TransportFailure(
                FailureKind.TRANSPORT, f"transport error while reading body: {type(exc).__name__}: {self.redactor.text(str(exc))}")
        finally:
            response.close()
        declared = response.headers.get("content-length")
        body = b"".join(chunks)
        if declared and declared.isdigit() and int(declared) != len(body) and not bodiless(response.request.method, response.status_code):
            return body, TransportFailure(FailureKind.BODY, f"truncated body: Content-Length {declared}, received {len(body)} bytes")
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding in ("gzip", "deflate"):
            try:
                decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, auto-detected
                body = decoder.decompress(body, cap + 1)
                if len(body) > cap:
                    return body[:cap], TransportFailure(FailureKind.BODY, f"decompressed body larger than the {cap // (1024 * 1024)} MiB cap")
            except zlib.error as exc:
                return body, TransportFailure(FailureKind.BODY, f"body does not decode as Content-Encoding {encoding}: {exc}")
        return body, None


def _ledger_key(target: Target) -> str:
    import hashlib

    return f"{target.vendor}-{hashlib.sha1(target.base_url.encode()).hexdigest()[:8]}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:  # the HTTP-date form (RFC 9110 10.2.3)
        from datetime import datetime
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN: ignored


_SAMPLE_BYTES = 4096


def exchange_summary(exchange: Exchange, redactor: Any, limit: int = _SAMPLE_BYTES) -> dict[str, Any]:
    """A redacted, size-capped request/response pair for reports (never the raw secrets)."""
    request = exchange.request

    def text(raw: bytes) -> str:
        # redact first, then cut: a secret straddling the cut must not leave its prefix in the report
        return str(redactor.cut(raw.decode("utf-8", "replace"), limit))

    summary: dict[str, Any] = {
        "request": {"method": request.method, "url": redactor.url(str(request.url)),
                    "headers": redactor.headers(dict(request.headers)), "body": text(request.content or b"")},
    }
    if exchange.response is not None:
        summary["response"] = {"status": exchange.status, "headers": redactor.headers(dict(exchange.response.headers)),
                               "body": text(exchange.body), "elapsed_s": round(exchange.elapsed, 4)}
    if exchange.error:
        summary["error"] = redactor.text(exchange.error)
    return summary


_PUBLISHED: dict[int, tuple[Any, frozenset[str]]] = {}


def published_strings(document: Any, limit: int = 500_000) -> frozenset[str]:
    """Every string value of a vendor's published description (examples, enums, defaults, titles: `"string"`,
    `"sk-1234567890"`), once per document: public by definition, so never learned as a secret."""
    cached = _PUBLISHED.get(id(document))
    if cached is not None and cached[0] is document:
        return cached[1]
    found: set[str] = set()
    stack: list[Any] = [document]
    while stack and limit > 0:
        limit -= 1
        node = stack.pop()
        if isinstance(node, str):
            if len(node) <= 256:
                found.add(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    _PUBLISHED[id(document)] = (document, frozenset(found))
    return _PUBLISHED[id(document)][1]


class _Public:
    """Values known to be no one's secret (`Redactor.learn_json`/`learn_request`'s `public`): the strings this
    process's runs sent the vendor before its auth flow touched the request (query values, headers, JSON bodies:
    generated, examples, observed values reused), and the published description's strings."""

    LIMIT = 100_000

    def __init__(self, sent: set[str], document: Any) -> None:
        self.sent, self._document = sent, document

    @functools.cached_property
    def published(self) -> frozenset[str]:
        """`published_strings` of the description, walked when a value is first asked about (after the first
        answer), not while the session is built: Eduframe's walk is 20-40 ms before a run's first request."""
        return published_strings(self._document)

    def __contains__(self, value: object) -> bool:
        return value in self.sent or value in self.published

    def remember(self, request: httpx.Request) -> None:
        """The strings of `request` as the run built it (before the auth flow adds its credentials)."""
        import json

        if len(self.sent) >= self.LIMIT:
            return
        found = [v for _, v in request.url.params.multi_items()]
        found += [v for _, v in request.headers.multi_items()]
        if "json" in request.headers.get("content-type", ""):
            try:
                stack: list[Any] = [json.loads(request.content)]
            except (ValueError, httpx.RequestNotRead):  # not JSON after all, or a stream never read into memory
                stack = []
            while stack and len(found) < 10_000:
                node = stack.pop()
                if isinstance(node, str):
                    found.append(node)
                elif isinstance(node, dict):
                    stack.extend(node.values())
                elif isinstance(node, list):
                    stack.extend(node)
        self.sent.update(found)
