"""The generic, contract-driven mock: an ASGI app that routes, validates, stores and answers.

It knows no vendor: everything vendor-specific comes from the contract's extensions or the
vendor's `Behaviour`. Drifts (deliberate contract deviations) and faults (transport misbehaviour)
wrap it, so the same engine serves the faithful and the broken vendor.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from apiconform.contracts import JSON_MEDIA, Contract, Operation, WireRequest, record_id, set_record_id, validate_request
from apiconform.errors import ContractError
from apiconform.mock import _semantics as sem
from apiconform.mock._learned import Learned
from apiconform.mock._store import Store
from apiconform.mock._synth import Synthesizer, fit, overlay
from apiconform.mock.behaviour import Behaviour, Reply, dumps, load_behaviour

Drift = Callable[[Operation, Reply, WireRequest, "MockContext"], Reply]


_SORT_PARAMS = ("sort", "_sort", "ordering", "order_by")


def _specificity(op: Operation) -> tuple[int, int]:
    """Literal routes win over templated ones (`/accounts/me` before `/accounts/{id}`)."""
    return -len(re.sub(r"{[^}]+}", "", op.path)), len(op.path_params())


class MockContext:
    """Per-app state: the store, the synthesizer, tokens, idempotency cache, rate window."""

    def __init__(self, contract: Contract, behaviour: Behaviour, seed: int = 0, learned: Learned | None = None) -> None:
        self.contract = contract
        self.behaviour = behaviour
        self.learned = learned if learned is not None else Learned()
        self.synth = Synthesizer(contract, seed)
        self.store = Store()
        self.lock = threading.RLock()
        self.idempotency: dict[str, tuple[str, Reply]] = {}
        self.hits: deque[float] = deque()
        self.state: dict[str, Any] = {}  # free space for behaviour modules
        self._counters: dict[str, int] = {}
        self._schema_cache: dict[tuple[str, Any], Any] = {}

    # --- state ---------------------------------------------------------------------------------
    # All per-app state lives here (records, id counters, idempotency keys, rate window, behaviour
    # scratch space) plus the synthesizer's generator; the rest is the contract and code.
    _FIXED = frozenset({"contract", "behaviour", "synth", "lock", "_schema_cache", "learned"})
    _SYNTH_FIXED = frozenset({"contract", "rng", "_rstr"})

    def snapshot(self) -> tuple[bytes, Any]:
        """The mock's state, to rewind to later (every test starts from the same state)."""
        import pickle

        state = {k: v for k, v in vars(self).items() if k not in self._FIXED}
        synth = {k: v for k, v in vars(self.synth).items() if k not in self._SYNTH_FIXED}
        return pickle.dumps((state, synth)), self.synth.rng.getstate()

    def restore(self, saved: tuple[bytes, Any]) -> None:
        import pickle

        blob, rng = saved
        state, synth = pickle.loads(blob)
        with self.lock:
            for key, value in state.items():
                setattr(self, key, value)
            for key, value in synth.items():
                setattr(self.synth, key, value)
            self.synth.rng.setstate(rng)

    # --- schema helpers ----------------------------------------------------------------------
    def response_schema(self, op: Operation, status: int, media_type: str | None = None) -> str | None:
        """Compiled-ready pointer of the documented body schema for `status` (None: no body documented)."""
        key = (op.label + (media_type or ""), status)
        if key not in self._schema_cache:
            response = op.response_for(status)
            ptr = None
            if response is not None and response.content:
                media = response.content.get(media_type or "") or next(iter(response.content.values()))
                ptr = self.contract.deref_pointer(media.schema_pointer) if media.schema_pointer else None
            self._schema_cache[key] = ptr
        return cast("str | None", self._schema_cache[key])

    def media_type(self, op: Operation, status: int) -> str:
        response = op.response_for(status)
        if response is not None and response.content:
            return next(iter(response.content))
        return "application/json"

    def fit(self, schema_pointer: str, value: Any) -> Any:
        return fit(self.contract, self.synth, schema_pointer, value)

    def item_schema(self, op: Operation, status: int) -> str | None:
        """Schema pointer of one listed record: array items, or the pagination envelope's results items."""
        ptr = self.response_schema(op, status)
        if ptr is None:
            return None
        schema = self.contract.at(ptr)
        envelope = op.pagination.envelope if op.pagination is not None else None
        if envelope is not None and "properties" in schema:
            return self.contract.deref_pointer(f"{ptr}/properties/{envelope.results}/items")
        if schema.get("type") == "array" or "items" in schema:
            return self.contract.deref_pointer(f"{ptr}/items")
        return None

    # --- ids -----------------------------------------------------------------------------------
    def new_id(self, schema_pointer: str | None, id_field: str, resource: str | None = None) -> Any:
        """An id in the vendor's style, read from the schema of the id field; unique per resource."""
        id_schema: Any = {}
        if schema_pointer:
            schema = self.contract.at(schema_pointer)
            props = schema.get("properties", {})
            if id_field not in props and "data" in props:
                props = self.contract.resolve(props["data"]).get("properties", {})
            id_schema = self.contract.resolve(props.get(id_field, {}))
        kind = id_schema.get("type")
        kind = next((t for t in kind if t != "null"), None) if isinstance(kind, list) else kind
        key = resource or schema_pointer or ""
        counter = self._counters[key] = self._counters.get(key, 1000) + 1
        if kind == "integer":
            return counter
        if id_schema.get("format") == "uuid":
            return str(uuid.UUID(int=self.synth.rng.getrandbits(128), version=4))
        if "pattern" in id_schema:
            return self.synth.value(id_schema, id_field)
        return str(counter)

    # --- declared semantics -------------------------------------------------------------------
    def auth_config(self) -> Mapping[str, Any]:
        """The `x-apiconform-auth` of the contract's first security scheme that declares one."""
        from apiconform.auth import contract_auth_config

        return contract_auth_config(self.contract)

    def identity(self) -> Any:
        """Who the mock's credentials are (`identity.resource`): its first top-level record's id."""
        declared = self.auth_config().get("identity") or {}
        resource = declared.get("resource")
        if not resource:
            return None
        for record in self.store.list(str(resource)):
            return record_id(record, str(declared.get("id_field", "id")))
        return None

    def hidden_fields(self, resource: str | None) -> set[str]:
        """Fields a resource keeps in the store but never answers (`x-apiconform-state.hidden`)."""
        key = ("hidden", resource or "")
        if key not in self._schema_cache:
            names: set[str] = set()
            for op in self.contract:
                if op.resource == resource:
                    names |= set(sem.state_of(op.definition).get("hidden") or ())
            self._schema_cache[key] = names
        return cast(set[str], self._schema_cache[key])

    def public(self, resource: str | None, record: Any, ptr: str | None = None) -> Any:
        """What of a stored record is answered: not its `hidden` fields, nor properties the answer's
        schema marks `writeOnly` (accepted and stored, never answered: OpenAPI 3.1)."""
        hidden = set(self.hidden_fields(resource))
        if ptr is not None and isinstance(record, dict):
            for name, sub in (self.contract.at(ptr).get("properties") or {}).items():
                resolved = self.contract.resolve(sub)
                if isinstance(resolved, dict) and resolved.get("writeOnly"):
                    hidden.add(name)
        if hidden and isinstance(record, dict):
            return {k: copy.deepcopy(v) for k, v in record.items() if k not in hidden}
        return copy.deepcopy(record)

    # --- auth ----------------------------------------------------------------------------------
    def verify_auth(self, op: Operation, request: WireRequest) -> str | None:
        """Check the request against the first security requirement the operation documents."""
        from apiconform.auth import verify_request

        schemes = self.contract.security_schemes
        reasons = []
        for requirement in op.security:
            if not requirement:
                return None  # `{}` in the list: anonymous access allowed
            for name in requirement:
                reason = verify_request(
                    schemes.get(name, {}), self.behaviour.credentials(), request.method, request.path,
                    request.query, request.headers, request.form_pairs() or None,
                )
                if reason is None:
                    return None
                reasons.append(reason)
        return reasons[0] if reasons else None


def _wire_url(scope: dict[str, Any], request: Request) -> str:
    """The request URL as sent (percent-encoded path), so links built from it are valid URIs."""
    raw_path = scope.get("raw_path")
    path = raw_path.split(b"?")[0].decode("latin-1") if raw_path else quote(scope.get("path", "/"))
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{request.url.scheme}://{request.url.netloc}{path}" + (f"?{query}" if query else "")


def _encode(reply: Reply) -> bytes | str | None:
    """Bytes go out as they are; a str is JSON-encoded when the answer is JSON (a bare JSON string body)."""
    if reply.body is None or isinstance(reply.body, bytes):
        return reply.body
    if isinstance(reply.body, str) and not JSON_MEDIA.match((reply.media_type or "").split(";")[0].strip()):
        return reply.body
    return dumps(reply.body)


class MockApp:
    """ASGI application serving one vendor contract."""

    def __init__(
        self,
        contract: Contract,
        behaviour: Behaviour | None = None,
        drifts: Iterable[Drift] = (),
        seed: int = 0,
        rate_limit: int | None = None,
        learned: Path | None = None,
    ) -> None:
        self.contract = contract
        self.behaviour = behaviour or load_behaviour(contract)
        if rate_limit is not None:
            self.behaviour.rate_limit = rate_limit
        self.drifts = list(drifts)
        self.ctx = MockContext(contract, self.behaviour, seed, Learned.for_contract(contract, learned))
        self.routes = sorted(contract, key=_specificity)
        self._seed()

    @property
    def mock(self) -> MockApp:
        """The engine itself (fault-wrapped apps expose the same attribute)."""
        return self

    # --- ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        request = Request(scope, receive)
        response = self._respond(scope, request, await request.body())
        await response(scope, receive, send)

    def answer_scope(self, scope: dict[str, Any], raw: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The answer to one HTTP request given as its ASGI scope and whole body, without an event loop: what
        `__call__` sends (status, headers, body), for the engine's in-process transport
        (`engine._transports.SyncASGITransport`). Fault middleware has no such method, so a faulted mock is
        always called through ASGI."""
        response = self._respond(scope, Request(scope), raw)
        return response.status_code, response.raw_headers, bytes(response.body)

    def _respond(self, scope: dict[str, Any], request: Request, raw: bytes) -> Response:
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else request.url.path  # route before decoding: %2F stays in its segment
        reply = self.dispatch(request.method, path, _wire_url(scope, request), list(request.query_params.multi_items()),
                              dict(request.headers), raw)
        bodiless = reply.status in (204, 304) or reply.status < 200  # HTTP forbids a body here (RFC 9110 15.3.5)
        return Response(
            content=None if bodiless else _encode(reply),
            status_code=reply.status,
            headers=reply.headers,
            media_type=None if bodiless else reply.media_type,
        )

    # --- the request pipeline --------------------------------------------------------------------
    def dispatch(
        self, method: str, path: str, url: str, query: list[tuple[str, str]], headers: dict[str, str], raw: bytes
    ) -> Reply:
        with self.ctx.lock:
            op, params, allowed = self._match(method.lower(), path)
            request = WireRequest(method=method.upper(), path=path, url=url, path_params=params, query=query,
                                  headers=headers, raw_body=raw)
            if op is None:
                if allowed:
                    reply = self.behaviour.error(None, "method_not_allowed", f"Method {method.upper()} not allowed.", self.ctx)
                    reply.headers["Allow"] = ", ".join(allowed)
                else:
                    reply = self.behaviour.error(None, "not_found", f"No route for {path}", self.ctx)
                reply.media_type = reply.media_type or "application/json"
                return reply
            reply = self._answer(op, request)
            if reply.status < 300 and reply.body is not None:
                reply.body = self._without_write_only(op, reply.status, reply.body)
            if self.ctx.learned and reply.status < 300:
                reply.body = self.ctx.learned.fill_open(op.operation_id, reply.body)
                reply.body = self.ctx.learned.fit_members(op.operation_id, reply.body, request.body)
            elif self.ctx.learned and self.ctx.learned.error(op.operation_id, reply.status) is not None and (
                    reply.status == 404 or reply.status == self.ctx.learned.absent_status(op.operation_id)):
                reply.body = self.ctx.learned.error(op.operation_id, reply.status)  # the vendor's own "no such record"
            self._rate_headers(op, reply)
            login = not op.security and bool(self.contract.security_schemes)
            for drift in self.drifts:
                # login endpoints stay faithful to API drifts (a drift shows on the API rather than locking the
                # client out); login drifts touch only them
                if bool(getattr(drift, "login", False)) is login:
                    reply = drift(op, reply, request, self.ctx)
            if reply.media_type is None:
                reply.media_type = self.ctx.media_type(op, reply.status) if reply.body is not None else None
            return reply

    def _match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        """The operation for a request path: the contract's path as it is, or under the base path of its first
        server (`servers: [{url: /v1}]`: a client of the vendor sends `/v1/buckets` for `/buckets`)."""
        found = self._match_path(method, path)
        base = self.base_path
        if found[0] is None and not found[2] and base and (path == base or path.startswith(base + "/")):
            return self._match_path(method, path[len(base):] or "/")
        return found

    @property
    def base_path(self) -> str:
        from urllib.parse import urlsplit

        return urlsplit(self.contract.server_url or "").path.rstrip("/")

    def _match_path(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
        allowed: list[str] = []
        for op in self.routes:
            params = op.match_path(path)
            if params is None:
                continue
            if op.method != method:
                allowed.append(op.method.upper())
                continue
            return op, params, []
        return None, {}, allowed

    def _without_write_only(self, op: Operation, status: int, body: Any) -> Any:
        """A success answer without the properties its schema marks writeOnly (OpenAPI: SHOULD NOT be sent back;
        the judge reports them, AC622): a generated answer of an imported description (a settings model with
        secrets) carried them, so the imported contract failed against its own mock."""
        from apiconform.contracts import without_write_only

        response = op.response_for(status)
        media = next(iter(response.content.values()), None) if response is not None and response.content else None
        if media is None or media.schema_pointer is None:
            return body
        return without_write_only(self.contract, body, self.contract.at(media.schema_pointer))

    def _answer(self, op: Operation, request: WireRequest) -> Reply:
        behaviour, ctx = self.behaviour, self.ctx
        limited = self._rate_limited(op)
        if limited is not None:
            return limited
        if op.security:
            reason = behaviour.authenticate(op, request, ctx)
            if reason is not None:
                return behaviour.error(op, self._auth_role(request), reason, ctx)
            outside = self._outside_identity(op, request)
            if outside is not None:
                return outside
        validate_request(self.contract, op, request)
        if self.ctx.learned and request.violations:  # formats the vendor was seen to accept
            request.violations[:] = [v for v in request.violations
                                     if not self.ctx.learned.accepts(op.operation_id, v.location, v.name, v.message)]
        if not request.violations:
            request.violations.extend(behaviour.validate(op, request, ctx))
        if request.violations and not op.documents_validation:
            # The contract says this operation never answers a validation error, so a faithful
            # server cannot either: unknown path ids are "not found", bad optional params are ignored.
            if any(v.location == "path" for v in request.violations) and "404" in op.responses:
                return self._not_found(op)
            # a list under a parent that cannot exist is an empty list (what a filtering server answers)
            ignorable = ("query", "header", "cookie", "path") if op.action == "list" else ("query", "header", "cookie")
            if all(v.location in ignorable for v in request.violations):
                for violation in request.violations:
                    request.params.pop(violation.name, None)
                request.violations.clear()
        if request.violations:
            role = "unsupported_media_type" if request.violations[0].name == "Content-Type" else "validation"
            return behaviour.error(op, role, request.violations[0].message, ctx, request.violations)
        if op.idempotency is not None:
            return self._idempotent(op, op.idempotency.header, request)
        return self._perform(op, request)

    def _auth_role(self, request: WireRequest) -> str:
        """`anonymous: forbidden` in the auth extension: a request with no credentials at all is
        answered as forbidden (e.g. DRF permission classes), a bad credential as unauthenticated."""
        config = self.ctx.auth_config()
        if config.get("anonymous") == "forbidden":
            from apiconform.auth import owned_parameters

            names = set(owned_parameters(self.contract).names) | {"authorization"}  # where credentials travel
            present = {k.lower() for k in request.headers} | {k.lower() for k, _ in request.query}
            if not names & present:
                return "forbidden"
        return "unauthenticated"

    def _outside_identity(self, op: Operation, request: WireRequest) -> Reply | None:
        """`identity.scope`: a caller may only reach paths under its own identity; others get `identity.others`."""
        declared = self.ctx.auth_config().get("identity") or {}
        scope = declared.get("scope")
        if not scope:
            return None
        own = self.ctx.identity()
        prefix = str(scope).replace("{identity}", quote(str(own), safe=""))
        if request.path.split("?", 1)[0].startswith(prefix):
            return None
        return self.behaviour.error(op, str(declared.get("others", "forbidden")), "outside the caller's identity", self.ctx)

    def _perform(self, op: Operation, request: WireRequest) -> Reply:
        custom = self.behaviour.handle(op, request, self.ctx)
        if custom is not None:
            return custom
        handler = getattr(self, f"_do_{op.action or 'action'}", self._do_action)
        return handler(op, request)

    def _rate_limited(self, op: Operation) -> Reply | None:
        limit = self.behaviour.rate_limit
        if not limit:
            return None
        now = time.monotonic()
        window = self.behaviour.rate_window
        hits = self.ctx.hits
        while hits and now - hits[0] >= window:
            hits.popleft()
        if len(hits) >= limit:
            retry = max(1, math.ceil(window - (now - hits[0])))
            reply = self.behaviour.error(op, "rate_limited", "Rate limit exceeded.", self.ctx)
            reply.headers["Retry-After"] = str(retry)
            return reply
        hits.append(now)
        return None

    def _rate_headers(self, op: Operation, reply: Reply) -> None:
        """The rate-limit headers the contract declares for the answer (`x-apiconform-rate-limit`)."""
        limit = self.behaviour.rate_limit
        response = op.response_for(reply.status) if limit else None
        for name, header in (response.headers.items() if response is not None else ()):
            role = header.get("x-apiconform-rate-limit") if isinstance(header, dict) else None
            if role == "limit":
                reply.headers.setdefault(name, str(limit))
            elif role == "remaining":
                reply.headers.setdefault(name, str(max(0, int(limit or 0) - len(self.ctx.hits))))

    def _idempotent(self, op: Operation, header: str, request: WireRequest) -> Reply:
        key = {k.lower(): v for k, v in request.headers.items()}.get(header.lower())
        if not key:
            return self._perform(op, request)
        digest = hashlib.sha256(request.raw_body + repr(sorted(request.query)).encode()).hexdigest()
        cache_key = f"{op.label}:{key}"
        if cache_key in self.ctx.idempotency:
            seen_digest, reply = self.ctx.idempotency[cache_key]
            if seen_digest != digest:
                return self.behaviour.error(op, "idempotency_conflict", "Data has changed from previous request", self.ctx)
            return copy.deepcopy(reply)
        reply = self._perform(op, request)
        if reply.status < 500:
            self.ctx.idempotency[cache_key] = (digest, copy.deepcopy(reply))
        return reply

    # --- generic actions ---------------------------------------------------------------------------
    def _scope(self, op: Operation, request: WireRequest, item: bool) -> tuple[str, ...]:
        names = op.path_params()
        if item and op.id_param in names:
            names = names[: names.index(op.id_param)]
        return tuple(str(request.path_params[n]) for n in names)

    def _scope_missing(self, op: Operation, scope: tuple[str, ...]) -> bool:
        if not scope:
            return False
        verdict = self.behaviour.scope_exists(op, scope, self.ctx)
        if verdict is not None:
            return not verdict
        parent = self.contract.parent_resource(op, len(scope))
        if parent is None:
            return False
        return self.ctx.store.get(parent, scope[:-1], scope[-1]) is None

    def _id_schema(self, op: Operation) -> str | None:
        """Where the resource's id type is documented: its read answer (create answers may omit the id)."""
        reader = next((o for o in self.contract if o.resource == op.resource and o.action == "read"), None)
        return self.ctx.response_schema(reader, self._success(reader, (200,))) if reader is not None else None

    def _success(self, op: Operation, prefer: tuple[int, ...] = ()) -> int:
        statuses = op.success_statuses() or [200]
        for status in prefer:
            if status in statuses:
                return status
        return statuses[0]

    def _not_found(self, op: Operation) -> Reply:
        absent = self.ctx.learned.absent_status(op.operation_id)
        if absent in (401, 403):  # the vendor hides whether the record exists (learned)
            return self.behaviour.error(op, "forbidden" if absent == 403 else "unauthenticated", "Forbidden.", self.ctx)
        if op.response_for(404) is None:
            # the contract says this operation never answers 404 (no 404, 4XX or default): a faithful server
            # answers as if the record existed, so the mock answers the documented success
            status = self._success(op, (200, 204))
            ptr = self.ctx.response_schema(op, status)
            return Reply(status, self.ctx.synth.value(self.contract.at(ptr)) if ptr else None)
        return self.behaviour.error(op, "not_found", "Not found.", self.ctx)

    def _do_list(self, op: Operation, request: WireRequest) -> Reply:
        scope = self._scope(op, request, item=False)
        if self._scope_missing(op, scope) and "404" in op.responses:
            return self._not_found(op)
        return self._listed(op, request, scope)

    def _listed(self, op: Operation, request: WireRequest, scope: tuple[str, ...]) -> Reply:
        """A page of the stored records of `op`'s resource under `scope`, as `op` (a list operation) answers it."""
        status = self._success(op, (200,))
        records = self.ctx.store.list(op.resource or op.label, scope)
        records = self._filter(op, request, records)
        records = self._sort(op, request, records)
        item_ptr = self.ctx.item_schema(op, status)
        page, headers, envelope = self._paginate(op, request, records)
        items = [self.ctx.fit(item_ptr, self.ctx.public(op.resource, r, item_ptr)) if item_ptr else self.ctx.public(op.resource, r) for r in page]
        if envelope is not None:
            body: Any = {**envelope, op.envelope_names.results: items}
        else:
            schema_ptr = self.ctx.response_schema(op, status)
            # a list of records read one by one in a `data` envelope answers the records themselves
            unwrapped = [r["data"] if isinstance(r, dict) and isinstance(r.get("data"), dict) else r for r in items]
            body = items if schema_ptr is None or item_ptr else self.ctx.fit(schema_ptr, {"data": unwrapped})
        return Reply(status, body, headers)

    def _filter(self, op: Operation, request: WireRequest, records: list[Any]) -> list[Any]:
        reserved = {"page", "per_page", "limit", "offset", "sort", "ordering", "search", "cursor", "include"}
        if op.pagination is not None:
            reserved |= op.pagination.params
        for name, value in request.params.items():
            if name in reserved or name not in request.query_dict():
                continue
            records = [r for r in records if not isinstance(r, dict) or name not in r or str(r[name]).lower() == str(value).lower()]
        return records

    def _sort(self, op: Operation, request: WireRequest, records: list[Any]) -> list[Any]:
        """By the declared sort parameter (`field:desc`), else a conventional one the operation documents
        (`sort`, `_sort`, `ordering`, `order_by`: `-field` descending, fields comma-separated, first wins)."""
        param = (op.sort or {}).get("param")
        query = request.query_dict()
        if not param:
            documented = {p.get("name") for p in op.parameters if p.get("in") == "query"}
            param = next((n for n in _SORT_PARAMS if n in documented and query.get(n)), None)
        spec = query.get(param) if param else None
        if not spec:
            return records
        if ":" in spec:
            field_name, _, direction = spec.partition(":")
            descending = direction == "desc"
        else:
            first = spec.split(",")[0].strip()
            field_name, descending = first.lstrip("-+"), first.startswith("-")

        def key(r: Any) -> tuple[bool, Any]:
            value = (r.get("data") if isinstance(r, dict) and isinstance(r.get("data"), dict) else r)
            value = value.get(field_name) if isinstance(value, dict) else None
            return (value is None, value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value))

        try:
            return sorted(records, key=key, reverse=descending)
        except TypeError:  # numbers and text in one field: as text
            return sorted(records, key=lambda r: (key(r)[0], str(key(r)[1])), reverse=descending)

    def _paginate(self, op: Operation, request: WireRequest, records: list[Any]) -> tuple[list[Any], dict[str, str], dict[str, Any] | None]:
        p = op.pagination
        if p is not None and p.style == "page":
            page = int(request.params.get(p.page_param, 1) or 1)
            per_page = max(1, int(request.params.get(p.per_page_param, p.page_size) or 25))
            page = max(1, page)
            last = max(1, math.ceil(len(records) / per_page))
            chunk = records[(page - 1) * per_page : page * per_page]
            headers: dict[str, str] = {}
            if p.link_header:
                links = []
                if page < last:
                    links.append(f'<{self._url(request, {p.page_param: page + 1, p.per_page_param: per_page})}>; rel="next"')
                links.append(f'<{self._url(request, {p.page_param: last, p.per_page_param: per_page})}>; rel="last"')
                headers["Link"] = ", ".join(links)
            return chunk, headers, None
        if p is not None and p.style == "offset":
            limit_name, offset_name = p.limit_param, p.offset_param
            limit = int(request.params.get(limit_name, p.page_size) or p.page_size)
            offset = int(request.params.get(offset_name, 0) or 0)
            chunk = records[offset : offset + limit]
            names = p.names
            nxt = self._url(request, {limit_name: limit, offset_name: offset + limit}) if offset + limit < len(records) else None
            prev = self._url(request, {limit_name: limit, offset_name: max(0, offset - limit)}) if offset > 0 else None
            envelope = {names.count: len(records), names.next: nxt, names.previous: prev}
            return chunk, {}, envelope
        return records, {}, None

    @staticmethod
    def _url(request: WireRequest, changes: dict[str, Any]) -> str:
        query = dict(request.query)
        query.update({k: str(v) for k, v in changes.items()})
        base = request.url.split("?", 1)[0]
        return f"{base}?{urlencode(query)}"

    def _do_read(self, op: Operation, request: WireRequest) -> Reply:
        scope = self._scope(op, request, item=True)
        record = self.ctx.store.get(op.resource or op.label, scope, request.path_params.get(op.id_param or "", ""))
        if record is None:
            return self._not_found(op)
        status = self._success(op, (200,))
        ptr = self.ctx.response_schema(op, status)
        public = self.ctx.public(op.resource, record, ptr)
        return Reply(status, self.ctx.fit(ptr, public) if ptr else public)

    def _do_create(self, op: Operation, request: WireRequest) -> Reply:
        scope = self._scope(op, request, item=False)
        if self._scope_missing(op, scope) and "404" in op.responses:
            return self._not_found(op)
        status = self._success(op, (201, 200))
        ptr = self.ctx.response_schema(op, status)
        if ptr is None:
            return Reply(status)
        given = request.body if isinstance(request.body, dict) else {k: v for k, v in request.params.items()}
        state = sem.state_of(op.definition)
        resource = op.resource or op.label
        probe = sem.apply({"set": state.get("set") or {}}, dict(given), {}, request)  # the key after `set`
        existing = self._existing(op, scope, probe, state)
        if existing is not None:
            stored_key, record = existing
            if isinstance(state.get("existing"), dict):
                return self._declared_answer(op, state["existing"])
            failure = sem.first_failure(state, record, request)
            if failure is not None:
                return self._declared_answer(op, failure)
            record = sem.apply(state, copy.deepcopy(record), {k: v for k, v in given.items() if k != op.id_field}, request)
            record = self.ctx.fit(ptr, self.behaviour.prepare_record(op, record, request, self.ctx))
            self.ctx.store.put(resource, scope, stored_key, sem.without_transient(state, record))
            return Reply(status, self.ctx.fit(ptr, self.ctx.public(op.resource, self._transient(state, ptr, record), ptr)))
        record = overlay(self.ctx.synth.value(self.contract.at(ptr)), given)
        set_record_id(record, op.id_field, self.ctx.new_id(self._id_schema(op) or ptr, op.id_field, op.resource))
        record = self.behaviour.prepare_record(op, record, request, self.ctx)
        record = sem.apply({"set": state.get("set") or {}}, record, {}, request)
        record = self.ctx.fit(ptr, record)
        key = record_id(record, self._key_field(op))
        self.ctx.store.put(resource, scope, key if key is not None else record_id(record, op.id_field),
                           sem.without_transient(state, record))
        return Reply(status, self.ctx.fit(ptr, self.ctx.public(op.resource, self._transient(state, ptr, record), ptr)))

    def _transient(self, state: Any, ptr: str, record: Any) -> Any:
        """The answer's `transient` fields (answered by this operation only, stored as null): the value the
        record holds, else one generated from the answer's schema."""
        names = sem.transient(state)
        if not names or not isinstance(record, dict):
            return record
        record = dict(record)
        properties = self.contract.at(ptr).get("properties") or {}
        for name in names:
            if record.get(name) is None and name in properties:
                record[name] = self.ctx.synth.value(self.contract.resolve(properties[name]), name)
        return record

    def _existing(self, op: Operation, scope: tuple[str, ...], given: dict[str, Any], state: Any) -> tuple[str, Any] | None:
        """The stored record a create-or-update (`x-apiconform-state.key`) addresses, with its store key."""
        wanted = sem.key_of(state, given)
        if wanted is None:
            return None
        resource = op.resource or op.label
        for stored_scope, stored_key in self.ctx.store.keys(resource):
            if stored_scope != scope:
                continue
            record = self.ctx.store.get(resource, scope, stored_key)
            if isinstance(record, dict) and sem.key_of(state, record) == wanted:
                return stored_key, record
        return None

    def _declared_answer(self, op: Operation, answer: Any) -> Reply:
        """A `{status, body}` answer written in the contract (the vendor's own words)."""
        status = int(answer.get("status", 400))
        body = copy.deepcopy(answer.get("body"))
        if body is None:
            ptr = self.ctx.response_schema(op, status)
            body = self.ctx.fit(ptr, self.ctx.synth.value(self.contract.at(ptr))) if ptr else None
        return Reply(status, body)

    def _key_field(self, op: Operation) -> str:
        """The field item operations look a resource's records up by (e.g. `learner_id`, not the create's `id`)."""
        for action in ("read", "update", "replace", "delete"):
            for other in self.contract:
                if other.resource == op.resource and other.action == action and other.id_param:
                    return other.id_field
        return op.id_field

    def _do_update(self, op: Operation, request: WireRequest) -> Reply:
        scope = self._scope(op, request, item=True)
        resource = op.resource or op.label
        key = request.path_params.get(op.id_param or "", "")
        record = self.ctx.store.get(resource, scope, key)
        if record is None:
            if op.method == "put" and 201 in op.success_statuses() and "404" not in op.responses:
                return self._put_create(op, request, scope, key)
            return self._not_found(op)
        status = self._success(op, (200,))
        ptr = self.ctx.response_schema(op, status)
        given = request.body if isinstance(request.body, dict) else {}
        given = {k: v for k, v in given.items() if k != op.id_field}
        state = sem.state_of(op.definition)
        failure = sem.first_failure(state, record, request)
        if failure is not None:
            return self._declared_answer(op, failure)
        if state:
            merged = sem.apply(state, copy.deepcopy(record), given, request)
        elif op.method == "put":  # a PUT replaces: each member sent stands for the stored one whole (RFC 9110 9.3.4)
            merged = {**record, **{k: copy.deepcopy(v) for k, v in given.items() if k in record}} if isinstance(
                record, dict) else copy.deepcopy(given)
            if record_id(merged, op.id_field) is None and record_id(record, op.id_field) is not None:
                set_record_id(merged, op.id_field, record_id(record, op.id_field))
        else:
            merged = overlay(copy.deepcopy(record), given)
        updated = self.behaviour.prepare_record(op, merged, request, self.ctx)
        if ptr:
            updated = self.ctx.fit(ptr, updated)
        self.ctx.store.put(resource, scope, key, updated)
        return Reply(status, self.ctx.fit(ptr, self.ctx.public(op.resource, updated, ptr)) if ptr else None)

    _do_replace = _do_update

    def _put_create(self, op: Operation, request: WireRequest, scope: tuple[str, ...], key: str) -> Reply:
        """A PUT on an absent record that documents 201 and no 404 of its own creates it at the path it names (RFC 9110
        9.3.4), its id the path's."""
        if self._scope_missing(op, scope):
            return self._not_found(op)
        ptr = self.ctx.response_schema(op, 201)
        given = request.body if isinstance(request.body, dict) else {}
        record: Any = overlay(self.ctx.synth.value(self.contract.at(ptr)), given) if ptr else dict(given)
        set_record_id(record, op.id_field, key)
        record = self.behaviour.prepare_record(op, record, request, self.ctx)
        if ptr:
            record = self.ctx.fit(ptr, record)
        self.ctx.store.put(op.resource or op.label, scope, key, record)
        return Reply(201, self.ctx.fit(ptr, self.ctx.public(op.resource, record, ptr)) if ptr else None)

    def _do_delete(self, op: Operation, request: WireRequest) -> Reply:
        scope = self._scope(op, request, item=True)
        if not self.ctx.store.delete(op.resource or op.label, scope, request.path_params.get(op.id_param or "", "")):
            return self._not_found(op)
        status = self._success(op, (204, 200))
        ptr = self.ctx.response_schema(op, status)
        return Reply(status, self.ctx.synth.value(self.contract.at(ptr)) if ptr else None)

    def _do_action(self, op: Operation, request: WireRequest) -> Reply:
        item_params = op.path_params()
        state = sem.state_of(op.definition)
        listed = sem.listed_resource(state)
        if listed is not None:
            return self._list_action(op, request, listed)
        if op.id_param in item_params and op.resource:
            scope = self._scope(op, request, item=True)
            key = request.path_params.get(op.id_param or "", "")
            record = self.ctx.store.get(op.resource, scope, key)
            if record is None and "404" in op.responses:
                return self._not_found(op)
            if state and isinstance(record, dict):
                return self._stateful_action(op, request, state, scope, key, record)
        status = self._success(op, (200, 201, 202, 204))
        ptr = self.ctx.response_schema(op, status)
        return Reply(status, self.ctx.synth.value(self.contract.at(ptr)) if ptr else None)

    def _list_action(self, op: Operation, request: WireRequest, resource: str) -> Reply:
        """An action answering a page of another resource's records (`answer: {list: RESOURCE}`): those stored under
        the action's path values, paginated and shaped as that resource's list operation answers them."""
        lister = next((o for o in self.contract if o.resource == resource and o.action == "list"), None)
        if lister is None:
            raise ContractError(f"{self.contract.path}: {op.operation_id}: x-apiconform-state answer lists {resource!r}, "
                                "which no list operation of the contract answers")
        scope = tuple(str(request.path_params[n]) for n in op.path_params())[: len(lister.path_params())]
        reply = self._listed(lister, request, scope)
        ptr = self.ctx.response_schema(op, self._success(op, (200,)))
        if ptr is not None and reply.body is not None:
            reply.body = self.ctx.fit(ptr, reply.body)
        return reply

    def _stateful_action(self, op: Operation, request: WireRequest, state: Any, scope: tuple[str, ...], key: str,
                         record: dict[str, Any]) -> Reply:
        """An action declared in `x-apiconform-state`: checks, effects on the record, declared answer."""
        failure = sem.first_failure(state, record, request)
        if failure is not None:
            return self._declared_answer(op, failure)
        updated = sem.apply(state, copy.deepcopy(record), {}, request)
        self.ctx.store.put(str(op.resource), scope, key, updated)
        answer = state.get("answer", "record")
        if isinstance(answer, dict):
            return self._declared_answer(op, answer)
        status = self._success(op, (200, 201, 202, 204))
        ptr = self.ctx.response_schema(op, status)
        public = self.ctx.public(op.resource, updated, ptr)
        return Reply(status, self.ctx.fit(ptr, public) if ptr else None)

    # --- seed data ---------------------------------------------------------------------------------
    def _seed(self) -> None:
        """Realistic records from the first request: top-level collections, then children per parent."""
        ctx, store = self.ctx, self.ctx.store
        sources: dict[str, Operation] = {}
        for op in self.contract:
            if op.resource and op.action in ("list", "read") and (op.resource not in sources or op.action == "read"):
                sources[op.resource] = op
        # every nesting a resource is listed or read under gets its records (/courses/{id}/planned_courses as well
        # as /planned_courses): the resource's first source per depth, a read preferred
        nestings: dict[tuple[str, int], Operation] = {}
        for op in self.contract:
            if op.resource and op.action in ("list", "read"):
                at = (op.resource, len(op.path_params()) - (op.action == "read"))
                if at not in nestings or (op.action == "read" and nestings[at].action != "read"):
                    nestings[at] = op
        ordered = sorted(nestings.values(), key=lambda o: len(o.path_params()) - (o.action == "read"))
        learned = self._seed_learned(sources)
        for op in ordered:
            resource = str(op.resource)
            if resource in learned:
                continue
            status = self._success(op, (200,))
            ptr = ctx.item_schema(op, status) if op.action == "list" else ctx.response_schema(op, status)
            if ptr is None:
                continue
            depth = len(op.path_params()) - (1 if op.action == "read" else 0)
            if depth == 0:
                scopes: list[tuple[str, ...]] = [()]
                count = self.behaviour.seed_records
            else:
                parent = self.contract.parent_resource(op, depth)
                if parent is None or parent == resource:
                    continue
                scopes = [s + (str(i),) for s, i in store.keys(parent)]
                count = self.behaviour.nested_seed_records
            unique, fixed = self._unique_key(resource)
            for n, scope in enumerate(scopes):
                if fixed and any(other[:-1] == scope[:-1] for other in scopes[:n]) \
                        and not any(other[:-1] == scope[:-1] for other in scopes[n + 1:]):
                    continue  # one per parent: the last parent of each group awaits its one (a create can succeed)
                keys: set[tuple[str, ...]] = set()
                for _ in range(count):
                    record = ctx.synth.value(self.contract.at(ptr))
                    set_record_id(record, op.id_field, ctx.new_id(ptr, op.id_field, resource))
                    record = self._seeded(op, resource, scope, record)
                    record = ctx.fit(ptr, record)
                    key = sem.key_of(unique, record) if unique and isinstance(record, dict) else None
                    if key is not None and key in keys:
                        continue  # the create's own rule (`x-apiconform-state.key`) allows one record per key here
                    keys.add(key or ())
                    store.put(resource, scope, record_id(record, op.id_field), record)

    def _unique_key(self, resource: str) -> tuple[dict[str, Any], bool]:
        """The state of the resource's create where it declares records unique by `key` (else {}), and whether every
        key member is fixed by the scope a record is seeded under (`seed` sets it: one record per parent)."""
        for op in self.contract:
            if op.resource == resource and op.action == "create":
                state = sem.state_of(op.definition)
                if state.get("key"):
                    seeded = set(state.get("seed") or ())
                    return dict(state), all(f in seeded for f in state["key"])
        return {}, False


    def _seed_learned(self, sources: dict[str, Operation]) -> set[str]:
        """The learned records (`Learned.records`), each under its scope, parents before children; a record
        whose parent is missing is refused on load (one line naming the file, resource and scope)."""
        ctx, store = self.ctx, self.ctx.store
        records = ctx.learned.records
        for resource in sorted(records, key=lambda r: min((len(i.get("scope") or []) for i in records[r]), default=0)):
            op = sources.get(resource)
            if op is None:
                raise ContractError(f"{ctx.learned.source}: records.{resource}: no list or read operation of the contract "
                                    "answers this resource")
            status = self._success(op, (200,))
            ptr = ctx.item_schema(op, status) if op.action == "list" else ctx.response_schema(op, status)
            depth = len(op.path_params()) - (1 if op.action == "read" else 0)
            for item in records[resource]:
                scope = tuple(str(v) for v in item.get("scope") or [])
                if len(scope) != depth:
                    raise ContractError(f"{ctx.learned.source}: records.{resource}: scope {list(scope)} has {len(scope)} "
                                        f"parent ids, {op.path} has {depth}")
                for level in range(1, depth + 1):
                    parent = self.contract.parent_resource(op, depth - level + 1)
                    if parent and parent != resource and store.get(
                            parent, scope[:depth - level], scope[depth - level]) is None:
                        raise ContractError(f"{ctx.learned.source}: records.{resource}: parent {parent} "
                                            f"{scope[depth - level]!r} (scope {list(scope)}) is not among the records")
                record = copy.deepcopy(item["record"])
                record = ctx.fit(ptr, record) if ptr else record
                store.put(resource, scope, record_id(record, op.id_field) if item.get("id") is None else item["id"], record)
        return set(records)

    def _seeded(self, op: Operation, resource: str, scope: tuple[str, ...], record: Any) -> Any:
        """`x-apiconform-state.seed` of the resource's operations: values every seeded record starts with
        (literals, or `$request.path.NAME` read from the scope the record is seeded under)."""
        if not isinstance(record, dict):
            return record
        names = [n for n in op.path_params() if n != op.id_param] if op.action == "read" else op.path_params()
        fake = WireRequest(method="GET", path="", url="", path_params=dict(zip(names, scope)), query=[], headers={},
                           raw_body=b"")
        for other in self.contract:
            if other.resource == resource:
                for field_name, value in (sem.state_of(other.definition).get("seed") or {}).items():
                    record[field_name] = sem.evaluate(value, fake)
        return record


def build_app(
    contract: Contract,
    behaviour: Behaviour | None = None,
    drifts: Iterable[str | Drift] = (),
    faults: Iterable[str] = (),
    seed: int = 0,
    rate_limit: int | None = None,
    learned: Path | None = None,
) -> Any:
    """The ASGI app for a contract, with named drifts applied to answers and faults around it; `learned`: a
    learned data file to execute (default: the one the contract names, if any)."""
    from apiconform.mock.drifts import resolve_drifts
    from apiconform.mock.faults import wrap_faults

    app = MockApp(contract, behaviour, resolve_drifts(drifts), seed=seed, rate_limit=rate_limit, learned=learned)
    wrapped = wrap_faults(app, faults, seed=seed)
    if wrapped is not app:
        wrapped.mock = app  # type: ignore[attr-defined]  # reach the engine through fault middleware
    return wrapped


__all__ = ["JSON_MEDIA", "MockApp", "MockContext", "build_app"]
