"""Import a vendor's own published description (Swagger 2.0, OpenAPI 3.0 or 3.1; a file or a URL) as an
OpenAPI 3.1 contract following contracts/README.md, with every inference listed for review.

`fetch_description` reads a file or GETs a URL (HTTP Basic or extra headers when the server guards its
description); `import_description` converts (`_convert`), fills the `x-apiconform-*` conventions it can infer
(operation ids, resources, actions, id parameters, pagination), maps security schemes to auth flows, and
records what it learnt from the server itself: a description served only with credentials, or a
`WWW-Authenticate` challenge, means the server authenticates even where its document declares nothing.
`apiconform init --from-openapi` and anything else that imports vendor releases (e.g. upgrade checks) use it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from apiconform.contracts._convert import to_openapi31, version_of
from apiconform.contracts._pointer import escape, split, walk
from apiconform.contracts._walk import carries_requests
from apiconform.errors import UsageError

_METHODS = ("get", "put", "post", "delete", "patch")
_VERBISH = re.compile(r"^(filter|count|search|query|find|batch|bulk|set_\w+|resume|pause|cancel|retry|run|start|stop|"
                      r"trigger|validate|test|reset|clear|login|logout|refresh|schedule|apply|preview|export|import|"
                      r"read|read_\w+|increment|decrement|bulk_\w+|[a-z]+-[a-z]+|[a-z]+_[a-z_]+)$")
#: a POST that only reads: its path ends in a query word, or its summary starts with a reading verb
_QUERY_SEGMENT = re.compile(r"^(filter|count|search|query|find|paginate|history|lookup)$")
_QUERY_SUMMARY = re.compile(r"^(read|count|search|query|find|list|get|paginate)\b", re.IGNORECASE)
_PAGE_PARAMS = (("limit", "offset", "offset"), ("_limit", None, "token"), ("per_page", "page", "page"),
                ("page_size", "page", "page"), ("limit", "page", "page"))
TODO_AUTH = "x-apiconform-todo"
"""Set on `info` when the importer could not name how the vendor authenticates; `contracts check` reports it."""


@dataclass
class SourceInfo:
    """Where a description came from, and what the server said about authentication while serving it."""

    location: str
    text: str
    fetched: str = ""
    auth_required: str | None = None  #: "basic" when the server refused the description without Basic credentials
    challenge: str | None = None  #: the WWW-Authenticate scheme the server named on a refusal
    headers_used: list[str] = field(default_factory=list)  #: names (never values) of the headers sent

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


@dataclass
class Imported:
    document: dict[str, Any]
    format: str  #: the source's format: "Swagger 2.0", "OpenAPI 3.0.x", "OpenAPI 3.1.x"
    conversion: list[str]
    inferences: list[str]
    problems: list[str]
    todos: list[str]


def _challenge(headers: Any) -> str | None:
    value = str(headers.get("www-authenticate") or "").strip()
    return value.split(" ", 1)[0].lower() or None if value else None


def fetch_description(location: str, *, user: str | None = None, password: str | None = None,
                      headers: dict[str, str] | None = None, timeout: float = 30.0) -> SourceInfo:
    """A description's text from a file or a URL. Credentials go only to a URL, and only after the server
    refused the anonymous request (so the importer learns whether the description is guarded)."""
    if not location.startswith(("http://", "https://")):
        path = Path(location)
        try:
            return SourceInfo(location=str(path), text=path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"{location}: cannot read the description: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{location}: not UTF-8 text (expected YAML or JSON)") from None
    import httpx

    extra = dict(headers or {})
    info = SourceInfo(location=location, text="", fetched=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                      headers_used=sorted(extra))
    accept = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            answer = client.get(location, headers=accept | extra)
            if answer.status_code in (401, 403):
                info.challenge = _challenge(answer.headers)
                if user is not None:
                    answer = client.get(location, headers=accept | extra, auth=httpx.BasicAuth(user, password or ""))
                    if answer.is_success:
                        info.auth_required = "basic"
    except httpx.HTTPError as exc:
        raise UsageError(f"{location}: cannot fetch the description: {type(exc).__name__}: {exc}") from None
    if not answer.is_success:
        hint = " (give credentials: --user USER with the password in $APICONFORM_SPEC_PASSWORD)" \
            if answer.status_code in (401, 403) and user is None else ""
        raise UsageError(f"{location}: the server answered {answer.status_code} {answer.reason_phrase} to GET{hint}")
    info.text = answer.text
    return info


def parse(info: SourceInfo) -> dict[str, Any]:
    """The description as a mapping, or one UsageError line naming the source and what is wrong."""
    import yaml

    try:
        document = json.loads(info.text) if info.text.lstrip().startswith("{") else yaml.safe_load(info.text)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{info.location}: not YAML or JSON: {str(exc).splitlines()[0]}") from None
    if not version_of(document):
        found = document.get("swagger") or document.get("openapi") if isinstance(document, dict) else None
        raise UsageError(f"{info.location}: /openapi: expected a Swagger 2.0 or OpenAPI 3.0/3.1 description, "
                         f"got {found or 'no swagger/openapi version'!r}")
    assert isinstance(document, dict)
    return document


def validate_source(document: dict[str, Any], where: str) -> list[str]:
    """openapi-spec-validator's verdict on the vendor's document as published (errata to record, not fatal)."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as exc:
        return [f"{where}: the published description is not valid {version_of(document)}: {str(exc).splitlines()[0]}"]
    except Exception as exc:  # noqa: BLE001 - a validator crash on a vendor document is an erratum, not ours to raise
        return [f"{where}: openapi-spec-validator could not check it: {type(exc).__name__}"]
    return []


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """A local `#/...` reference, followed (remote references stay as they are)."""
    for _ in range(20):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/")):
            return node
        target: Any = document
        for part in split(node["$ref"][1:]):
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        node = target
    return node


def unsatisfiable(document: dict[str, Any]) -> list[str]:
    """Constructs no server can satisfy: one line each, naming the JSON pointer."""
    problems: list[str] = []
    for pointer, node in walk(document):
        if not isinstance(node, dict) or not isinstance(node.get("allOf"), list):
            continue
        branches = [_resolve(document, b) for b in node["allOf"]]
        for i, branch in enumerate(branches):
            if not isinstance(branch, dict) or branch.get("additionalProperties") is not False:
                continue
            own = set(branch.get("properties") or {})
            others = {name for j, b in enumerate(branches) if j != i and isinstance(b, dict)
                      for name in (b.get("properties") or {})}
            foreign = sorted(others - own)
            if foreign:
                problems.append(f"{pointer or '/'}/allOf/{i}: additionalProperties: false, but other allOf branches add "
                                f"{', '.join(foreign[:5])}: no object carrying them can validate (unsatisfiable)")
    return problems


def _success_schema(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    for status, response in (operation.get("responses") or {}).items():
        if str(status).startswith("2"):
            content = (_resolve(document, response) or {}).get("content") or {}
            for media, spec in content.items():
                if "json" in media and isinstance(spec, dict):
                    return _resolve(document, spec.get("schema"))
    return None


def _is_list_schema(document: dict[str, Any], schema: Any) -> bool:
    """An array, or an object whose only array member holds the items (an envelope such as {data: [...]})."""
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return False
    kinds = schema.get("type")
    if kinds == "array" or (isinstance(kinds, list) and "array" in kinds):
        return True
    props = {n: _resolve(document, p) for n, p in (schema.get("properties") or {}).items()}
    arrays = [n for n, p in props.items() if isinstance(p, dict) and p.get("type") == "array"]
    return len(arrays) == 1 and arrays[0] in ("data", "results", "items", "records", "objects", "entries")


def _action(document: dict[str, Any], method: str, path: str, operation: dict[str, Any]) -> tuple[str, str]:
    """The inferred action and why."""
    segments = [s for s in path.rstrip("/").split("/") if s]
    last = segments[-1] if segments else ""
    item = last.startswith("{")
    if method == "get" and not item:
        schema = _success_schema(document, operation)
        if schema is None:
            return "list", "GET on a collection path (no answer schema to tell a list from a singleton)"
        if _is_list_schema(document, schema):
            return "list", "GET on a collection path answering an array"
        return "action", "GET answering one object, not a list, on a path without an id (a singleton)"
    if method == "post" and not item:
        if _VERBISH.match(last) or len(segments) >= 2 and not segments[-2].startswith("{") and _VERBISH.match(last):
            return "action", f"POST to a verb-like last segment {last!r}"
        if operation.get("requestBody") is None:
            return "action", "POST without a request body"
        if not _collection(document, path, operation):
            return "action", "POST with a body on a path with no item path below it and no 201 (not a collection)"
        return "create", "POST on a collection path with a body"
    table = {("get", True): "read", ("put", True): "replace", ("patch", True): "update", ("delete", True): "delete"}
    if (method, item) in table:
        return table[(method, item)], f"{method.upper()} on an item path"
    return "action", f"{method.upper()} on a collection path"


def _carries_requests(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """The request body carries requests of its own (a batch): never inferred a create or a safe query."""
    body = _resolve(document, operation.get("requestBody"))
    content = body.get("content") if isinstance(body, dict) else None
    return any(isinstance(media, dict) and carries_requests(lambda node: _resolve(document, node), media.get("schema"))
               for media in (content or {}).values())


def _collection(document: dict[str, Any], path: str, operation: dict[str, Any]) -> bool:
    """A collection: an item path one parameter below it is described (`/flows` with `/flows/{id}`), or the POST
    documents 201 Created (as the write policy reads an undeclared POST: engine._writes)."""
    if "201" in (operation.get("responses") or {}):
        return True
    stem = path.rstrip("/")
    return any(re.fullmatch(re.escape(stem) + r"/\{[^/}]+\}/?", other) for other in document.get("paths") or {})


def _query(path: str, operation: dict[str, Any]) -> str:
    """Why a POST looks like a query that changes nothing ("" if it does not): the write policy `own` lets such a
    POST through, and refuses any other POST that addresses no record (a bulk action could change any record)."""
    segments = [s for s in path.rstrip("/").split("/") if s and not s.startswith("{")]
    if segments and _QUERY_SEGMENT.match(segments[-1]):
        return f"last segment {segments[-1]!r}"
    summary = str(operation.get("summary") or "")
    if _QUERY_SUMMARY.match(summary) and not re.search(r"\b(delete|remove|set|update|create|reset|clear)\b", summary, re.I):
        return f"summary {summary!r}"
    return ""


def _resource(path: str, operation: dict[str, Any]) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    while len(parts) > 1 and _VERBISH.match(parts[-1]):
        parts.pop()
    if parts:
        return re.sub(r"[^A-Za-z0-9_-]+", "_", parts[-1])
    tags = operation.get("tags") or []
    return str(tags[0]) if tags else "root"


def _parameters(document: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    params = [_resolve(document, p) for p in (item.get("parameters") or []) + (operation.get("parameters") or [])]
    return [p for p in params if isinstance(p, dict)]


def _pagination(params: list[dict[str, Any]]) -> dict[str, Any] | None:
    names = {p.get("name"): p for p in params if p.get("in") == "query"}
    for size, offset, style in _PAGE_PARAMS:
        if size not in names:
            continue
        schema = names[size].get("schema") or {}
        spec: dict[str, Any]
        if style == "offset" and offset in names:
            spec = {"style": "offset", "limit_param": size, "offset_param": offset}
        elif style == "page" and offset in names:
            spec = {"style": "page", "page_param": offset, "per_page_param": size}
        else:
            continue
        if isinstance(schema.get("default"), int):
            spec["default"] = schema["default"]
        if isinstance(schema.get("maximum"), int):
            spec["max"] = schema["maximum"]
        return spec
    return None


def scaffold(document: dict[str, Any], vendor: str) -> tuple[dict[str, Any], list[str]]:
    """The document with apiconform's conventions filled in where they can be inferred; notes on each inference."""
    notes: list[str] = []
    info = document.setdefault("info", {"title": vendor, "version": "0"})
    info.setdefault("x-apiconform", {})["vendor"] = vendor
    seen: set[str] = set()
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            where = f"{method.upper()} {path}"
            if not operation.get("operationId"):
                name = re.sub(r"[^a-z0-9]+", "_", f"{method} {path}".lower()).strip("_")
                operation["operationId"] = name
                notes.append(f"{where}: no operationId; named {name!r} (rename it to the vendor's wording)")
            if operation["operationId"] in seen:
                notes.append(f"{where}: duplicate operationId {operation['operationId']!r} (must be unique)")
            seen.add(operation["operationId"])
            inferred = []
            if "x-apiconform-resource" not in operation:
                operation["x-apiconform-resource"] = _resource(path, operation)
                inferred.append(f"resource {operation['x-apiconform-resource']!r}")
            batch = method == "post" and _carries_requests(document, operation)
            if "x-apiconform-action" not in operation:
                action, why = ("action", "POST whose body carries requests (method and path members): a batch that "
                               "may change any record") if batch else _action(document, method, path, operation)
                operation["x-apiconform-action"] = action
                inferred.append(f"action {action!r} ({why})")
            if method == "post" and not batch and "x-apiconform-safe" not in operation and (why := _query(path, operation)):
                operation["x-apiconform-safe"] = True
                inferred.append(f"a query that changes nothing, x-apiconform-safe ({why})")
            if inferred:
                notes.append(f"{where}: {', '.join(inferred)}")
            params = _parameters(document, item, operation)
            path_names = [p["name"] for p in params if p.get("in") == "path" and p.get("name")]
            if operation["x-apiconform-action"] in ("read", "replace", "update", "delete") and path_names \
                    and path.rstrip("/").endswith("{" + path_names[-1] + "}") and path_names[-1] != "id" \
                    and "x-apiconform-id" not in operation:
                last = re.findall(r"\{([^}]+)\}", path)[-1]
                operation["x-apiconform-id"] = last
                notes.append(f"{where}: id parameter inferred as {last!r} (the last path parameter)")
            if operation["x-apiconform-action"] == "list" and "x-apiconform-pagination" not in operation:
                spec = _pagination(params)
                if spec:
                    operation["x-apiconform-pagination"] = spec
                    notes.append(f"{where}: pagination inferred as {json.dumps(spec)} from the query parameters")
    return document, notes


def _anonymous_probe(document: dict[str, Any], base: str, limit: int = 40) -> tuple[list[str], list[str], str | None]:
    """GET each parameterless documented GET (at most `limit`) without credentials: the paths answering 2xx
    (public), those refused with 401/403, and the scheme a `WWW-Authenticate` challenge named."""
    import httpx

    public: list[str] = []
    refused: list[str] = []
    challenge: str | None = None
    challenged = ""
    paths = [p for p, item in (document.get("paths") or {}).items()
             if isinstance(item, dict) and isinstance(item.get("get"), dict) and "{" not in p]
    try:
        with httpx.Client(timeout=10.0) as client:
            for path in paths[:limit]:
                answer = client.get(base.rstrip("/") + path, headers={"Accept": "application/json"})
                if answer.is_success:
                    public.append(path)
                elif answer.status_code in (401, 403):
                    refused.append(path)
                    if challenge is None and _challenge(answer.headers):
                        challenge, challenged = _challenge(answer.headers), path
    except httpx.HTTPError:
        pass
    if challenged:  # the challenging path first, so the note names it
        refused.remove(challenged)
        refused.insert(0, challenged)
    return public, refused, challenge


def _base_url(document: dict[str, Any], source: SourceInfo) -> str:
    server = str(((document.get("servers") or [{}])[0] or {}).get("url", "/"))
    return urljoin(source.location, server) if not urlsplit(server).scheme else server


FlowFor = Callable[[Mapping[str, Any]], Any]
"""`apiconform.auth.flow_for`: the flow (with `name`, `credential_fields`) a scheme runs, or None. Passed in by
the caller, since contracts sit beneath auth."""


def _security(document: dict[str, Any], source: SourceInfo, probe: bool, flow_for: FlowFor | None) -> tuple[list[str], list[str]]:
    """Map declared schemes to flows; infer HTTP Basic/Bearer from the server when nothing is declared.
    Returns (inferences, todos)."""
    notes: list[str] = []
    todos: list[str] = []
    components = document.setdefault("components", {})
    schemes = components.get("securitySchemes") or {}
    if schemes:
        for name, scheme in schemes.items():
            flow = flow_for(scheme) if isinstance(scheme, dict) and flow_for is not None else None
            where = f"/components/securitySchemes/{escape(name)}"
            if flow is None:
                todos.append(f"{where}: {scheme.get('type')} scheme has no apiconform auth flow: add "
                             f"`x-apiconform-auth: {{flow: NAME}}` (a flow in apiconform.auth) or remove the scheme")
            else:
                scheme.setdefault("x-apiconform-auth", {"flow": flow.name})
                notes.append(f"{where}: mapped to the {flow.name!r} auth flow (credentials: "
                             f"{', '.join(flow.credential_fields)})")
        return notes, todos
    kind: str | None = None
    why = ""
    public: list[str] = []
    if source.auth_required == "basic":
        kind, why = "basic", f"the server refused the description without credentials and served it with HTTP Basic ({source.location})"
    elif source.challenge in ("basic", "bearer"):
        kind, why = source.challenge, f"the server challenged `WWW-Authenticate: {source.challenge.title()}` when asked for the description"
    if source.is_url and probe:
        public, refused, challenge = _anonymous_probe(document, _base_url(document, source))
        if kind is None and challenge in ("basic", "bearer"):
            kind = challenge
            why = (f"GET {refused[0]} without credentials answered 401/403 with `WWW-Authenticate: "
                   f"{challenge.title()}` (the document declares no security)")
        elif kind is None and refused:
            todos.append(f"/components/securitySchemes: the document declares none, yet GET {refused[0]} without "
                         f"credentials was refused and the server named no scheme: declare how it authenticates")
    if kind is None:
        if not todos:
            todos.append("/components/securitySchemes: the document declares no security scheme: if the vendor "
                         "authenticates, declare its scheme (and x-apiconform-auth) so the gate can log in")
        return notes, todos
    name = "httpBasic" if kind == "basic" else "httpBearer"
    flow_name = "http-basic" if kind == "basic" else "bearer"
    # `x-apiconform-inferred`: the vendor's description declares no security; the gate reports a refusal of a request
    # without credentials as the description's deviation (engine._suites, AC404)
    components["securitySchemes"] = {name: {"type": "http", "scheme": kind, "x-apiconform-auth": {"flow": flow_name},
                                            "x-apiconform-inferred": True,
                                            "description": f"inferred by apiconform init: {why}"}}
    document["security"] = [{name: []}]
    notes.append(f"/components/securitySchemes/{name}: HTTP {kind.title()} inferred (REVIEW): {why}; every "
                 f"operation requires it (top-level `security`)")
    for path in public:
        operation = document["paths"][path]["get"]
        if "security" not in operation or operation.get("security") == []:
            operation["security"] = []
            notes.append(f"GET {path}: answered 2xx without credentials: `security: []` (public; inferred)")
    for path, item in (document.get("paths") or {}).items():  # `security: []` the document wrote on every operation
        for method in _METHODS:  # means "nothing declared", not "public", once the server is known to authenticate
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict) and operation.get("security") == [] and path not in public:
                del operation["security"]
    return notes, todos


def _errors_documented(document: dict[str, Any]) -> list[str]:
    """Operations that document no 4xx and no `default` answer: what the mock and judge make of them."""
    bare = []
    for path, item in (document.get("paths") or {}).items():
        for method in _METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                codes = [str(c) for c in operation.get("responses") or {}]
                if not any(c.startswith("4") or c in ("default", "4XX") for c in codes):
                    bare.append(f"{method.upper()} {path}")
    return bare


def import_description(source: SourceInfo, vendor: str, *, probe: bool = True, flow_for: FlowFor | None = None) -> Imported:
    """The vendor's description as an apiconform contract (OpenAPI 3.1) plus everything to review. `flow_for`
    (normally `apiconform.auth.flow_for`) maps declared schemes to auth flows; without it each is a TODO."""
    original = parse(source)
    version = version_of(original)
    fmt = "Swagger 2.0" if version == "2.0" else f"OpenAPI {original.get('openapi')}"
    problems = validate_source(original, source.location)
    document, conversion = to_openapi31(original, source.location if source.is_url else None)
    problems += [f"{source.location}: {p}" for p in unsatisfiable(document)]
    document, inferences = scaffold(document, vendor)
    security_notes, todos = _security(document, source, probe, flow_for)
    inferences = security_notes + inferences
    bare = _errors_documented(document)
    if bare:
        inferences.append(f"{len(bare)} operations document no error answer (no 4xx, no default): the mock answers "
                          f"them only with documented statuses, and the gate does not blame them for accepting an "
                          f"invalid request; e.g. {', '.join(bare[:5])}")
    if todos:
        document["info"][TODO_AUTH] = todos
    return Imported(document=document, format=fmt, conversion=conversion, inferences=inferences,
                    problems=problems, todos=todos)
