"""Importing a vendor's own description: Swagger 2.0 / OpenAPI 3.0 / 3.1, from a file or a URL guarded by HTTP
Basic, into an OpenAPI 3.1 contract whose security maps to a flow (or a TODO) and which the mock serves green."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.contracts._convert import to_openapi31
from apiconform.auth import flow_for
from apiconform.contracts._import import SourceInfo, import_description
from tests.support.json_handler import JsonHandler

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Shelf", "version": "4.2"},
    "host": "shelf.example.test", "basePath": "/api", "schemes": ["https"],
    "consumes": ["application/json"], "produces": ["application/json"],
    "securityDefinitions": {"basic": {"type": "basic"}},
    "security": [{"basic": []}],
    "definitions": {
        "Book": {"type": "object", "required": ["id", "title"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"},
            "subtitle": {"type": "string", "x-nullable": True}}},
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    },
    "parameters": {"limit": {"name": "limit", "in": "query", "type": "integer", "maximum": 100}},
    "paths": {
        "/books": {
            "get": {"operationId": "list_books", "parameters": [
                {"$ref": "#/parameters/limit"}, {"name": "offset", "in": "query", "type": "integer"},
                {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}],
                "responses": {"200": {"description": "ok", "schema": {"type": "array", "items": {"$ref": "#/definitions/Book"}}},
                              "401": {"description": "no", "schema": {"$ref": "#/definitions/Error"}}}},
            "post": {"operationId": "create_book", "parameters": [
                {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Book"}}],
                "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Book"}},
                              "400": {"description": "bad", "schema": {"$ref": "#/definitions/Error"}}}},
        },
        "/books/{book_id}/cover": {
            "put": {"operationId": "upload_cover", "consumes": ["multipart/form-data"], "parameters": [
                {"name": "book_id", "in": "path", "required": True, "type": "string"},
                {"name": "file", "in": "formData", "type": "file", "required": True}],
                "responses": {"204": {"description": "stored"}}},
        },
        "/books/search": {"post": {"operationId": "search_books", "parameters": [
            {"name": "body", "in": "body", "schema": {"type": "object"}}],
            "responses": {"200": {"description": "hits", "schema": {"type": "array", "items": {"$ref": "#/definitions/Book"}}}}}},
    },
}


def test_swagger2_converts_to_openapi31_with_refs_bodies_forms_and_security() -> None:
    doc, notes = to_openapi31(json.loads(json.dumps(SWAGGER)))
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "https://shelf.example.test/api"}]
    assert doc["components"]["securitySchemes"]["basic"] == {"type": "http", "scheme": "basic"}
    book = doc["components"]["schemas"]["Book"]
    assert book["properties"]["subtitle"]["type"] == ["string", "null"]  # x-nullable -> 3.0 nullable -> 3.1 union
    listing = doc["paths"]["/books"]["get"]
    assert listing["parameters"][0] == {"$ref": "#/components/parameters/limit"}
    tags = next(p for p in listing["parameters"] if p.get("name") == "tags")
    assert tags["style"] == "form" and tags["explode"] is True and tags["schema"]["items"] == {"type": "string"}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Book"}
    create = doc["paths"]["/books"]["post"]
    assert create["requestBody"]["required"] is True and "parameters" not in create
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Book"}
    cover = doc["paths"]["/books/{book_id}/cover"]["put"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert cover["properties"]["file"] == {"type": "string", "format": "binary"} and cover["required"] == ["file"]
    assert "#/definitions/" not in json.dumps(doc) and any("Swagger 2.0" in n for n in notes)
    from openapi_spec_validator import validate

    validate(doc)  # the converted document is valid OpenAPI 3.1


def test_import_infers_actions_pagination_and_maps_basic_to_a_flow(tmp_path: Path) -> None:
    source = SourceInfo(location=str(tmp_path / "shelf.json"), text=json.dumps(SWAGGER))
    imported = import_description(source, "shelf", probe=False, flow_for=flow_for)
    doc = imported.document
    assert imported.format == "Swagger 2.0" and not imported.todos
    assert doc["components"]["securitySchemes"]["basic"]["x-apiconform-auth"] == {"flow": "http-basic"}
    ops = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    assert ops["list_books"]["x-apiconform-action"] == "list"
    assert ops["create_book"]["x-apiconform-action"] == "create"
    assert ops["search_books"]["x-apiconform-action"] == "action"  # a POST to a verb is no create
    # a query sent as a POST changes nothing (the write policy lets it through); a create or bulk action does not
    assert ops["search_books"]["x-apiconform-safe"] is True and "x-apiconform-safe" not in ops["create_book"]
    assert ops["list_books"]["x-apiconform-pagination"]["style"] == "offset"
    assert any("search_books" in n or "/books/search" in n for n in imported.inferences)


def test_a_post_whose_body_carries_requests_is_never_inferred_a_create_or_a_query(tmp_path: Path) -> None:
    """A batch (`{"requests": [{"method": ..., "path": ...}]}`) addresses records in its body: at a collection-like
    path with a body, or at a query word, it would have been inferred a create or a safe query and sent under the
    write policy `own`; it is an action, marked for review, never `x-apiconform-safe`."""
    doc = json.loads(json.dumps(SWAGGER))
    sub = {"type": "object", "properties": {"method": {"type": "string"}, "path": {"type": "string", "pattern": "^/"}}}
    doc["definitions"]["Batch"] = {"type": "object", "properties": {"requests": {"type": "array", "items": sub}}}
    batch = {"parameters": [{"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Batch"}}],
             "responses": {"200": {"description": "answers"}}}
    doc["paths"]["/requests"] = {"post": {"operationId": "run_requests", **batch}}
    doc["paths"]["/books/query"] = {"post": {"operationId": "query_books", **batch}}
    imported = import_description(SourceInfo(location="x.json", text=json.dumps(doc)), "shelf", probe=False, flow_for=flow_for)
    ops = {op["operationId"]: op for item in imported.document["paths"].values() for op in item.values()}
    for name in ("run_requests", "query_books"):
        assert ops[name]["x-apiconform-action"] == "action" and "x-apiconform-safe" not in ops[name], ops[name]
    assert any("carries requests" in n for n in imported.inferences)
    assert ops["search_books"]["x-apiconform-safe"] is True  # a plain query is still one


def test_a_post_with_a_body_is_a_create_only_on_a_collection(tmp_path: Path) -> None:
    """`POST /limits/decrement-with-lease {names: [...]}` (Prefect) changes the records its body names: inferred a create
    it went out under the write policy `own`. A create is a POST on a path with an item path below it or a documented
    201; a query (`POST /books/paginate`) is an action declared safe, never a create whose answer is a record."""
    doc = json.loads(json.dumps(SWAGGER))
    body = {"parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}}],
            "responses": {"200": {"description": "ok"}}}
    doc["paths"]["/limits/decrement-with-lease"] = {"post": {"operationId": "decrement_slots", **body}}
    doc["paths"]["/books/paginate"] = {"post": {"operationId": "paginate_books", **body}}
    doc["paths"]["/shelves"] = {"post": {"operationId": "create_shelf", **body}}
    doc["paths"]["/shelves/{shelf_id}"] = {"get": {"operationId": "read_shelf", "parameters": [
        {"name": "shelf_id", "in": "path", "required": True, "type": "string"}], "responses": {"200": {"description": "ok"}}}}
    imported = import_description(SourceInfo(location="x.json", text=json.dumps(doc)), "shelf", probe=False, flow_for=flow_for)
    ops = {op["operationId"]: op for item in imported.document["paths"].values() for op in item.values()}
    assert ops["decrement_slots"]["x-apiconform-action"] == "action" and "x-apiconform-safe" not in ops["decrement_slots"]
    assert ops["paginate_books"]["x-apiconform-action"] == "action" and ops["paginate_books"]["x-apiconform-safe"] is True
    assert ops["create_shelf"]["x-apiconform-action"] == "create" and ops["create_book"]["x-apiconform-action"] == "create"


def test_an_undeclared_scheme_is_a_todo_that_contracts_check_reports(tmp_path: Path) -> None:
    bare = json.loads(json.dumps(SWAGGER))
    del bare["securityDefinitions"], bare["security"]
    imported = import_description(SourceInfo(location="x.json", text=json.dumps(bare)), "shelf", probe=False)
    assert imported.todos and "securitySchemes" in imported.todos[0]
    folder = tmp_path / "contracts" / "shelf"
    folder.mkdir(parents=True)
    (folder / "openapi.yaml").write_text(yaml.safe_dump(imported.document))
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["contracts", "check", "shelf", "--contracts", "contracts"])
    assert result.exit_code != 0 and "securitySchemes" in result.output, result.output
    # one line per fact: the import's TODO says the scheme is missing; the check does not say it again
    assert result.output.count("/components/securitySchemes") == 1, result.output


class _Guarded(JsonHandler):
    """Serves a description only with HTTP Basic (as some vendors do), and a 401 challenge elsewhere."""

    spec: bytes = b""
    token = base64.b64encode(b"reader:s3cret").decode()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/api/health":
            self._send(200, b'{"ok": true}')
        elif self.headers.get("Authorization") != f"Basic {self.token}":
            self._send(401, b'{"detail": "Unauthorized"}')
        elif self.path == "/api/openapi.json":
            self._send(200, self.spec)
        else:
            self._send(200, b"[]")


@pytest.fixture
def guarded() -> Iterator[str]:
    doc = {"openapi": "3.1.0", "info": {"title": "G", "version": "1"}, "servers": [{"url": "/api"}], "paths": {
        "/health": {"get": {"operationId": "health", "responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"type": "object"}}}}}}},
        "/things": {"get": {"operationId": "list_things", "responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}}}}
    handler = type("H", (_Guarded,), {"spec": json.dumps(doc).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/openapi.json"
    finally:
        server.shutdown()


def test_init_from_a_guarded_url_infers_basic_and_public_operations(tmp_path: Path, guarded: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with contextlib.chdir(tmp_path):
        refused = CliRunner().invoke(main, ["init", "guarded", "--from-openapi", guarded])
        assert refused.exit_code == 2 and "401" in refused.output and "--user" in refused.output
        monkeypatch.setenv("APICONFORM_SPEC_PASSWORD", "s3cret")
        result = CliRunner().invoke(main, ["init", "guarded", "--from-openapi", guarded, "--user", "reader"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "contracts" / "guarded"
    doc = yaml.safe_load((folder / "openapi.yaml").read_text())
    scheme = doc["components"]["securitySchemes"]["httpBasic"]
    assert scheme["scheme"] == "basic" and scheme["x-apiconform-auth"] == {"flow": "http-basic"}
    assert doc["security"] == [{"httpBasic": []}] and doc["paths"]["/health"]["get"]["security"] == []
    source = (folder / "SOURCE.md").read_text()
    assert "sha256:" in source and "HTTP Basic inferred (REVIEW)" in source and guarded in source
    assert "s3cret" not in source and "s3cret" not in (folder / "openapi.yaml").read_text()
    with contextlib.chdir(tmp_path):  # out of the box, green against apiconform's own mock
        gate = CliRunner().invoke(main, ["run", "guarded", "--contracts", "contracts", "--no-allure",
                                         "--max-examples", "3", "--reports-dir", str(tmp_path / "r")])
    assert gate.exit_code == 0, gate.output[-3000:]


def test_bad_sources_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("swagger: '1.2'\n")
    with contextlib.chdir(tmp_path):
        missing = CliRunner().invoke(main, ["init", "a", "--from-openapi", "nope.yaml"])
        old = CliRunner().invoke(main, ["init", "b", "--from-openapi", "x.yaml"])
    assert missing.exit_code == 2 and "nope.yaml" in missing.output and "Traceback" not in missing.output
    assert old.exit_code == 2 and "Swagger 2.0 or OpenAPI 3.0/3.1" in old.output


def test_preflight_warns_when_every_probe_is_refused(tmp_path: Path, guarded: str) -> None:
    """A contract whose security says nothing (as a vendor's own document may) against a server that refuses
    every request: the run says so before the results, instead of reporting only refusals silently."""
    base = guarded.rsplit("/", 1)[0]
    folder = tmp_path / "contracts" / "silent"
    folder.mkdir(parents=True)
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}}
    (folder / "openapi.yaml").write_text(yaml.safe_dump({
        "openapi": "3.1.0", "info": {"title": "S", "version": "1", "x-apiconform": {"vendor": "silent"}},
        "security": [], "paths": {
            "/things": {"get": {"operationId": "list_things", "x-apiconform-resource": "things",
                                "x-apiconform-action": "list", "responses": ok}},
            "/others": {"get": {"operationId": "list_others", "x-apiconform-resource": "others",
                                "x-apiconform-action": "list", "responses": ok}}}}))
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["run", "silent", "--contracts", "contracts", "--target", f"silent={base}",
                                           "--no-allure", "--max-examples", "2", "--reports-dir", str(tmp_path / "r")])
    assert "every probe was refused or redirected" in result.output, result.output[-3000:]
    assert "list_things 401" in result.output and "Traceback" not in result.output
    assert "never got a documented success" in result.output  # the summary lists what was never observed


def test_the_judge_reads_path_parameters_behind_a_base_path() -> None:
    """A target at `https://host/v1`: the sent path carries the base path before the template; the judge must
    still read the path parameters (else every valid request is judged invalid and blamed on the server)."""
    import httpx

    from apiconform.contracts import load_contract
    from apiconform.contracts._validate import from_httpx, validate_request

    contract = load_contract("eduframe")
    op = next(o for o in contract if o.path.endswith("/{id}") and o.method == "get")
    for base in ("https://api.test", "https://api.test/v1", "https://api.test/api/v2/x"):
        request = httpx.Request("GET", base + op.path.replace("{id}", "42"))
        wire = validate_request(contract, op, from_httpx(request, op))
        assert wire.path_params.get("id") == "42", (base, wire.path_params)
        assert not [v for v in wire.violations if v.location == "path"], (base, wire.violations)
