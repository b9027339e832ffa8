"""`apiconform diff`: each kind of contract change is classified as a client would experience it.

Every case starts from tests/data/diff/base (a small but complete contract), mutates one copy in one
way, loads both through the real loader and checks kind, breaking flag, category and location.
"""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner

from apiconform.cli._diff import diff as diff_command
from apiconform.contracts import load_contract
from apiconform.gate.diff import Change, DiffReport, diff_contracts, open_contract, render_markdown, render_text
from apiconform.findings import Category

BASE_DIR = Path(__file__).resolve().parents[1] / "data" / "diff" / "base"
BASE = BASE_DIR / "openapi.yaml"
REPO = Path(__file__).resolve().parents[2]
EDUFRAME = REPO / "contracts" / "eduframe" / "openapi.yaml"
_counter = itertools.count()

Doc = dict[str, Any]


# ------------------------------------------------------------------------------------------ helpers


def base_doc() -> Doc:
    return yaml.safe_load(BASE.read_text(encoding="utf-8"))


def write_contract(tmp_path: Path, doc: Doc, examples_from: Path | None = BASE_DIR) -> Path:
    """Each version in its own folder: the loader caches contracts per path."""
    folder = tmp_path / f"v{next(_counter)}"
    folder.mkdir(parents=True)
    if examples_from is not None and (examples_from / "examples").is_dir():
        shutil.copytree(examples_from / "examples", folder / "examples")
    path = folder / "openapi.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def mutated(tmp_path: Path, mutate: Callable[[Doc], None]) -> Path:
    doc = base_doc()
    mutate(doc)
    return write_contract(tmp_path, doc)


def run_diff(tmp_path: Path, mutate: Callable[[Doc], None]) -> DiffReport:
    return diff_contracts(load_contract(BASE), load_contract(mutated(tmp_path, mutate)))


def schema(doc: Doc, name: str) -> Doc:
    return doc["components"]["schemas"][name]


def account(doc: Doc) -> Doc:
    """The own (non-inherited) part of the Account schema."""
    return schema(doc, "Account")["allOf"][1]


def op(doc: Doc, path: str, method: str) -> Doc:
    return doc["paths"][path][method]


def find(report: DiffReport, kind: str, operation: str | None = None) -> list[Change]:
    return [c for c in report.changes if c.kind == kind and (operation is None or c.operation == operation)]


# --------------------------------------------------------------------------------------- mutations


def remove_operation(d: Doc) -> None:
    del d["paths"]["/accounts/{id}"]["delete"]


def add_operation(d: Doc) -> None:
    d["paths"]["/accounts/{id}"]["patch"] = {
        "operationId": "update_account",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }


def move_operation(d: Doc) -> None:
    item = d["paths"]["/accounts/{id}"]
    d["paths"]["/users/{id}"] = {"parameters": item["parameters"], "get": item.pop("get")}


def change_verb(d: Doc) -> None:
    d["paths"]["/accounts/{id}"]["post"] = d["paths"]["/accounts/{id}"].pop("delete")


def remove_response_field(d: Doc) -> None:
    del account(d)["properties"]["balance"]


def rename_response_field(d: Doc) -> None:
    props = account(d)["properties"]
    props["display_name"] = props.pop("name")
    account(d)["required"] = ["display_name", "account_type", "created_at"]


def retype_response_field(d: Doc) -> None:
    account(d)["properties"]["balance"] = {"type": "string"}


def response_field_nullable(d: Doc) -> None:
    account(d)["properties"]["name"] = {"type": ["string", "null"]}


def response_field_not_nullable(d: Doc) -> None:
    account(d)["properties"]["email"] = {"type": "string", "format": "email"}


def add_response_field(d: Doc) -> None:
    account(d)["properties"]["nickname"] = {"type": "string"}


def response_field_optional(d: Doc) -> None:
    account(d)["required"] = ["name", "account_type"]


def add_response_enum_value(d: Doc) -> None:
    account(d)["properties"]["account_type"]["enum"].append("government")


def remove_response_enum_value(d: Doc) -> None:
    account(d)["properties"]["account_type"]["enum"].remove("company")


def remove_request_enum_value(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["account_type"]["enum"].remove("company")


def add_request_enum_value(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["account_type"]["enum"].append("government")


def remove_param_enum_value(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"][2]["schema"]["enum"] = ["active"]


def request_field_required(d: Doc) -> None:
    schema(d, "AccountCreate")["required"] = ["name", "email"]


def request_field_added_required(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["currency"] = {"type": "string"}
    schema(d, "AccountCreate")["required"] = ["name", "currency"]


def request_field_added_optional(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["currency"] = {"type": "string"}


def request_field_removed(d: Doc) -> None:
    del schema(d, "AccountCreate")["properties"]["tags"]


def request_field_optional(d: Doc) -> None:
    schema(d, "AccountCreate")["required"] = []


def request_field_retyped(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["quantity"] = {"type": "string"}


def request_field_widened(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["quantity"] = {"type": "number"}


def request_array_item_retyped(d: Doc) -> None:
    schema(d, "AccountCreate")["properties"]["tags"]["items"] = {"type": "integer"}


def required_param_added(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"].append(
        {"name": "org", "in": "query", "required": True, "schema": {"type": "string"}}
    )


def optional_param_added(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"].append({"name": "q", "in": "query", "schema": {"type": "string"}})


def param_removed(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"].pop(2)


def param_required(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"][2]["required"] = True


def param_retyped(d: Doc) -> None:
    op(d, "/accounts", "get")["parameters"][0]["schema"] = {"type": "string"}


def success_status_changed(d: Doc) -> None:
    responses = op(d, "/accounts", "post")["responses"]
    responses["200"] = responses.pop("201")


def success_status_removed(d: Doc) -> None:
    responses = op(d, "/accounts/{id}", "delete")["responses"]
    del responses["204"]


def status_added(d: Doc) -> None:
    op(d, "/accounts/{id}", "delete")["responses"]["404"] = {
        "description": "Not found",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def error_shape_changed(d: Doc) -> None:
    schema(d, "Error")["properties"]["error"]["properties"]["code"] = {"type": "integer"}


def error_field_removed(d: Doc) -> None:
    err = schema(d, "Error")
    err["properties"] = {"message": {"type": "string"}}
    err["required"] = ["message"]


def pagination_style_changed(d: Doc) -> None:
    op(d, "/accounts", "get")["x-apiconform-pagination"] = {
        "style": "cursor", "cursor_param": "after", "per_page_param": "per_page", "default": 25, "max": 100,
    }


def pagination_envelope_changed(d: Doc) -> None:
    get = op(d, "/accounts/{id}/notes", "get")
    get["x-apiconform-pagination"]["envelope"]["results"] = "data"
    body = get["responses"]["200"]["content"]["application/json"]["schema"]
    body["properties"]["data"] = body["properties"].pop("results")
    body["required"] = ["count", "next", "previous", "data"]


def list_became_enveloped(d: Doc) -> None:
    body = op(d, "/accounts", "get")["responses"]["200"]["content"]["application/json"]
    body["schema"] = {"type": "object", "properties": {"data": body["schema"]}}


def operation_auth_changed(d: Doc) -> None:
    op(d, "/accounts", "get")["security"] = [{"apiKey": []}]


def public_operation_needs_auth(d: Doc) -> None:
    del op(d, "/health", "get")["security"]


def security_scheme_changed(d: Doc) -> None:
    d["components"]["securitySchemes"]["bearer"] = {"type": "apiKey", "in": "query", "name": "token"}


def response_content_type_removed(d: Doc) -> None:
    content = op(d, "/accounts/{id}", "get")["responses"]["200"]["content"]
    content["application/xml"] = content.pop("application/json")


def request_content_type_removed(d: Doc) -> None:
    content = op(d, "/accounts", "post")["requestBody"]["content"]
    content["multipart/form-data"] = content.pop("application/json")


def inherited_field_removed(d: Doc) -> None:
    schema(d, "Identified")["properties"]["uuid"] = {"type": "string", "format": "uuid"}
    schema(d, "Identified")["required"] = ["uuid"]
    del schema(d, "Identified")["properties"]["id"]


def nested_recursive_field_retyped(d: Doc) -> None:
    account(d)["properties"]["address"]["properties"]["city"] = {"type": "integer"}


# (mutation, kind, breaking, category, operation, location)
CASES: list[tuple[Callable[[Doc], None], str, bool, Category | None, str, str]] = [
    (remove_operation, "operation-removed", True, None, "delete_account", "DELETE /accounts/{id}"),
    (add_operation, "operation-added", False, None, "update_account", "PATCH /accounts/{id}"),
    (move_operation, "operation-moved", True, None, "read_account", "GET /users/{id}"),
    (change_verb, "operation-moved", True, None, "delete_account", "POST /accounts/{id}"),
    (remove_response_field, "response-field-removed", True, Category.REQUIRED_FIELD, "list_accounts",
     "GET /accounts 200 application/json #/items/balance"),
    (rename_response_field, "response-field-renamed", True, Category.REQUIRED_FIELD, "read_account",
     "GET /accounts/{id} 200 application/json #/name"),
    (retype_response_field, "response-field-retyped", True, Category.FIELD_TYPE, "list_accounts",
     "GET /accounts 200 application/json #/items/balance"),
    (response_field_nullable, "response-field-nullable", True, Category.FIELD_TYPE, "read_account",
     "GET /accounts/{id} 200 application/json #/name"),
    (response_field_not_nullable, "response-field-not-nullable", False, Category.FIELD_TYPE, "read_account",
     "GET /accounts/{id} 200 application/json #/email"),
    (add_response_field, "response-field-added", False, None, "read_account",
     "GET /accounts/{id} 200 application/json #/nickname"),
    (response_field_optional, "response-field-optional", True, Category.REQUIRED_FIELD, "create_account",
     "POST /accounts 201 application/json #/created_at"),
    (add_response_enum_value, "response-enum-value-added", True, Category.ENUM, "list_accounts",
     "GET /accounts 200 application/json #/items/account_type"),
    (remove_response_enum_value, "response-enum-value-removed", False, Category.ENUM, "list_accounts",
     "GET /accounts 200 application/json #/items/account_type"),
    (remove_request_enum_value, "request-enum-value-removed", True, Category.ENUM, "create_account",
     "POST /accounts request application/json #/account_type"),
    (add_request_enum_value, "request-enum-value-added", False, Category.ENUM, "create_account",
     "POST /accounts request application/json #/account_type"),
    (remove_param_enum_value, "request-enum-value-removed", True, Category.ENUM, "list_accounts",
     "GET /accounts query:status #"),
    (request_field_required, "request-field-required", True, Category.REQUIRED_FIELD, "create_account",
     "POST /accounts request application/json #/email"),
    (request_field_added_required, "request-field-added-required", True, Category.REQUIRED_FIELD, "create_account",
     "POST /accounts request application/json #/currency"),
    (request_field_added_optional, "request-field-added", False, None, "create_account",
     "POST /accounts request application/json #/currency"),
    (request_field_removed, "request-field-removed", False, None, "create_account",
     "POST /accounts request application/json #/tags"),
    (request_field_optional, "request-field-optional", False, Category.REQUIRED_FIELD, "create_account",
     "POST /accounts request application/json #/name"),
    (request_field_retyped, "request-field-retyped", True, Category.FIELD_TYPE, "create_account",
     "POST /accounts request application/json #/quantity"),
    (request_field_widened, "request-field-retyped", False, Category.FIELD_TYPE, "create_account",
     "POST /accounts request application/json #/quantity"),
    (request_array_item_retyped, "request-field-retyped", True, Category.FIELD_TYPE, "create_account",
     "POST /accounts request application/json #/tags/items"),
    (required_param_added, "parameter-added-required", True, Category.REQUIRED_FIELD, "list_accounts",
     "GET /accounts query:org"),
    (optional_param_added, "parameter-added", False, None, "list_accounts", "GET /accounts query:q"),
    (param_removed, "parameter-removed", False, None, "list_accounts", "GET /accounts query:status"),
    (param_required, "parameter-required", True, Category.REQUIRED_FIELD, "list_accounts",
     "GET /accounts query:status"),
    (param_retyped, "request-field-retyped", True, Category.FIELD_TYPE, "list_accounts", "GET /accounts query:page #"),
    (success_status_changed, "success-status-changed", True, Category.STATUS_CODE, "create_account",
     "POST /accounts 201"),
    (success_status_removed, "success-status-removed", True, Category.STATUS_CODE, "delete_account",
     "DELETE /accounts/{id} 204"),
    (status_added, "status-added", False, Category.STATUS_CODE, "delete_account", "DELETE /accounts/{id} 404"),
    (error_shape_changed, "response-field-retyped", True, Category.ERROR_SHAPE, "read_account",
     "GET /accounts/{id} 404 application/json #/error/code"),
    (error_field_removed, "response-field-removed", True, Category.ERROR_SHAPE, "list_accounts",
     "GET /accounts 401 application/json #/error"),
    (pagination_style_changed, "pagination-changed", True, Category.PAGINATION, "list_accounts",
     "GET /accounts x-apiconform-pagination"),
    (pagination_envelope_changed, "pagination-changed", True, Category.PAGINATION, "list_notes",
     "GET /accounts/{id}/notes x-apiconform-pagination"),
    (pagination_envelope_changed, "response-field-renamed", True, Category.PAGINATION, "list_notes",
     "GET /accounts/{id}/notes 200 application/json #/results"),
    (list_became_enveloped, "response-field-retyped", True, Category.PAGINATION, "list_accounts",
     "GET /accounts 200 application/json #"),
    (operation_auth_changed, "auth-changed", True, Category.AUTH, "list_accounts", "GET /accounts security"),
    (public_operation_needs_auth, "auth-changed", True, Category.AUTH, "health", "GET /health security"),
    (security_scheme_changed, "security-scheme-changed", True, Category.AUTH, "",
     "#/components/securitySchemes/bearer"),
    (response_content_type_removed, "response-content-type-removed", True, Category.CONTENT_TYPE, "read_account",
     "GET /accounts/{id} 200 application/json"),
    (response_content_type_removed, "response-content-type-added", False, Category.CONTENT_TYPE, "read_account",
     "GET /accounts/{id} 200 application/xml"),
    (request_content_type_removed, "request-content-type-removed", True, Category.CONTENT_TYPE, "create_account",
     "POST /accounts request application/json"),
    (inherited_field_removed, "response-field-removed", True, Category.REQUIRED_FIELD, "read_account",
     "GET /accounts/{id} 200 application/json #/id"),
    (nested_recursive_field_retyped, "response-field-retyped", True, Category.FIELD_TYPE, "read_account",
     "GET /accounts/{id} 200 application/json #/address/city"),
]


@pytest.mark.parametrize(
    ("mutate", "kind", "breaking", "category", "operation", "location"),
    CASES,
    ids=[f"{case[0].__name__}-{case[1]}" for case in CASES],
)
def test_change_is_classified(
    tmp_path: Path,
    mutate: Callable[[Doc], None],
    kind: str,
    breaking: bool,
    category: Category | None,
    operation: str,
    location: str,
) -> None:
    report = run_diff(tmp_path, mutate)
    matches = [c for c in find(report, kind, operation) if c.location == location]
    assert matches, f"no {kind} at {location!r} in:\n" + render_text(report)
    change = matches[0]
    assert change.breaking is breaking
    assert change.category == category
    assert report.has_breaking is (breaking or any(c.breaking for c in report.changes))


# -------------------------------------------------------------------------------- precise expectations


def test_unchanged_contract_has_no_changes(tmp_path: Path) -> None:
    copy_path = write_contract(tmp_path, base_doc())
    report = diff_contracts(load_contract(BASE), load_contract(copy_path))
    assert report.changes == []
    assert not report.has_breaking


def test_removed_operation_is_the_only_change(tmp_path: Path) -> None:
    report = run_diff(tmp_path, remove_operation)
    changes = [(c.kind, c.breaking, c.operation) for c in report.changes]
    assert changes == [("operation-removed", True, "delete_account")]


def test_shared_schema_change_is_reported_for_every_operation_using_it(tmp_path: Path) -> None:
    report = run_diff(tmp_path, add_response_enum_value)
    assert {c.kind for c in report.changes} == {"response-enum-value-added"}
    assert {c.operation for c in report.changes} == {"list_accounts", "create_account", "read_account"}
    assert all(c.new == "government" and c.old is None for c in report.changes)


def test_rename_is_one_change_not_removed_plus_added(tmp_path: Path) -> None:
    report = run_diff(tmp_path, rename_response_field)
    read = [c for c in report.changes if c.operation == "read_account"]
    assert [(c.kind, c.old, c.new) for c in read] == [("response-field-renamed", "name", "display_name")]


def test_removed_and_added_fields_of_different_types_are_not_a_rename(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        props = account(d)["properties"]
        del props["balance"]  # number
        props["nickname"] = {"type": "string"}

    kinds = {c.kind for c in run_diff(tmp_path, mutate).changes if c.operation == "read_account"}
    assert kinds == {"response-field-removed", "response-field-added"}


def test_path_parameter_rename_keeps_the_url(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        item = d["paths"].pop("/accounts/{id}")
        item["parameters"][0]["name"] = "account_id"
        d["paths"]["/accounts/{account_id}"] = item

    report = run_diff(tmp_path, mutate)
    assert not report.has_breaking, render_text(report)
    assert {c.kind for c in report.changes} == {"path-parameter-renamed"}


def test_operation_matched_by_path_when_operation_id_renamed(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        op(d, "/accounts/{id}", "delete")["operationId"] = "remove_account"

    report = run_diff(tmp_path, mutate)
    assert [(c.kind, c.breaking) for c in report.changes] == [("operation-id-changed", False)]


def test_read_only_field_is_not_required_in_requests(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        create = schema(d, "AccountCreate")
        create["properties"]["id"] = {"type": "integer", "readOnly": True}
        create["required"] = ["name", "id"]

    assert run_diff(tmp_path, mutate).changes == []


def test_closed_request_body_makes_field_removal_breaking(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        request_field_removed(d)
        schema(d, "AccountCreate")["additionalProperties"] = False

    [change] = find(run_diff(tmp_path, mutate), "request-field-removed")
    assert change.breaking


def test_oneof_null_branch_counts_as_nullable(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        account(d)["properties"]["parent"] = {"$ref": "#/components/schemas/Account"}

    changes = find(run_diff(tmp_path, mutate), "response-field-not-nullable", "read_account")
    assert [c.location for c in changes] == ["GET /accounts/{id} 200 application/json #/parent"]
    assert not changes[0].breaking


def test_recursive_schema_change_found_once_per_level(tmp_path: Path) -> None:
    """Account.parent is an Account: the walk must terminate and report the top-level occurrence."""
    report = run_diff(tmp_path, retype_response_field)
    read = [c.location for c in report.changes if c.operation == "read_account"]
    assert read == ["GET /accounts/{id} 200 application/json #/balance"]


def test_pagination_default_and_max(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        pagination = op(d, "/accounts", "get")["x-apiconform-pagination"]
        pagination["max"] = 200
        pagination["default"] = 50

    report = run_diff(tmp_path, mutate)
    assert [(c.kind, c.breaking) for c in report.changes] == [
        ("pagination-default-changed", True),
        ("pagination-max-changed", False),
    ]


def test_auth_relaxed_is_not_breaking(tmp_path: Path) -> None:
    def mutate(d: Doc) -> None:
        op(d, "/accounts", "get")["security"] = [{"bearer": []}, {"apiKey": []}]

    [change] = run_diff(tmp_path, mutate).changes
    assert (change.kind, change.breaking, change.category) == ("auth-relaxed", False, Category.AUTH)


def test_openapi_30_nullable_is_understood(tmp_path: Path) -> None:
    def doc30(nullable: bool) -> Doc:
        name = {"type": "string", "nullable": True} if nullable else {"type": "string"}
        return {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/x": {"get": {"operationId": "get_x", "responses": {"200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"type": "object", "properties": {"name": name}}}},
            }}}}},
        }

    old = load_contract(write_contract(tmp_path, doc30(False), None))
    new = load_contract(write_contract(tmp_path, doc30(True), None))
    [change] = diff_contracts(old, new).changes
    assert (change.kind, change.breaking) == ("response-field-nullable", True)


# ---------------------------------------------------------------------------------------------- CLI


def cli(*args: str) -> Any:
    return CliRunner().invoke(diff_command, list(args))


def test_cli_unchanged_exit_0(tmp_path: Path) -> None:
    result = cli(str(BASE), str(write_contract(tmp_path, base_doc())))
    assert result.exit_code == 0, result.output
    assert "0 breaking, 0 non-breaking" in result.output


def test_cli_breaking_exit_1(tmp_path: Path) -> None:
    result = cli(str(BASE), str(mutated(tmp_path, add_response_enum_value)))
    assert result.exit_code == 1, result.output
    assert "BREAKING" in result.output and "response-enum-value-added" in result.output


def test_cli_non_breaking_only_exit_0(tmp_path: Path) -> None:
    result = cli(str(BASE), str(mutated(tmp_path, add_response_field)))
    assert result.exit_code == 0, result.output
    assert "NON-BREAKING" in result.output and "response-field-added" in result.output


def test_cli_json_is_stable(tmp_path: Path) -> None:
    new = mutated(tmp_path, remove_operation)
    result = cli("--format", "json", str(BASE), str(new))
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert list(data) == ["old", "new", "summary", "changes"]
    assert data["summary"] == {"breaking": 1, "non_breaking": 0}
    assert data["old"] == str(BASE) and data["new"] == str(new)
    keys = ["kind", "breaking", "category", "operation", "location", "old", "new", "message"]
    assert list(data["changes"][0]) == keys
    assert data["changes"][0]["kind"] == "operation-removed"


def test_cli_markdown_to_file(tmp_path: Path) -> None:
    out = tmp_path / "diff.md"
    result = cli("--format", "md", "--output", str(out), str(BASE), str(mutated(tmp_path, error_shape_changed)))
    assert result.exit_code == 1
    text = out.read_text()
    assert text.startswith("# Contract diff")
    assert "| response-field-retyped | error-shape |" in text
    assert "-> " + str(out) in result.output


def test_cli_missing_contract_exit_2(tmp_path: Path) -> None:
    result = cli(str(BASE), str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert result.output.strip().startswith("apiconform: error:")
    assert len(result.output.strip().splitlines()) == 1


def test_cli_bad_contract_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 2.0\n")
    assert cli(str(BASE), str(bad)).exit_code == 2


def test_cli_bad_format_exit_2() -> None:
    assert cli("--format", "xml", str(BASE), str(BASE)).exit_code == 2


def test_renderers_handle_empty_report() -> None:
    report = DiffReport(old="a", new="b")
    assert "no changes" in render_text(report)
    assert "No changes." in render_markdown(report)


# ---------------------------------------------------------------------------------------------- git


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True,
    )


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    root = tmp_path / "repo"
    folder = root / "contracts" / "acme"
    folder.mkdir(parents=True)
    shutil.copytree(BASE_DIR / "examples", folder / "examples")
    shutil.copy(BASE, folder / "openapi.yaml")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "v1")
    return root


def test_git_revision_against_working_tree(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    contract = repo / "contracts" / "acme" / "openapi.yaml"
    doc = base_doc()
    remove_operation(doc)
    contract.write_text(yaml.safe_dump(doc, sort_keys=False))
    monkeypatch.chdir(repo)
    monkeypatch.setenv("APICONFORM_CONTRACTS", str(repo / "contracts"))
    for old in ("acme@HEAD", "contracts/acme/openapi.yaml@HEAD", "contracts/acme@HEAD"):
        result = cli("--format", "json", old, "acme")
        assert result.exit_code == 1, result.output
        assert [c["kind"] for c in json.loads(result.output)["changes"]] == ["operation-removed"]


def test_git_revision_without_example_files(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Examples missing at a revision must not stop a schema diff."""
    _git(repo, "rm", "-q", "-r", "contracts/acme/examples")
    _git(repo, "commit", "-q", "-m", "drop examples")
    monkeypatch.chdir(repo)
    with open_contract("contracts/acme/openapi.yaml@HEAD") as old, open_contract(str(BASE)) as new:
        assert diff_contracts(old, new).changes == []


def test_git_unknown_revision_exit_2(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    result = cli("contracts/acme/openapi.yaml@no-such-rev", "contracts/acme/openapi.yaml")
    assert result.exit_code == 2
    assert "unknown git revision" in result.output


def test_git_file_absent_at_revision_exit_2(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    result = cli("contracts/other/openapi.yaml@HEAD", "contracts/acme/openapi.yaml")
    assert result.exit_code == 2
    assert "does not exist at revision" in result.output


# ---------------------------------------------------------------------------- real vendor contract


@pytest.mark.skipif(not EDUFRAME.is_file(), reason="contracts/eduframe/openapi.yaml not written yet")
def test_eduframe_mutations_found_exactly(tmp_path: Path) -> None:
    base = load_contract(EDUFRAME)
    doc = yaml.safe_load(EDUFRAME.read_text(encoding="utf-8"))
    folder = tmp_path / "eduframe"
    shutil.copytree(EDUFRAME.parent, folder)
    mutated_doc = copy.deepcopy(doc)

    # 1. remove one operation (the last one, so nothing else depends on its position)
    ops = [(p, m) for p, item in doc["paths"].items() for m in item if m in ("get", "post", "put", "patch", "delete")]
    victim_path, victim_method = ops[-1]
    victim = doc["paths"][victim_path][victim_method]["operationId"]
    del mutated_doc["paths"][victim_path][victim_method]
    if not any(k in ("get", "post", "put", "patch", "delete") for k in mutated_doc["paths"][victim_path]):
        del mutated_doc["paths"][victim_path]

    # 2./3. in one component schema used by responses: add an enum value, retype a string field
    enum_target = retype_target = None
    for name, sch in doc.get("components", {}).get("schemas", {}).items():
        for field, prop in (sch.get("properties") or {}).items():
            if enum_target is None and isinstance(prop.get("enum"), list) and prop.get("type") == "string":
                enum_target = (name, field)
            elif retype_target is None and prop == {"type": "string"} and name != (enum_target or ("",))[0]:
                retype_target = (name, field)
    if enum_target is None or retype_target is None:
        pytest.skip("eduframe contract has no plain string enum / string field in a component schema")
    props = mutated_doc["components"]["schemas"][enum_target[0]]["properties"]
    props[enum_target[1]]["enum"] = [*props[enum_target[1]]["enum"], "zz_new_value"]
    mutated_doc["components"]["schemas"][retype_target[0]]["properties"][retype_target[1]] = {"type": "integer"}

    (folder / "openapi.yaml").write_text(yaml.safe_dump(mutated_doc, sort_keys=False), encoding="utf-8")
    report = diff_contracts(base, load_contract(folder / "openapi.yaml"))

    removed = find(report, "operation-removed")
    assert [c.operation for c in removed] == [victim]
    others = [c for c in report.changes if c.kind != "operation-removed"]
    for change in others:
        leaf = change.location.rsplit("/", 1)[-1]
        if change.kind.endswith("enum-value-added"):
            assert leaf == enum_target[1] and change.new == "zz_new_value"
            assert change.breaking is change.kind.startswith("response")
        else:
            assert change.kind.endswith("field-retyped"), change
            assert leaf == retype_target[1] and (change.old, change.new) == ("string", "integer")
    kinds = {c.kind for c in others}
    assert kinds & {"response-enum-value-added", "request-enum-value-added"}
    assert kinds & {"response-field-retyped", "request-field-retyped"}
    assert report.has_breaking
