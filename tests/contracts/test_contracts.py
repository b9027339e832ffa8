"""The vendor contracts and `apiconform contracts check|list`.

* the five real contracts pass the check (Python API and CLI) and `list` shows their operation counts;
* deliberately broken copies fail with one precise line (file + JSON pointer or file:line + what),
  exit code 2 and never a traceback;
* contract hygiene the check itself does not enforce: no orphan or missing example files, errata
  recorded in SOURCE.md, every operation documents success/auth/validation responses, OpenAPI 3.1.x,
  no `allOf` combined with `additionalProperties: false`.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from apiconform.cli import main
from apiconform.contracts import (
    CheckResult,
    Envelope,
    Idempotency,
    Pagination,
    check_contract,
    list_vendors,
    load_contract,
)
from apiconform.contracts._extensions import idempotency_of, pagination_of
from tests.support.lint import LINT_GROUP, checked, share_bundled_lints

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
VENDORS = ["cofe-cms", "ctrlhub", "eduframe", "goodstack", "tesla-ce"]
# exact operation count, or the minimum for the big APIs (their docs pages list at least this many)
EXACT_OPERATIONS = {"ctrlhub": 1, "cofe-cms": 1, "goodstack": 1}
MIN_OPERATIONS = {"tesla-ce": 30, "eduframe": 116}


@pytest.fixture(autouse=True)
def _repo_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vendor names resolve to this repository's contracts wherever pytest runs from."""
    monkeypatch.setenv("APICONFORM_CONTRACTS", str(CONTRACTS))


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def raw_document(vendor: str | Path) -> dict[str, Any]:
    """The contract as written (no bundling); real vendors' documents are cached, so do not mutate those."""
    if isinstance(vendor, Path):
        return _read_yaml(vendor / "openapi.yaml")
    return _vendor_document(vendor)


def _read_yaml(file: Path) -> dict[str, Any]:
    document = yaml.load(file.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    assert isinstance(document, dict)
    return document


@functools.cache
def _vendor_document(vendor: str) -> dict[str, Any]:
    return _read_yaml(CONTRACTS / vendor / "openapi.yaml")




def walk(node: Any, ptr: str = "") -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(node, dict):
        yield node, ptr
        for key, value in node.items():
            yield from walk(value, f"{ptr}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{ptr}/{i}")


# --------------------------------------------------------------------------------------------
# The real contracts pass
# --------------------------------------------------------------------------------------------


def test_all_five_vendors_are_listed() -> None:
    assert list_vendors() == VENDORS


@LINT_GROUP
@pytest.mark.parametrize("vendor", VENDORS)
def test_check_passes(vendor: str) -> None:
    result = checked(vendor)
    assert result.problems == (), "\n".join(map(str, result.problems))
    assert result.ok
    count = result.operations
    assert count == EXACT_OPERATIONS[vendor] if vendor in EXACT_OPERATIONS else count >= MIN_OPERATIONS[vendor]
    assert len(load_contract(vendor)) == count


@LINT_GROUP
def test_cli_check_passes_for_all_vendors(monkeypatch: pytest.MonkeyPatch) -> None:
    share_bundled_lints(monkeypatch)  # the lint test_check_passes ran in this process, reported by the command
    result = cli("contracts", "check")
    assert result.exit_code == 0, result.output
    for vendor in VENDORS:
        assert re.search(rf"^{re.escape(vendor)}: ok - \d+ operations", result.output, re.M), result.output


@LINT_GROUP
def test_cli_check_names_vendors_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    share_bundled_lints(monkeypatch)
    result = cli("contracts", "check", "goodstack", str(CONTRACTS / "ctrlhub" / "openapi.yaml"), str(CONTRACTS / "tesla-ce"))
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok - ") == 3


def test_cli_list_prints_each_vendor_with_its_operation_count() -> None:
    result = cli("contracts", "list")
    assert result.exit_code == 0, result.output
    counts = {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+) operations", result.output, re.M)}
    assert sorted(counts) == VENDORS, result.output
    for vendor, count in counts.items():
        if vendor in EXACT_OPERATIONS:
            assert count == EXACT_OPERATIONS[vendor], vendor
        else:
            assert count >= MIN_OPERATIONS[vendor], vendor
        assert count == len(load_contract(vendor))


# --------------------------------------------------------------------------------------------
# Broken copies fail precisely
# --------------------------------------------------------------------------------------------


def broken_copy(tmp_path: Path, vendor: str) -> Path:
    folder = tmp_path / vendor
    shutil.copytree(CONTRACTS / vendor, folder)
    return folder


def edit(file: Path, old: str, new: str, count: int = 1) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, count), encoding="utf-8")


def assert_fails(target: str | Path, *expected: str) -> str:
    """Python API and CLI both fail with exactly one problem line containing every `expected` fragment."""
    result: CheckResult = check_contract(target)
    assert not result.ok
    assert len(result.problems) == 1, "\n".join(map(str, result.problems))
    line = str(result.problems[0])
    assert "\n" not in line
    unlined = re.sub(r"(\.ya?ml|\.json):\d+: ", r"\1: ", line)  # the line number of the pointer, when known
    if result.problems[0].file.endswith((".yaml", ".yml")) and result.problems[0].pointer.startswith("/"):
        assert result.problems[0].line, line
    for fragment in expected:
        assert fragment in unlined, f"{fragment!r} not in {line!r}"

    run = cli("contracts", "check", str(target))
    assert run.exit_code == 2, run.output
    assert line in run.stderr.splitlines(), run.output
    assert "FAILED (1 problems)" in run.stdout
    return line


POST = "/paths/~1v3~1qualification-awards/post"  # ctrlhub's only operation


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    contract = folder / "openapi.yaml"
    lines = contract.read_text(encoding="utf-8").splitlines()
    assert lines[2].startswith("  title: ")
    lines[2] = "  title: Ctrl-Hub: broken"  # line 3: "mapping values are not allowed here"
    contract.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_fails(folder, f"{contract}:3:", "invalid YAML: mapping values are not allowed")


def test_invalid_yaml_in_a_named_vendor_fails_list_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "contracts"
    folder = root / "ctrlhub"
    shutil.copytree(CONTRACTS / "ctrlhub", folder)
    edit(folder / "openapi.yaml", "openapi: 3.1.0\n", "openapi: 3.1.0\n  - x: [\n")
    monkeypatch.setenv("APICONFORM_CONTRACTS", str(root))
    run = cli("contracts", "list")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"apiconform: error: {folder / 'openapi.yaml'}:")
    assert "invalid YAML" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert_fails("ctrlhub", f"{folder / 'openapi.yaml'}:", "invalid YAML")


def test_unresolvable_ref_names_pointer_and_ref(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(
        folder / "openapi.yaml",
        "$ref: '#/components/schemas/QualificationAwardDocument'",
        "$ref: '#/components/schemas/NoSuchDocument'",
    )
    line = assert_fails(
        folder,
        str(folder / "openapi.yaml"),
        f"{POST}/responses/201/content/application~1vnd.api+json/schema/$ref",
        "unresolvable reference '#/components/schemas/NoSuchDocument'",
    )
    assert len(line) < 400  # not the validator's dump of the whole document


def test_a_broken_reference_does_not_hide_the_other_problems(tmp_path: Path) -> None:
    """Every problem in one run: a dangling `$ref` made the lint stop there (three problems took three runs)."""
    folder = broken_copy(tmp_path, "ctrlhub")
    openapi = folder / "openapi.yaml"
    edit(openapi, "$ref: '#/components/schemas/QualificationAwardDocument'", "$ref: '#/components/schemas/NoSuchDocument'")
    text = openapi.read_text(encoding="utf-8")
    edit(openapi, "type: string", "type: strng")  # the first schema typed string
    result = check_contract(folder)
    lines = [str(p) for p in result.problems]
    assert any("unresolvable reference '#/components/schemas/NoSuchDocument'" in line for line in lines), lines
    assert any("'strng' is not valid" in line for line in lines), lines
    assert all(p.line for p in result.problems if p.pointer.startswith("/")), lines
    assert text.count("type: string") >= 1


def test_unresolvable_ref_to_another_file(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(folder / "openapi.yaml", "$ref: '#/components/schemas/JsonApiErrorDocument'", "$ref: 'errors.yaml#/Error'")
    assert_fails(folder, f"{POST}/responses/400/content/application~1vnd.api+json/schema/$ref", "'errors.yaml#/Error'")


def test_example_that_no_longer_matches_names_example_file_and_pointer(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "goodstack")
    example = folder / "examples" / "create_eligibility_subscription" / "200.json"
    data = json.loads(example.read_text(encoding="utf-8"))
    data["data"]["status"] = "archived"
    example.write_text(json.dumps(data, indent=2), encoding="utf-8")
    line = assert_fails(folder, f"{example}: /data/status: ", "does not match its schema", "'archived' is not one of")
    assert line.startswith(str(example))


def test_an_inline_example_that_does_not_match_is_located_in_the_contract(tmp_path: Path) -> None:
    """An example written in the contract itself (an imported vendor's `example:`): its problem names the example's
    own place and line in the contract, then the place inside its value (it named `/id` at line 1: the pointer into
    the value only, looked up from the document root)."""
    contract = tmp_path / "openapi.yaml"
    contract.write_text("""\
openapi: 3.1.0
info: {title: acme, version: '1'}
paths:
  /things:
    get:
      operationId: list_things
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: object, properties: {id: {type: integer}}}
              example: {id: not-an-int}
        '400': {description: bad}
""", encoding="utf-8")
    line = assert_fails(contract, "/paths/~1things/get/responses/200/content/application~1json/example/id: ",
                        "does not match its schema", "'not-an-int' is not of type 'integer'")
    assert line.startswith(f"{contract}:13: "), line


def test_example_missing_a_required_field(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "goodstack")
    example = folder / "examples" / "create_eligibility_subscription" / "200.json"
    data = json.loads(example.read_text(encoding="utf-8"))
    del data["data"]["results"]["eligibilityStatus"]
    example.write_text(json.dumps(data), encoding="utf-8")
    assert_fails(folder, f"{example}: /data/results: ", "'eligibilityStatus' is a required property")


def test_stale_erratum_is_reported(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    example = folder / "examples" / "create_qualification_award" / "201.json"
    data = json.loads(example.read_text(encoding="utf-8"))
    data["included"][0]["attributes"]["email"] = "someone@example.com"  # the erratum was this email
    example.write_text(json.dumps(data), encoding="utf-8")
    assert_fails(
        folder,
        f"{folder / 'openapi.yaml'}: {POST}: ",
        "examples/create_qualification_award/201.json is marked x-erratum but validates",
    )


def test_missing_example_file(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    (folder / "examples" / "create_qualification_award" / "request.json").unlink()
    assert_fails(
        folder,
        f"{folder / 'openapi.yaml'}: {POST}/requestBody/content/application~1vnd.api+json/examples/docs/externalValue",
        "example file examples/create_qualification_award/request.json not found",
    )


def test_example_file_with_invalid_json(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    example = folder / "examples" / "create_qualification_award" / "request.json"
    example.write_text('{"data": {"type": "x",}}\n', encoding="utf-8")
    assert_fails(folder, str(example), "invalid JSON example", "line 1")


def test_lint_response_without_description(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    contract = folder / "openapi.yaml"
    document = raw_document(folder)
    del document["paths"]["/v3/qualification-awards"]["post"]["responses"]["401"]["description"]
    contract.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert_fails(folder, f"{contract}: {POST}/responses/401: ", '"description" is a required property')


def test_lint_wrong_type(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(folder / "openapi.yaml", "      requestBody:\n        required: true", "      requestBody:\n        required: yes please")
    assert_fails(folder, f"{POST}/requestBody/required: ", "is not of type", "boolean")


def test_lint_error_inside_a_schema_is_located(tmp_path: Path) -> None:
    """Schema errors come from a sub-validator with a schema-relative path; the check finds the real place."""
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(folder / "openapi.yaml", "    Uuid:\n      type: string\n", "    Uuid:\n      type: strng\n")
    assert_fails(folder, f"{folder / 'openapi.yaml'}: /components/schemas/Uuid/type: ", "'strng'")


def test_missing_x_apiconform_action(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(folder / "openapi.yaml", "      x-apiconform-action: create\n", "")
    assert_fails(folder, f"{folder / 'openapi.yaml'}: {POST}: missing x-apiconform-action")


def test_unknown_x_apiconform_action(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    edit(folder / "openapi.yaml", "      x-apiconform-action: create\n", "      x-apiconform-action: make\n")
    assert_fails(folder, f"{POST}/x-apiconform-action: 'make' is not one of list, create")


# --- typed x-apiconform-pagination / x-apiconform-idempotency ----------------------------------


def test_pagination_and_idempotency_are_read_once_into_typed_records() -> None:
    eduframe = load_contract("eduframe").operations["list_accounts"]
    assert eduframe.pagination == Pagination(style="page", default=25, max=100, link_header=True)
    assert eduframe.pagination.envelope is None and eduframe.envelope_names == Envelope()
    tesla = load_contract("tesla-ce").operations["list_providers"]
    assert tesla.pagination == Pagination(style="offset", default=100, envelope=Envelope())
    assert dict(tesla.pagination.raw)["envelope"] == {"count": "count", "next": "next", "previous": "previous",
                                                      "results": "results"}
    goodstack = load_contract("goodstack").operations["create_eligibility_subscription"]
    assert goodstack.idempotency == Idempotency(header="Idempotency-Key") and goodstack.pagination is None
    assert eduframe.idempotency is None


def test_undeclared_members_take_the_defaults_and_unknown_keys_are_kept() -> None:
    def page(raw: object) -> Pagination | None:
        return pagination_of({"x-apiconform-pagination": raw}, "f.yaml: /paths/~1x/get")

    offset = page({"style": "offset", "limit_param": "size", "envelope": {"results": "data"}})
    assert offset is not None and offset.page_size == 100 and offset.offset_param == "offset"
    assert offset.limit_param == "size" and offset.names == Envelope(results="data")
    paged = page({"style": "page", "per_page_param": "size"})
    assert paged is not None and paged.page_size == 25 and paged.page_param == "page" and not paged.link_header
    sized = page({"style": "page", "default": 10})
    assert sized == Pagination(style="page", default=10) and sized.page_size == 10
    assert page(None) is None and page({}) is None
    assert page({"style": "offset", "envelope": {}}) == Pagination(style="offset")  # an empty envelope declares none
    cursor = page({"style": "cursor", "cursor_param": "after", "max": 50})
    assert cursor is not None and cursor.style is None and cursor.max == 50
    assert cursor.raw["style"] == "cursor" and "after" in cursor.params and "per_page" in cursor.params
    assert idempotency_of({}, "f") is None and idempotency_of({"x-apiconform-idempotency": {}}, "f") is None
    assert idempotency_of({"x-apiconform-idempotency": {"ttl": 60}}, "f") == Idempotency()
    assert Idempotency().header == "Idempotency-Key"


@pytest.mark.parametrize(("extension", "expected"), [
    ("x-apiconform-pagination: {style: offset, default: lots}",
     "/x-apiconform-pagination/default: expected an integer, got 'lots'"),
    ("x-apiconform-pagination: {style: offset, limit_param: [limit]}",
     "/x-apiconform-pagination/limit_param: expected a non-empty string, got ['limit']"),
    ("x-apiconform-pagination: {style: offset, envelope: {count: 3}}",
     "/x-apiconform-pagination/envelope/count: expected a non-empty string, got 3"),
    ("x-apiconform-pagination: {style: offset, envelope: [count]}",
     "/x-apiconform-pagination/envelope: expected a mapping, got ['count']"),
    ("x-apiconform-pagination: {style: page, link_header: 1}",
     "/x-apiconform-pagination/link_header: expected true or false, got 1"),
    ("x-apiconform-pagination: page", "/x-apiconform-pagination: expected a mapping, got 'page'"),
    ("x-apiconform-idempotency: {header: 5}", "/x-apiconform-idempotency/header: expected a non-empty string, got 5"),
    ("x-apiconform-idempotency: true", "/x-apiconform-idempotency: expected a mapping, got True"),
])
def test_wrongly_typed_extension_is_one_line_naming_file_operation_and_key(
    tmp_path: Path, extension: str, expected: str
) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    action = "      x-apiconform-action: create\n"
    edit(folder / "openapi.yaml", action, f"{action}      {extension}\n")
    assert_fails(folder, f"{folder / 'openapi.yaml'}: {POST}{expected}")


def test_unknown_vendor_lists_known_vendors() -> None:
    line = assert_fails("nosuchvendor", "unknown vendor 'nosuchvendor'", "known vendors: " + ", ".join(VENDORS))
    assert line == f"unknown vendor 'nosuchvendor' (known vendors: {', '.join(VENDORS)})"


def test_path_to_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "openapi.yaml"
    assert_fails(missing, f"{missing}: contract file not found")
    assert_fails(tmp_path / "nowhere", f"{tmp_path / 'nowhere'}: contract file not found")
    (tmp_path / "empty").mkdir()
    assert_fails(tmp_path / "empty", f"{tmp_path / 'empty' / 'openapi.yaml'}: contract file not found")


def test_one_bad_target_fails_the_whole_run_but_checks_the_others() -> None:
    run = cli("contracts", "check", "goodstack", "nosuchvendor")
    assert run.exit_code == 2
    assert "goodstack: ok" in run.stdout and "nosuchvendor: FAILED (1 problems)" in run.stdout


# --------------------------------------------------------------------------------------------
# Contract hygiene
# --------------------------------------------------------------------------------------------


def example_refs(vendor: str) -> dict[str, dict[str, Any]]:
    """externalValue (relative to openapi.yaml) -> the Example Object referencing it."""
    return {
        node["externalValue"]: node
        for node, _ in walk(raw_document(vendor))
        if isinstance(node.get("externalValue"), str)
    }


@pytest.mark.parametrize("vendor", VENDORS)
def test_example_files_and_references_match(vendor: str) -> None:
    folder = CONTRACTS / vendor
    refs = set(example_refs(vendor))
    files = {p.relative_to(folder).as_posix() for p in (folder / "examples").rglob("*") if p.is_file()}
    assert all(ref.startswith("examples/") for ref in refs), sorted(r for r in refs if not r.startswith("examples/"))
    assert sorted(files - refs) == [], "orphan example files (not referenced by openapi.yaml)"
    assert sorted(refs - files) == [], "referenced example files that do not exist"


def errata_section(source: str) -> str | None:
    """The text of SOURCE.md's errata section (its heading up to the next heading of the same or higher level)."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        heading = re.match(r"^(#+)\s+.*errat", line, re.I)
        if heading:
            level = len(heading.group(1))
            end = next(
                (j for j in range(i + 1, len(lines)) if re.match(rf"^#{{1,{level}}}\s", lines[j])),
                len(lines),
            )
            return "\n".join(lines[i:end])
    return None


@LINT_GROUP
@pytest.mark.parametrize("vendor", VENDORS)
def test_source_md_records_every_erratum_example(vendor: str) -> None:
    section = errata_section((CONTRACTS / vendor / "SOURCE.md").read_text(encoding="utf-8"))
    assert section is not None, f"{vendor}/SOURCE.md has no errata section"
    errata = sorted(ref for ref, example in example_refs(vendor).items() if example.get("x-erratum"))
    # SOURCE.md may name the file with or without the `examples/` prefix
    unmentioned = [ref for ref in errata if ref.removeprefix("examples/") not in section]
    assert unmentioned == [], f"{vendor}: x-erratum examples not named in SOURCE.md's errata section"
    # every x-erratum sits where the check looks (it counts errata it validated)
    assert checked(vendor).errata == len(errata)


AUTH_FAILURES = {"401", "403", "404"}
VALIDATION_FAILURES = {"400", "422"}


def _success_ok(op: Any) -> bool:
    successes = {s: r for s, r in op.responses.items() if s.startswith("2")}
    if any(m.schema_pointer for r in successes.values() for m in r.content.values()):
        return True
    # no-content success: 204/205, or a body-less 201/202 that answers with a Location header
    return any(
        not r.content and (s in ("204", "205") or (s in ("201", "202") and "Location" in r.headers))
        for s, r in successes.items()
    )


def operation_gaps(vendor: str) -> list[str]:
    gaps: list[str] = []
    for op in load_contract(vendor):
        name = f"{op.operation_id} ({op.key})"
        statuses = set(op.responses)
        if not _success_ok(op):
            gaps.append(f"{name}: no 2xx response with a schema (responses: {sorted(statuses)})")
        if any(requirement for requirement in op.security) and not statuses & AUTH_FAILURES:
            gaps.append(f"{name}: secured but documents no 401/403/404")
        required_query = [p["name"] for p in op.parameters if p.get("in") == "query" and p.get("required")]
        if (op.request_body or required_query) and not statuses & VALIDATION_FAILURES:
            gaps.append(f"{name}: takes input but documents no 400/422")
    return gaps


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_documents_success_auth_and_validation_responses(vendor: str) -> None:
    assert operation_gaps(vendor) == []


def test_operation_gaps_are_detected(tmp_path: Path) -> None:
    folder = broken_copy(tmp_path, "ctrlhub")
    document = raw_document(folder)
    responses = document["paths"]["/v3/qualification-awards"]["post"]["responses"]
    for status in ("201", "401", "403", "400", "422"):
        del responses[status]
    responses["200"] = {"description": "no schema"}
    (folder / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    gaps = operation_gaps(str(folder))
    assert [g.split(": ")[1] for g in gaps] == [
        "no 2xx response with a schema (responses",
        "secured but documents no 401/403/404",
        "takes input but documents no 400/422",
    ]


@pytest.mark.parametrize("vendor", VENDORS)
def test_openapi_version_is_3_1(vendor: str) -> None:
    assert re.fullmatch(r"3\.1\.\d+", str(raw_document(vendor).get("openapi"))), raw_document(vendor).get("openapi")


def closed_compositions(document: dict[str, Any]) -> list[str]:
    """Schemas that combine allOf with additionalProperties: false (at the same level or in a member)."""

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target: Any = document
            for token in node["$ref"][2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    found: list[str] = []
    for node, ptr in walk(document):
        members = node.get("allOf")
        if not isinstance(members, list):
            continue
        if node.get("additionalProperties") is False:
            found.append(ptr)
        found += [f"{ptr}/allOf/{i}" for i, m in enumerate(members) if resolve(m).get("additionalProperties") is False]
    return found


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_allof_with_additional_properties_false(vendor: str) -> None:
    assert closed_compositions(raw_document(vendor)) == []


def test_closed_composition_detector() -> None:
    document = {
        "components": {
            "schemas": {
                "Closed": {"type": "object", "additionalProperties": False, "properties": {"a": {}}},
                "Both": {"allOf": [{"$ref": "#/components/schemas/Closed"}, {"properties": {"b": {}}}]},
                "Outer": {"allOf": [{"properties": {"c": {}}}], "additionalProperties": False},
                "Fine": {"allOf": [{"properties": {"d": {}}}], "unevaluatedProperties": False},
            }
        }
    }
    assert closed_compositions(document) == ["/components/schemas/Both/allOf/0", "/components/schemas/Outer"]
