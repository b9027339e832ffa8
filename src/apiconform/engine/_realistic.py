"""Realistic request data: a write's references name records the target really holds.

A documented example or a drawn body names records that do not exist (`"learner_id": "2df776db-…"`, the docs'
placeholder, `"course_id": 0`, a random uuid), so the vendor refuses the write (400/404) and the write path never
runs. Here every reference member of a JSON write body (`<thing>_id`, `<thing>Id`, `<thing>_uuid`) gets a real
value, first of:

1. the value of the path parameter the request was sent under that names the same thing
   (`/provider/{parent_lookup_provider_id}/…` for `provider_id`);
2. the ids of the contract's resource of that name (`course_id` -> `courses`), read through its list operation;
3. what the target answered under the same member name earlier (`Session.observed`), listing — once — the
   operations whose answers carry that member where nothing was seen yet.

A create whose body names the new record's own key (the resource's id field, e.g. an enrolment keyed by
`learner_id`) takes a value no record of that resource holds yet (else it would address an existing record);
an update takes the record's own id. A member the docs fill with a placeholder (`"string"`; Mintlify's `"<string>"`) takes a fresh value
naming the member, else one the target answered under that name; a member holding the docs' numeric placeholder `0`
takes a value the target answered under that name (never a record's own key, `id`: that would address another
record). The same rules hold at every depth of the body, place by place (JSON pointers, `contracts.walk`/`assign`):
a nested object's members (`address_attributes.city`, `courses_leads_attributes[0].course_id`) and the elements of
a list of references (`label_ids: [0]` is read as `label_id`, and also takes what answers listed as `label_ids`).
Each value is kept only where the whole request stays valid under the contract (judged; at most `TRIES` values a
place); a place with no real value known keeps what it had. Generic: names and schemas only, nothing per vendor.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from apiconform.contracts import Contract, Operation, assign, pointer, resolve, split, walk
from apiconform.engine._judge import judge
from apiconform.engine.checks import POSITIVE

if TYPE_CHECKING:
    from apiconform.engine._discovery import Discovery

_REFERENCE = re.compile(r"(?P<stem>[A-Za-z0-9].*?)(?:_id|_uuid|_pk|Id|ID|Uuid)")
WRITES = ("post", "put", "patch")
TRIES = 16  # values tried, each judged, for one place of a body


def reference_stem(name: str) -> str | None:
    """The thing a member refers to (`learner_id` -> `learner`, `courseId` -> `course`), None if not a reference."""
    match = _REFERENCE.fullmatch(name)
    return match.group("stem") if match else None


def resource_named(contract: Contract, stem: str) -> str | None:
    """The contract's resource a reference stem names (`course` -> `courses`, `category` -> `categories`)."""
    base = stem.lower().replace("-", "_")
    names = {base, base + "s", base + "es", base[:-1] + "ies" if base.endswith("y") else base}
    resources = [op.resource for op in contract if op.resource and op.action == "list"]
    for exact in (True, False):  # `course` -> courses; else a qualified name: `edition` -> program_editions
        for resource in resources:
            name = resource.lower().replace("-", "_")
            if name in names if exact else any(name.endswith("_" + n) for n in names):
                return resource
    return None


def realistic(discovery: Discovery, op: Operation, request: httpx.Request) -> httpx.Request:
    """`request` with each reference member of its JSON write body set to a real value and each placeholder replaced
    (see the module), at any depth of the body, and the members the create answer's link to `op` declares
    (`requestBody`) where it addresses a record the run created."""
    if op.method not in WRITES:
        return request
    try:
        body = json.loads(request.content) if request.content else {} if _json_body(op) else None
    except ValueError:
        return request
    if not isinstance(body, dict):
        return request
    contract = discovery.contract
    sent = _sent_path(discovery, op, request)
    changed = False
    linked = _linked(discovery, op, request)
    if linked and any(body.get(k) != v for k, v in linked.items()):
        trial = {**body, **linked}
        if judge(contract, op, _with_body(request, trial)) == POSITIVE:
            body, changed = trial, True

    def first_valid(ptr: str, values: list[Any]) -> None:
        nonlocal body, changed
        for value in values[:TRIES]:
            trial = assign(body, ptr, value)
            if judge(contract, op, _with_body(request, trial)) == POSITIVE:
                body, changed = trial, True
                return

    places = _places(body)
    for ptr, name, listed in places:  # references first (a placeholder's value may depend on none of them)
        current = resolve(body, ptr)
        if not reference_stem(name) or isinstance(current, (dict, list, bool)):
            continue
        candidates, excluded = _candidates(discovery, op, name, sent, ptr.count("/") == 1, listed)
        if current in candidates and current not in excluded:
            continue
        first_valid(ptr, [_typed(current, v) for v in candidates if v not in excluded])
    record_keys: set[str] | None = None  # read from the contract once, when a 0 is first met
    for ptr, name, _listed in places:
        current = resolve(body, ptr)
        if reference_stem(name):
            continue
        if placeholder(current):
            first_valid(ptr, _instead_of_placeholder(discovery, name, request, ptr))
        elif _zero(current):
            record_keys = _record_keys(contract) if record_keys is None else record_keys
            if name in record_keys:
                continue
            first_valid(ptr, [v for v in discovery.session.observed.values(name) if _zero(v) is False])
    return _with_body(request, body) if changed else request


def _places(body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """The scalar places of a body, in document order: (JSON pointer, the member name it is read under, the name of
    the array holding it, None for an object's member). An element of an array is read under the array's name, one
    of a list of references (`label_ids: [0]`) under the singular (`label_id`)."""
    found: list[tuple[str, str, str | None]] = []
    for ptr, node in walk(body):
        tokens = split(ptr)
        if not tokens or isinstance(node, (dict, list)):
            continue
        name, listed = tokens[-1], None
        if isinstance(resolve(body, pointer(*tokens[:-1])), list):
            if len(tokens) < 2:
                continue
            name, listed = _singular(tokens[-2]), tokens[-2]
        found.append((ptr, name, listed))
    return found


def _singular(name: str) -> str:
    """The member name of one element of a list of references (`label_ids` -> `label_id`, `teacherIds` ->
    `teacherId`); any other list's own name."""
    for plural, one in (("_ids", "_id"), ("_uuids", "_uuid"), ("Ids", "Id"), ("IDs", "ID"), ("Uuids", "Uuid")):
        if name.endswith(plural) and len(name) > len(plural):
            return name[: -len(plural)] + one
    return name


def _zero(value: Any) -> bool | None:
    """Whether an integer is the docs' numeric placeholder 0 (None: not an integer)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value == 0


def _record_keys(contract: Contract) -> set[str]:
    """The members that name a record itself (`id`, each read operation's id field): never borrowed from another."""
    return {"id", *(o.id_field for o in contract if o.action == "read" and o.id_field)}


PLACEHOLDERS = ("string", "<string>")  # Swagger UI, Redoc and the like; Mintlify


def placeholder(value: Any) -> bool:
    """A documentation generator's stand-in for "some text" (Swagger UI, Redoc and the like fill examples with
    `"string"`, Mintlify with `"<string>"`): never a value a client would write."""
    return isinstance(value, str) and value.strip().lower() in PLACEHOLDERS


def _instead_of_placeholder(discovery: Discovery, name: str, request: httpx.Request, ptr: str = "") -> list[Any]:
    """Values for a member the docs fill with a placeholder, best first: a fresh one naming the member (a unique key
    of the vendor takes it where a value seen on another record would collide), then what the target answered under
    that name. Against an embedded mock the fresh value is a digest of the request (the same on every run: reports
    compare); on a live target it is random (a record an earlier run left behind never holds it). A nested place
    (`ptr` below the top level) digests its pointer too: two members of one name in one body differ."""
    session = discovery.session
    if session.target.kind == "mock":
        where = f"{name} {ptr}" if ptr.count("/") > 1 else name
        token = hashlib.sha256(f"{request.method} {request.url} {where} ".encode() + request.content).hexdigest()[:8]
    else:
        token = uuid.uuid4().hex[:8]
    seen = [v for v in session.observed.values(name) if isinstance(v, str) and not placeholder(v)]
    return [f"{name}-{token}", *seen]


def _json_body(op: Operation) -> bool:
    return any(media.split(";")[0].strip().lower() == "application/json" for media in op.request_body)


def _linked(discovery: Discovery, op: Operation, request: httpx.Request) -> dict[str, Any]:
    """The body members the answer that created the addressed record links to `op` (an OpenAPI link's
    `requestBody`, an object of runtime expressions `$request.body#/…` / `$response.body#/…` or literals)."""
    ownership = discovery.session.ownership
    created = ownership.creation_of(request.url) if ownership is not None else None
    create = discovery.contract.operations.get(created.operation) if created is not None else None
    if create is None or created is None:
        return {}
    return link_body(create, created.status, created.sent, created.answer, op)


def link_body(create: Operation, status: int, sent: Any, answer: Any, target: Operation) -> dict[str, Any]:
    """Body members for `target` from the links of `create`'s `status` answer (`requestBody`: an object of runtime
    expressions on the create's request body `$request.body#/…` and answer `$response.body#/…`, or literals);
    what an expression does not reach is left out. The lifecycle (engine._stateful) follows the same links."""
    response = create.response_for(status)
    members: dict[str, Any] = {}
    for link in response.links.values() if response is not None else ():
        declared = link.get("requestBody")
        if link.get("operationId") != target.operation_id or not isinstance(declared, dict):
            continue
        for name, expression in declared.items():
            value = expression
            if isinstance(expression, str) and expression.startswith(("$request.body#", "$response.body#")):
                source = sent if expression.startswith("$request") else answer
                value = resolve(source, expression.split("#", 1)[1]) if source is not None else None
            if value is not None:
                members[str(name)] = value
    return members


def _typed(current: Any, value: Any) -> Any:
    """A real id in the member's wire type: an integer member takes an integer (`"5"` read from a path -> 5)."""
    if isinstance(current, int) and isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(current, str) and isinstance(value, int):
        return str(value)
    return value


def _sent_path(discovery: Discovery, op: Operation, request: httpx.Request) -> dict[str, str]:
    base = httpx.URL(discovery.session.target.base_url).raw_path.decode("ascii").rstrip("/")
    raw = request.url.raw_path.decode("ascii").split("?", 1)[0]
    return op.match_path(raw[len(base):] if raw.startswith(base) else raw) or {}


def _candidates(discovery: Discovery, op: Operation, name: str, sent: dict[str, str],
                top: bool = True, listed: str | None = None) -> tuple[list[Any], list[Any]]:
    """(real values for member `name`, best first; values it must not take). Only a top-level member can be the
    key of the record the request addresses or creates; an element of the list `listed` (`label_ids`) also takes
    what the target answered in lists of that name."""
    contract = discovery.contract
    stem = reference_stem(name) or name
    own_key = top and _own_key(contract, op) == name
    excluded: list[Any] = []
    if own_key and op.action != "create" and op.id_param in sent:
        return [sent[str(op.id_param)]], []  # an update names its own record
    if own_key and op.resource:  # a create keyed by this member: a value no record of the resource has yet
        scope = tuple(sent[n] for n in op.path_params() if n in sent)
        excluded = _widen(discovery.ids(op.resource, scope))
    candidates: list[Any] = [value for param, value in sent.items()
                             if param == name or param.endswith(("_" + name, "__" + name))]
    resource = resource_named(contract, stem)
    if resource is not None and resource != op.resource:
        lister = discovery.lister(resource)
        if lister is not None:
            values = discovery.path_values(lister)
            if all(n in values for n in lister.path_params()):
                candidates += discovery.ids(resource, tuple(values[n] for n in lister.path_params()))
    candidates += discovery.session.observed.values(name)
    if listed is not None:
        candidates += discovery.session.observed.values(listed)
    if not [v for v in candidates if v not in excluded]:  # nothing seen yet: read the lists whose records carry it
        discovery.list_carrying(name)
        candidates += discovery.session.observed.values(name)
    unique: list[Any] = []
    for value in candidates:
        if value not in unique:
            unique.append(value)
    return unique, excluded


def _widen(values: list[Any]) -> list[Any]:
    """Ids compared as text too (a path gives `"5"`, a body `5`)."""
    return [*values, *(str(v) for v in values), *(int(v) for v in values if isinstance(v, str) and v.isdigit())]


def _own_key(contract: Contract, op: Operation) -> str | None:
    """The member that names a record of `op`'s resource (its read operation's id field)."""
    reader = next((o for o in contract if o.resource == op.resource and o.action == "read"), None) if op.resource else None
    return reader.id_field if reader is not None else None


def _with_body(request: httpx.Request, body: Any) -> httpx.Request:
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return httpx.Request(request.method, request.url, headers=headers, content=json.dumps(body).encode())


def carries(contract: Contract, op: Operation, name: str) -> bool:
    """Whether `op`'s success answer documents a member `name` on its records (at any depth of its schema)."""
    response = op.response_for(200)
    media = next(iter(response.content.values()), None) if response is not None else None
    if media is None or media.schema_pointer is None:
        return False
    stack: list[Any] = [contract.at(media.schema_pointer)]
    seen = 0
    while stack and seen < 200:
        node = contract.resolve(stack.pop())
        seen += 1
        if not isinstance(node, dict):
            continue
        properties = node.get("properties")
        if isinstance(properties, dict):
            if name in properties:
                return True
            stack.extend(properties.values())
        for key in ("items", "allOf", "anyOf", "oneOf"):
            value = node.get(key)
            stack.extend(value if isinstance(value, list) else [value] if isinstance(value, dict) else [])
    return False


__all__ = ["carries", "placeholder", "realistic", "reference_stem", "resource_named"]
