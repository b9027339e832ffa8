"""`apiconform init VENDOR [--from-openapi FILE]`: scaffold a contract folder the way contracts/README.md says.

From a vendor's published OpenAPI document it also fills the `x-apiconform-*` operation extensions it can
infer (and says so in SOURCE.md), and flags constructs no faithful server can satisfy, such as an `allOf`
whose branch closes the object (`additionalProperties: false`) while another branch adds properties.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import yaml

from apiconform.contracts._pointer import split, walk
from apiconform.errors import UsageError

_METHODS = ("get", "put", "post", "delete", "patch")
_VENDOR = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _resolve(document: dict[str, Any], node: Any) -> Any:
    """A local `#/...` reference, followed once (remote references stay as they are)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = document
        for part in split(node["$ref"][1:]):
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        return target
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


def _action(method: str, path: str) -> str:
    item = path.rstrip("/").endswith("}")
    return {("get", False): "list", ("get", True): "read", ("post", False): "create", ("put", True): "replace",
            ("patch", True): "update", ("delete", True): "delete"}.get((method, item), "action")


def _resource(path: str, operation: dict[str, Any]) -> str:
    tags = operation.get("tags") or []
    if tags:
        return str(tags[0])
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    return parts[-1] if parts else "root"


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
            if "x-apiconform-resource" not in operation:
                operation["x-apiconform-resource"] = _resource(path, operation)
                notes.append(f"{where}: x-apiconform-resource inferred as {operation['x-apiconform-resource']!r}")
            if "x-apiconform-action" not in operation:
                operation["x-apiconform-action"] = _action(method, path)
                notes.append(f"{where}: x-apiconform-action inferred as {operation['x-apiconform-action']!r}")
    return document, notes


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

## Inferences
{inferences}

## Doc errata and unsatisfiable constructs
{errata}

## additionalProperties policy
Response objects stay open (`additionalProperties` not set) unless the docs promise a closed shape.
"""


@click.command("init")
@click.argument("vendor")
@click.option("--from-openapi", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="start from the vendor's published OpenAPI document (YAML or JSON)")
@click.option("--dir", "--contracts", "root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="contracts folder to create VENDOR/ in (default: the `contracts` config key, else ./contracts)")
def init(vendor: str, source: Path | None, root: Path | None) -> None:
    """Scaffold contracts/VENDOR/ (openapi.yaml, examples/, SOURCE.md) following contracts/README.md."""
    if root is None:  # where `apiconform run` will look for the team's vendors
        from apiconform.config import contracts_setting

        root = contracts_setting(Path.cwd())[0] or Path("contracts")
    if not _VENDOR.match(vendor):
        raise UsageError(f"init: vendor name {vendor!r} must be lowercase letters, digits and '-' (the folder name)")
    folder = root / vendor
    if folder.exists():
        raise UsageError(f"init: {folder} already exists; not overwriting it")
    notes: list[str] = []
    problems: list[str] = []
    if source is None:
        text = _SKELETON.format(vendor=vendor)
        provenance = "- (which docs page, which date)"
    else:
        try:
            document = yaml.safe_load(source.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise UsageError(f"{source}: not YAML or JSON: {str(exc).splitlines()[0]}") from None
        if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
            raise UsageError(f"{source}: /openapi: expected an OpenAPI 3.x document")
        problems = [f"{source}: {p}" for p in unsatisfiable(document)]
        document, notes = scaffold(document, vendor)
        text = yaml.safe_dump(json.loads(json.dumps(document)), sort_keys=False, allow_unicode=True)
        provenance = f"- started from `{source.name}` (`apiconform init --from-openapi`); check it against the docs"
    folder.mkdir(parents=True)
    (folder / "examples").mkdir()
    (folder / "openapi.yaml").write_text(text, encoding="utf-8")
    (folder / "SOURCE.md").write_text(_SOURCE.format(
        vendor=vendor, provenance=provenance,
        inferences="\n".join(f"- {n}" for n in notes) or "- none yet",
        errata="\n".join(f"- {p}" for p in problems) or "- none found yet"), encoding="utf-8")
    for line in problems:
        click.echo(f"unsatisfiable: {line}")
    click.echo(f"wrote {folder}/ (openapi.yaml, SOURCE.md, examples/): {len(notes)} inferences, "
               f"{len(problems)} unsatisfiable constructs; next: apiconform contracts check {folder / 'openapi.yaml'}")
