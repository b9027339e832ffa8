"""`apiconform init VENDOR [--from-openapi FILE|URL]`: scaffold a contract folder the way contracts/README.md says.

From a vendor's published description (Swagger 2.0, OpenAPI 3.0 or 3.1; `apiconform.contracts._import`) it
writes an OpenAPI 3.1 contract with the `x-apiconform-*` extensions it can infer, security schemes mapped to
auth flows (or a TODO that `contracts check` reports), and a SOURCE.md naming the source, its digest and
every inference; it flags constructs no faithful server can satisfy.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import yaml

from apiconform.contracts._import import Imported, SourceInfo, fetch_description, import_description, scaffold, unsatisfiable
from apiconform.errors import UsageError

__all__ = ["init", "scaffold", "unsatisfiable"]

_VENDOR = re.compile(r"^[a-z0-9][a-z0-9-]*$")


_SKELETON = """openapi: 3.1.0
info:
  title: {vendor} API
  version: "1"
  description: Contract for {vendor}, written from the vendor's documentation (see SOURCE.md).
  x-apiconform:
    vendor: {vendor}
    docs: ""   # the docs page this contract is written from
servers:
  - url: https://api.example.invalid   # the vendor's documented production base URL
paths: {{}}
components:
  schemas: {{}}
"""

_SOURCE = """# {vendor}: sources

## Provenance
{provenance}

## Inferences (REVIEW each: they are guesses from the document and the server, not the vendor's word)
{inferences}

## TODO before the gate can be trusted
{todos}

## Conversion
{conversion}

## Doc errata and unsatisfiable constructs
{errata}

## additionalProperties policy
Response objects stay open (`additionalProperties` not set) unless the docs promise a closed shape.
"""


def _provenance(source: SourceInfo, imported: Imported) -> str:
    info = imported.document.get("info") or {}
    lines = [f"- source: `{source.location}` ({imported.format}; `info.version` {info.get('version')!r}, "
             f"title {info.get('title')!r})",
             f"- digest: `{source.digest}` ({len(source.text)} characters as served)",
             "- imported with `apiconform init --from-openapi`; check it against the vendor's docs"]
    if source.fetched:
        lines.insert(1, f"- fetched: {source.fetched}" + (" with HTTP Basic credentials (refused without)"
                                                          if source.auth_required else ""))
    return "\n".join(lines)


def _credentials(user: str | None) -> tuple[str | None, str | None]:
    if user is None:
        return None, None
    name, sep, password = user.partition(":")
    return name, password if sep else os.environ.get("APICONFORM_SPEC_PASSWORD", "")


def _bullets(lines: list[str], empty: str) -> str:
    return "\n".join(f"- {n}" for n in lines) or f"- {empty}"


@click.command("init")
@click.argument("vendor")
@click.option("--from-openapi", "source", default=None, metavar="FILE|URL",
              help="start from the vendor's published description: Swagger 2.0, OpenAPI 3.0 or 3.1 (YAML or JSON), "
                   "a file or an http(s) URL")
@click.option("--user", default=None, metavar="USER[:PASSWORD]",
              help="HTTP Basic credentials for a URL that refuses anonymous requests (the password defaults to "
                   "$APICONFORM_SPEC_PASSWORD); never written anywhere")
@click.option("--no-probe", is_flag=True, default=False,
              help="a URL source: do not GET the documented parameterless operations without credentials to learn "
                   "how the server authenticates")
@click.option("--dir", "--contracts", "root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="contracts folder to create VENDOR/ in (default: the `contracts` config key, else ./contracts)")
def init(vendor: str, source: str | None, user: str | None, no_probe: bool, root: Path | None) -> None:
    """Scaffold contracts/VENDOR/ (openapi.yaml, examples/, SOURCE.md) following contracts/README.md."""
    if root is None:  # where `apiconform run` will look for the team's vendors
        from apiconform.config import contracts_setting

        root = contracts_setting(Path.cwd())[0] or Path("contracts")
    if not _VENDOR.match(vendor):
        raise UsageError(f"init: vendor name {vendor!r} must be lowercase letters, digits and '-' (the folder name)")
    folder = root / vendor
    if folder.exists():
        raise UsageError(f"init: {folder} already exists; not overwriting it")
    imported: Imported | None = None
    if source is None:
        text = _SKELETON.format(vendor=vendor)
        provenance = "- (which docs page, which date)"
    else:
        name, password = _credentials(user)
        fetched = fetch_description(source, user=name, password=password)
        from apiconform.auth import flow_for

        imported = import_description(fetched, vendor, probe=not no_probe, flow_for=flow_for)
        text = yaml.safe_dump(json.loads(json.dumps(imported.document)), sort_keys=False, allow_unicode=True)
        provenance = _provenance(fetched, imported)
    folder.mkdir(parents=True)
    (folder / "examples").mkdir()
    (folder / "openapi.yaml").write_text(text, encoding="utf-8")
    notes = imported.inferences if imported else []
    problems = imported.problems if imported else []
    todos = imported.todos if imported else []
    (folder / "SOURCE.md").write_text(_SOURCE.format(
        vendor=vendor, provenance=provenance, inferences=_bullets(notes, "none yet"),
        todos=_bullets(todos, "none found"), conversion=_bullets(imported.conversion if imported else [], "none"),
        errata=_bullets(problems, "none found yet")), encoding="utf-8")
    for line in problems:
        click.echo(f"unsatisfiable: {line}" if "unsatisfiable" in line else f"erratum: {line}")
    for line in todos:
        click.echo(f"todo: {line}")
    fmt = f" from {imported.format}" if imported else ""
    click.echo(f"wrote {folder}/ (openapi.yaml, SOURCE.md, examples/){fmt}: {len(notes)} inferences to review, "
               f"{len(problems)} errata/unsatisfiable constructs, {len(todos)} TODOs; "
               f"next: apiconform contracts check {folder / 'openapi.yaml'}")
