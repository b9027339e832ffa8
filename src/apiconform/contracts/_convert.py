"""Upgrade a vendor's published description to OpenAPI 3.1: Swagger 2.0 -> 3.0 -> 3.1.

No maintained Python library converts Swagger 2.0 offline (prance's converter posts the document to a web
service; swagger2openapi is a Node tool), so the mapping is written here, rule by rule from the OpenAPI
3.0 specification's "Changes from 2.0" and the Swagger 2.0 fields, and its input and output are checked by
`openapi-spec-validator` (the project's own validator dependency) in `apiconform init`. Every rule that
loses or guesses information returns a note, which the importer writes into SOURCE.md for review.

Swagger 2.0 -> OpenAPI 3.0:
- `host`/`basePath`/`schemes` -> `servers` (the base path alone when the host is the serving machine);
- `definitions`/`parameters`/`responses`/`securityDefinitions` -> `components.*`, every `$ref` re-pointed;
- `in: body` -> `requestBody` (media types from `consumes`), `in: formData` -> an object `requestBody`
  (`multipart/form-data` when a `type: file` is among them, else form-urlencoded);
- non-body parameters: `type`/`format`/`items`/`enum`/limits -> `schema`; `collectionFormat` -> `style`/`explode`;
- response `schema` -> `content` for each `produces` type; response `examples` -> `example`; headers -> `schema`;
- security `basic` -> `http`/`basic`; `oauth2` flows renamed; `x-nullable` -> `nullable`; `type: file` -> binary.

OpenAPI 3.0 -> 3.1: `nullable` -> a `null` type; boolean `exclusiveMinimum/Maximum` -> numbers; schema
`example` -> `examples`; `format: binary|base64` strings -> `contentMediaType`/`contentEncoding`.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from apiconform.contracts._pointer import escape, walk

_METHODS = ("get", "put", "post", "delete", "patch", "options", "head")
_SCHEMA_KEYS = ("type", "format", "items", "enum", "default", "maximum", "exclusiveMaximum", "minimum",
                "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
                "multipleOf")
_COLLECTION = {  # collectionFormat -> (style, explode) per OpenAPI 3.0's parameter styles
    "csv": ("form", False), "ssv": ("spaceDelimited", False), "pipes": ("pipeDelimited", False),
    "multi": ("form", True), "tsv": ("form", False),
}
_REFS = {"#/definitions/": "#/components/schemas/", "#/responses/": "#/components/responses/",
         "#/securityDefinitions/": "#/components/securitySchemes/"}


def version_of(document: Any) -> str:
    """'2.0', '3.0' or '3.1' (or '' for anything else)."""
    if not isinstance(document, dict):
        return ""
    if str(document.get("swagger", "")) == "2.0":
        return "2.0"
    declared = str(document.get("openapi", ""))
    return declared[:3] if declared[:3] in ("3.0", "3.1") else ""


def _item_schema(param: dict[str, Any]) -> dict[str, Any]:
    schema = {k: copy.deepcopy(param[k]) for k in _SCHEMA_KEYS if k in param}
    if isinstance(schema.get("items"), dict):
        schema["items"] = _item_schema(schema["items"])
    if schema.get("type") == "file":
        schema = {"type": "string", "format": "binary"}
    return schema


def _schema(node: Any) -> Any:
    """A Swagger 2.0 schema as an OpenAPI 3.0 one (x-nullable, file, string discriminator), recursively."""
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "x-nullable":
            out["nullable"] = bool(value)
        elif key == "discriminator" and isinstance(value, str):
            out["discriminator"] = {"propertyName": value}
        elif key in ("properties", "definitions", "patternProperties") and isinstance(value, dict):
            out[key] = {name: _schema(sub) for name, sub in value.items()}
        else:
            out[key] = _schema(value)
    if out.get("type") == "file":
        out["type"] = "string"
        out["format"] = "binary"
    return out


def _retarget(node: Any, body_params: set[str], form_params: set[str]) -> None:
    """Re-point every Swagger 2.0 `$ref` at its OpenAPI 3.0 component (in place)."""
    for _pointer, obj in walk(node):
        if not isinstance(obj, dict) or not isinstance(obj.get("$ref"), str):
            continue
        ref = obj["$ref"]
        if ref.startswith("#/parameters/"):
            name = ref[len("#/parameters/"):]
            base = "#/components/requestBodies/" if name in body_params | form_params else "#/components/parameters/"
            obj["$ref"] = base + name
            continue
        for old, new in _REFS.items():
            if ref.startswith(old):
                obj["$ref"] = new + ref[len(old):]


def _request_body(params: list[dict[str, Any]], consumes: list[str], where: str, notes: list[str]) -> dict[str, Any]:
    body = next((p for p in params if p.get("in") == "body"), None)
    if body is not None:
        media = consumes or ["application/json"]
        out: dict[str, Any] = {"content": {mt: {"schema": _schema(body.get("schema", {}))} for mt in media}}
        if body.get("description"):
            out["description"] = body["description"]
        if body.get("required"):
            out["required"] = True
        if "x-examples" in body:
            for mt, example in (body["x-examples"] or {}).items():
                if mt in out["content"]:
                    out["content"][mt]["example"] = example
        return out
    form = [p for p in params if p.get("in") == "formData"]
    has_file = any(p.get("type") == "file" for p in form)
    media = [mt for mt in consumes if mt in ("multipart/form-data", "application/x-www-form-urlencoded")]
    if not media:
        media = ["multipart/form-data" if has_file else "application/x-www-form-urlencoded"]
        notes.append(f"{where}: formData parameters without a form `consumes`: sent as {media[0]} (inferred)")
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    for p in form:
        prop = _item_schema(p)
        if p.get("description"):
            prop["description"] = p["description"]
        schema["properties"][p["name"]] = prop
    required = [p["name"] for p in form if p.get("required")]
    if required:
        schema["required"] = required
    result: dict[str, Any] = {"content": {mt: {"schema": copy.deepcopy(schema)} for mt in media}}
    if required:
        result["required"] = True
    return result


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in param:
        return dict(param)
    out = {k: copy.deepcopy(v) for k, v in param.items()
           if k in ("name", "in", "description", "required", "allowEmptyValue") or k.startswith("x-")}
    if param.get("in") == "path":
        out["required"] = True
    out["schema"] = _item_schema(param)
    fmt = param.get("collectionFormat")
    if param.get("type") == "array":
        style, explode = _COLLECTION.get(str(fmt or "csv"), ("form", False))
        if param.get("in") in ("path", "header"):
            style = "simple"
        out["style"] = style
        out["explode"] = explode
    return out


def _responses(responses: dict[str, Any], produces: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, response in responses.items():
        if not isinstance(response, dict) or "$ref" in response:
            out[str(status)] = copy.deepcopy(response)
            continue
        converted: dict[str, Any] = {"description": response.get("description") or ""}
        converted.update({k: copy.deepcopy(v) for k, v in response.items() if k.startswith("x-")})
        if "schema" in response:
            media = produces or ["application/json"]
            converted["content"] = {mt: {"schema": _schema(response["schema"])} for mt in media}
            for mt, example in (response.get("examples") or {}).items():
                converted["content"].setdefault(mt, {"schema": _schema(response["schema"])})["example"] = example
        if response.get("headers"):
            converted["headers"] = {
                name: ({"description": h["description"]} if h.get("description") else {}) | {"schema": _item_schema(h)}
                for name, h in response["headers"].items()}
        out[str(status)] = converted
    return out


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    extra = {k: v for k, v in scheme.items() if k == "description" or k.startswith("x-")}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **extra}
    if kind == "apiKey":
        return {"type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in"), **extra}
    if kind == "oauth2":
        flow = {"implicit": "implicit", "password": "password", "application": "clientCredentials",
                "accessCode": "authorizationCode"}.get(str(scheme.get("flow")), "clientCredentials")
        body: dict[str, Any] = {"scopes": scheme.get("scopes") or {}}
        if "authorizationUrl" in scheme:
            body["authorizationUrl"] = scheme["authorizationUrl"]
        if "tokenUrl" in scheme:
            body["tokenUrl"] = scheme["tokenUrl"]
        return {"type": "oauth2", "flows": {flow: body}, **extra}
    return dict(scheme)


def swagger2_to_openapi30(document: dict[str, Any], source_url: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """A Swagger 2.0 document as OpenAPI 3.0.3, and a note for every guess the conversion made."""
    notes: list[str] = []
    global_params = document.get("parameters") or {}
    body_params = {n for n, p in global_params.items() if isinstance(p, dict) and p.get("in") == "body"}
    form_params = {n for n, p in global_params.items() if isinstance(p, dict) and p.get("in") == "formData"}
    consumes = list(document.get("consumes") or [])
    produces = list(document.get("produces") or [])
    out: dict[str, Any] = {"openapi": "3.0.3", "info": copy.deepcopy(document.get("info") or {})}
    base_path = str(document.get("basePath") or "/").rstrip("/")
    host = document.get("host")
    source_host = urlsplit(source_url).netloc if source_url else None
    if host and host != source_host:
        schemes = document.get("schemes") or ["https"]
        out["servers"] = [{"url": f"{s}://{host}{base_path}"} for s in schemes]
    else:  # no host, or the machine that served the document: the server is the base path on any target
        out["servers"] = [{"url": base_path or "/"}]
        if host:
            notes.append(f"/host: {host!r} is the machine the document was fetched from; servers is the base path "
                         f"{base_path or '/'!r} alone, so any target URL (mock, staging, live) can carry it")
    for key in ("tags", "externalDocs"):
        if key in document:
            out[key] = copy.deepcopy(document[key])
    out.update({k: copy.deepcopy(v) for k, v in document.items() if k.startswith("x-")})
    components: dict[str, Any] = {}
    if document.get("definitions"):
        components["schemas"] = {n: _schema(s) for n, s in document["definitions"].items()}
    if document.get("responses"):
        components["responses"] = _responses(document["responses"], produces)
    params = {n: _parameter(p) for n, p in global_params.items() if n not in body_params | form_params}
    if params:
        components["parameters"] = params
    bodies = {n: _request_body([p], consumes, f"/parameters/{escape(n)}", notes) for n, p in global_params.items()
              if n in body_params | form_params}
    if bodies:
        components["requestBodies"] = bodies
    schemes = document.get("securityDefinitions") or {}
    if schemes:
        components["securitySchemes"] = {n: _security_scheme(s) for n, s in schemes.items()}
    if "security" in document:
        out["security"] = copy.deepcopy(document["security"])
    paths: dict[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        new_item: dict[str, Any] = {k: copy.deepcopy(v) for k, v in item.items() if k.startswith("x-") or k == "$ref"}
        shared = [p for p in item.get("parameters") or [] if isinstance(p, dict)]
        if shared:
            new_item["parameters"] = [_parameter(p) for p in shared if p.get("in") not in ("body", "formData")]
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            where = f"/paths/{escape(path)}/{method}"
            new_op = {k: copy.deepcopy(v) for k, v in operation.items()
                      if k not in ("parameters", "responses", "consumes", "produces", "schemes")}
            op_params = [p for p in operation.get("parameters") or [] if isinstance(p, dict)]
            own = {(p.get("name"), p.get("in")) for p in op_params}
            inherited_body = [p for p in shared if p.get("in") in ("body", "formData") and (p.get("name"), p.get("in")) not in own]
            all_params = op_params + inherited_body
            plain = [_parameter(p) for p in op_params if p.get("in") not in ("body", "formData")]
            if plain:
                new_op["parameters"] = plain
            op_consumes = list(operation.get("consumes") or consumes)
            ref_bodies = [p for p in all_params if "$ref" in p and p["$ref"].split("/")[-1] in body_params | form_params]
            if ref_bodies:
                new_op["requestBody"] = {"$ref": "#/components/requestBodies/" + ref_bodies[0]["$ref"].split("/")[-1]}
            elif any(p.get("in") in ("body", "formData") for p in all_params):
                new_op["requestBody"] = _request_body(all_params, op_consumes, where, notes)
            new_op["responses"] = _responses(operation.get("responses") or {}, list(operation.get("produces") or produces))
            if not new_op["responses"]:
                new_op["responses"] = {"default": {"description": "(no response documented)"}}
                notes.append(f"{where}: documents no response at all; a `default` with no body stands in")
            new_item[method] = new_op
        paths[path] = new_item
    out["paths"] = paths
    if components:
        out["components"] = components
    _retarget(out, body_params, form_params)
    return out, notes


def _upgrade_schema(node: dict[str, Any]) -> None:
    if node.pop("nullable", False) is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            node["type"] = [*kind, "null"]
        elif "enum" not in node and kind is None and ("allOf" in node or "oneOf" in node or "anyOf" in node or "$ref" in node):
            branch = {k: node.pop(k) for k in ("allOf", "oneOf", "anyOf", "$ref") if k in node}
            node["anyOf"] = [branch, {"type": "null"}]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(bound) is True and limit in node:
            node[bound] = node.pop(limit)
        elif node.get(bound) is False:
            del node[bound]
    if "example" in node and "examples" not in node:
        node["examples"] = [node.pop("example")]
    if node.get("type") == "string" and node.get("format") in ("binary", "base64", "byte"):
        if node["format"] in ("base64", "byte"):
            node.setdefault("contentEncoding", "base64")


def _schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Schema Object of an OpenAPI 3.0 document (component schemas, parameter/media/header schemas,
    and their sub-schemas)."""
    found: list[dict[str, Any]] = []
    roots: list[Any] = list(((document.get("components") or {}).get("schemas") or {}).values())
    for _pointer, node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("schema"), dict):
            roots.append(node["schema"])
    seen: set[int] = set()
    for root in roots:
        for _p, node in walk(root):
            if isinstance(node, dict) and id(node) not in seen:
                seen.add(id(node))
                found.append(node)
    return found


def openapi30_to_31(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """An OpenAPI 3.0 document as 3.1.0 (a copy), with notes on what changed meaning."""
    out = copy.deepcopy(document)
    notes: list[str] = []
    nullable = 0
    for schema in _schemas(out):
        nullable += bool(schema.get("nullable"))
        _upgrade_schema(schema)
    out["openapi"] = "3.1.0"
    if nullable:
        notes.append(f"OpenAPI 3.0 -> 3.1: {nullable} `nullable: true` schemas became type unions with null")
    return out, notes


def to_openapi31(document: dict[str, Any], source_url: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Any supported description (Swagger 2.0, OpenAPI 3.0, 3.1) as OpenAPI 3.1.0, with conversion notes."""
    version = version_of(document)
    notes: list[str] = []
    if version == "2.0":
        document, notes = swagger2_to_openapi30(document, source_url)
        notes.insert(0, "converted from Swagger 2.0 to OpenAPI 3.0.3 (apiconform.contracts._convert), then to 3.1.0")
        version = "3.0"
    if version == "3.0":
        document, more = openapi30_to_31(document)
        notes += more
    return document, notes
