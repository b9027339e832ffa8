"""`apiconform init`: a contract folder following contracts/README.md, and unsatisfiable constructs flagged."""

from __future__ import annotations

import contextlib
from pathlib import Path

import yaml
from click.testing import CliRunner

from apiconform.cli import main

VENDOR_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Acme", "version": "2"},
    "paths": {
        "/widgets": {"get": {"tags": ["widgets"], "responses": {"200": {"description": "ok"}}}},
        "/widgets/{id}": {"get": {"operationId": "get_widget", "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Widget"}}}}}}},
    },
    "components": {"schemas": {
        "Base": {"type": "object", "additionalProperties": False, "properties": {"id": {"type": "string"}}},
        "Widget": {"allOf": [{"$ref": "#/components/schemas/Base"},
                             {"type": "object", "properties": {"name": {"type": "string"}}}]},
        "Fine": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"required": ["id"]}]},
    }},
}


def _invoke(cwd: Path, *args: str):
    with contextlib.chdir(cwd):
        return CliRunner().invoke(main, ["init", *args])


def test_init_from_openapi_flags_closed_allof_and_fills_conventions(tmp_path: Path) -> None:
    spec = tmp_path / "acme.yaml"
    spec.write_text(yaml.safe_dump(VENDOR_SPEC))
    result = _invoke(tmp_path, "acme", "--from-openapi", str(spec))
    assert result.exit_code == 0, result.output
    flagged = [line for line in result.output.splitlines() if line.startswith("unsatisfiable:")]
    assert len(flagged) == 1 and "/components/schemas/Widget/allOf/0" in flagged[0] and "name" in flagged[0]
    folder = tmp_path / "contracts" / "acme"
    assert (folder / "examples").is_dir()
    doc = yaml.safe_load((folder / "openapi.yaml").read_text())
    assert doc["info"]["x-apiconform"]["vendor"] == "acme"
    listing = doc["paths"]["/widgets"]["get"]
    assert listing["operationId"] == "get_widgets" and listing["x-apiconform-action"] == "list"
    assert listing["x-apiconform-resource"] == "widgets"
    assert doc["paths"]["/widgets/{id}"]["get"]["x-apiconform-action"] == "read"
    source = (folder / "SOURCE.md").read_text()
    assert "unsatisfiable" in source and "operationId" in source and "## additionalProperties policy" in source


def test_init_skeleton_and_refusals(tmp_path: Path) -> None:
    assert _invoke(tmp_path, "newvendor").exit_code == 0
    doc = yaml.safe_load((tmp_path / "contracts" / "newvendor" / "openapi.yaml").read_text())
    assert doc["openapi"] == "3.1.0" and doc["info"]["x-apiconform"]["vendor"] == "newvendor"
    again = _invoke(tmp_path, "newvendor")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert _invoke(tmp_path, "Bad Name").exit_code == 2


def test_init_writes_into_the_configured_team_folder_or_the_one_named(tmp_path: Path) -> None:
    """`apiconform init` puts the vendor where `apiconform run` will look for it: the `contracts` config key, or
    `--contracts DIR` / `--dir DIR` as the other commands spell it."""
    (tmp_path / "apiconform.toml").write_text('contracts = "team-contracts"\n', encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["init", "acme"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "team-contracts" / "acme" / "openapi.yaml").is_file()
        assert not (tmp_path / "contracts").exists()
        result = CliRunner().invoke(main, ["init", "beta", "--contracts", "elsewhere"])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "elsewhere" / "beta" / "openapi.yaml").is_file()
