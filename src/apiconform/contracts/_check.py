"""`contracts check`: lint the document, resolve every reference, validate every example.

Each problem is one line `file: /json/pointer: message`, so a CI log points straight at the fix.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from apiconform.contracts._loader import contract_path, inline_examples, load_contract, read_document
from apiconform.contracts._model import (
    ERROR_KINDS,
    EXAMPLE_ERROR_EXTENSION,
    Contract,
    MediaSpec,
    Operation,
    declared_error_kinds,
)
from apiconform.contracts._pointer import objects, pointer, split
from apiconform.errors import ApiconformError


@dataclass(frozen=True)
class Problem:
    file: str
    pointer: str
    message: str
    line: int | None = None  #: 1-based line of `pointer` in a YAML/JSON file, when known

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        parts = [part for part in (where, self.pointer, self.message) if part]
        return ": ".join(parts)


@dataclass(frozen=True)
class CheckResult:
    target: str
    operations: int
    examples: int
    errata: int
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()  #: worth a look, not wrong (e.g. an operation documenting no error)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_contract(name_or_path: str | os.PathLike[str]) -> CheckResult:
    """Everything that makes a contract untrustworthy, as a list of precise problems: every problem in one
    run (lint, references, examples, conventions, security, the target configuration), each with its line."""
    try:
        path = contract_path(name_or_path)
        raw = read_document(path)
    except ApiconformError as exc:
        return CheckResult(str(name_or_path), 0, 0, 0, (Problem("", "", str(exc)),))
    file = str(path)
    lines = _Lines(path)
    problems: list[Problem] = list(_lint(file, raw))
    problems += [Problem("", "", p) for p in inline_examples(_copy(raw), path.parent)]
    problems += list(_raw_conventions(file, raw))
    if problems:  # an invalid document cannot be loaded safely: what the raw document shows is everything
        return CheckResult(file, 0, 0, 0, _with_lines(problems, file, lines))
    try:
        contract = load_contract(path)
    except ApiconformError as exc:
        problems.append(Problem("", "", str(exc)))
        return CheckResult(file, 0, 0, 0, _with_lines(problems, file, lines))
    problems += _refs(contract)
    problems += _responses(contract)
    problems += _conventions(contract)
    warnings = list(_undocumented_errors(contract))
    examples = errata = 0
    for op in contract:
        for problem, is_erratum in _examples(contract, op):
            examples += 1
            errata += is_erratum
            if problem is not None:
                problems.append(problem)
    return CheckResult(file, len(contract), examples, errata, _with_lines(problems, file, lines),
                       _with_lines(warnings, file, lines))


class _Lines:
    """The lines of a contract file's nodes, read only when a problem or warning needs one: composing a large
    contract's node tree costs seconds, and a clean contract reports nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @functools.cached_property
    def numbers(self) -> dict[str, int]:
        return _line_numbers(self.path)


def _line_numbers(path: Path) -> dict[str, int]:
    """JSON pointer -> 1-based line of every node of a YAML (or JSON) file."""
    import yaml

    try:  # libyaml's composer when PyYAML has it (its nodes carry the same marks), ~10x faster
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    found: dict[str, int] = {}
    stack: list[tuple[str, Any]] = [("", root)] if root is not None else []
    while stack:
        ptr, node = stack.pop()
        found.setdefault(ptr, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = ptr + "/" + str(key.value).replace("~", "~0").replace("/", "~1")
                found.setdefault(child, key.start_mark.line + 1)
                stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((f"{ptr}/{i}", item) for i, item in enumerate(node.value))
    return found


def _with_lines(problems: list[Problem], file: str, found: _Lines) -> tuple[Problem, ...]:
    """Each problem of `file` with the line of its pointer (or of its nearest ancestor that has one)."""
    out = []
    for problem in problems:
        lines = found.numbers
        line = problem.line
        if line is None and problem.file == file and problem.pointer.startswith("/"):
            ptr = problem.pointer.split(" ", 1)[0]
            while ptr and ptr not in lines:
                ptr = ptr.rsplit("/", 1)[0]
            line = lines.get(ptr)
        out.append(Problem(problem.file, problem.pointer, problem.message, line))
    return tuple(out)


def _raw_conventions(file: str, raw: Any) -> Iterator[Problem]:
    """What an imported contract still lacks (`info.x-apiconform-todo`), and security that names nothing."""
    if not isinstance(raw, dict):
        return
    info: dict[str, Any] = raw["info"] if isinstance(raw.get("info"), dict) else {}
    for todo in info.get("x-apiconform-todo") or []:
        where, _, what = str(todo).partition(": ")
        yield Problem(file, where if where.startswith("/") else "/info/x-apiconform-todo", f"TODO: {what or todo}")
    components: dict[str, Any] = raw["components"] if isinstance(raw.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or {}
    requirements: list[tuple[str, Any]] = [("/security", raw.get("security"))]
    for path, item in (raw.get("paths") or {}).items():
        for method, operation in (item.items() if isinstance(item, dict) else []):
            if isinstance(operation, dict) and "security" in operation:
                requirements.append((pointer("paths", path, method, "security"), operation["security"]))
    for where, requirement in requirements:
        for i, alternative in enumerate(requirement or []):
            for name in (alternative or {}) if isinstance(alternative, dict) else []:
                if name not in schemes:
                    yield Problem(file, f"{where}/{i}/{name}", f"security requires scheme {name!r}, which "
                                  "components/securitySchemes does not declare")
    todo_on_schemes = any(str(todo).startswith("/components/securitySchemes:") for todo in info.get("x-apiconform-todo") or [])
    if "x-apiconform" in info and not schemes and raw.get("security") != [] and not todo_on_schemes:
        # (an import's TODO on /components/securitySchemes already says so: one line per fact)
        yield Problem(file, "/components/securitySchemes", "no security scheme declared: declare how the vendor "
                      "authenticates (or `security: []` at the top level for a public API)")


def _undocumented_errors(contract: Contract) -> Iterator[Problem]:
    for op in contract:
        if not any(s.startswith("4") or s == "default" for s in op.responses):
            yield Problem(str(contract.path), op.pointer + "/responses",
                          f"{op.label} documents no error answer (no 4xx, no default): the mock never answers one "
                          "and the gate cannot blame it for accepting invalid input (401/403 stay implied by its "
                          "security)" if op.security else f"{op.label} documents no error answer (no 4xx, no default)")


def _remote_refs(raw: Any) -> list[tuple[str, str]]:
    """(pointer, $ref) of every reference to another host (http:, https:, //host), found without recursion."""
    found: list[tuple[str, str]] = []
    for ptr, node in objects(raw):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.lower().startswith(("http:", "https:", "//", "ftp:")):
            found.append((ptr or "/", ref))
    return sorted(found)


def _copy(raw: Any) -> Any:
    import copy

    return copy.deepcopy(raw)


def _lint(file: str, raw: Any) -> Iterator[Problem]:
    if not isinstance(raw, dict):
        yield Problem(file, "", "not an OpenAPI document (top level must be a mapping)")
        return
    from openapi_spec_validator import (  # ~0.3 s of imports (pydantic-settings): only where a lint really runs
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    version = str(raw.get("openapi", ""))
    if version.startswith("3.1"):
        validator_cls: Any = OpenAPIV31SpecValidator
    elif version.startswith("3.0"):
        validator_cls = OpenAPIV30SpecValidator
    else:
        yield Problem(file, "/openapi", f"expected an OpenAPI 3.0.x or 3.1.x version, got {version or 'nothing'!r}")
        return
    remote = _remote_refs(raw)
    if remote:  # the lint never fetches anything over the network
        for pointer, ref in remote[:10]:
            yield Problem(file, pointer, f"remote $ref {ref!r} is not fetched (bundle it into the contract folder)")
        return
    patched: list[str] = []
    try:
        errors = list(validator_cls(raw).iter_errors())
    except Exception as exc:  # the validator raises on some unresolvable references
        # Its message names neither the $ref nor where it is (and can dump the whole document), so
        # find the broken references ourselves; fall back to a shortened message.
        unresolved = list(_unresolved_refs(file, raw))
        if not unresolved:
            message = (str(exc).splitlines() or [type(exc).__name__])[0]
            yield Problem(file, "", f"OpenAPI lint failed: {message[:300]}")
            return
        yield from unresolved
        # then every other problem in the same run: the lint again with each broken reference emptied, its own
        # place left out (what an emptied reference lacks is the reference's problem, already named)
        raw, patched = _without(raw, [p.pointer.rsplit("/", 1)[0] for p in unresolved])
        try:
            errors = list(validator_cls(raw).iter_errors())
        except Exception:  # noqa: BLE001 - still unlintable: the references above are what there is to say
            return
    for error in errors:
        where, others = _locate(raw, error)
        if any(where == p or where.startswith(p + "/") for p in patched):
            continue
        message = str(getattr(error, "message", error)).splitlines()[0][:300]
        if others:
            message += f" (the same schema is also at {others} other place{'s' if others > 1 else ''})"
        yield Problem(file, where, message)


_MISSING = object()


def _without(raw: Any, places: list[str]) -> tuple[Any, list[str]]:
    """A copy of `raw` with the node at each JSON pointer of `places` emptied (`{}`), and the places emptied."""
    from apiconform.contracts._pointer import resolve, split

    copy = _copy(raw)
    done = []
    for place in places:
        tokens = split(place)
        parent = resolve(copy, pointer(*tokens[:-1])) if tokens else None
        if isinstance(parent, dict) and tokens[-1] in parent:
            parent[tokens[-1]] = {}
            done.append(place)
        elif isinstance(parent, list) and tokens[-1].isdigit() and int(tokens[-1]) < len(parent):
            parent[int(tokens[-1])] = {}
            done.append(place)
    return copy, done


def _at(node: Any, path: list[Any]) -> Any:
    for token in path:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


def _locate(raw: Any, error: Any) -> tuple[str, int]:
    """The JSON pointer of a lint error in the document, and how many other places hold the same content.

    openapi-spec-validator checks each Schema Object with a sub-validator, so for errors inside a schema
    `absolute_path` is relative to that schema (e.g. just `/type`). Find where it really is.
    """
    path = list(getattr(error, "absolute_path", []) or [])
    instance = getattr(error, "instance", _MISSING)
    if instance is _MISSING or _at(raw, path) == instance:
        return pointer(*path), 0
    found = [ptr + pointer(*path) for ptr, node in objects(raw) if _at(node, path) == instance]
    if not found:
        return pointer(*path), 0
    return found[0], len(found) - 1


def _unresolved_refs(file: str, raw: Any) -> Iterator[Problem]:
    """`$ref`s to a local or relative-file JSON pointer that leads nowhere, on the raw document."""
    base = Path(file).parent
    documents: dict[str, Any] = {"": raw}
    for ptr, node in objects(raw):
        ref = node.get("$ref")
        if not isinstance(ref, str):
            continue
        target, _, fragment = ref.partition("#")
        fragment = unquote(fragment)
        if urlparse(target).scheme or (fragment and not fragment.startswith("/")):
            continue  # remote documents are not fetched here; anchors are left to the resolver
        try:
            if target not in documents:
                documents[target] = read_document(base / unquote(target))
            doc = documents[target]
            for token in split(fragment):
                doc = doc[int(token)] if isinstance(doc, list) else doc[token]
        except (ApiconformError, KeyError, IndexError, TypeError, ValueError):
            yield Problem(file, ptr + "/$ref", f"unresolvable reference {ref!r}")


def _refs(contract: Contract) -> Iterator[Problem]:
    from referencing.exceptions import Unresolvable  # with the registry: a run that only loads never imports it

    resolver = contract.registry.resolver(contract.base_uri)
    for ptr, node in objects(contract.document):
        ref = node.get("$ref")
        if isinstance(ref, str):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                yield Problem(str(contract.path), ptr + "/$ref", f"unresolvable reference {ref!r}")


def _responses(contract: Contract) -> Iterator[Problem]:
    """Every operation documents at least one response (OpenAPI 3.1 lets `responses` be left out; nothing could
    then be judged about what the operation answers)."""
    for op in contract:
        if not op.responses:
            yield Problem(str(contract.path), op.pointer, f"operation {op.label} documents no responses "
                                                           f"(add at least the success response, e.g. '200')")


def _conventions(contract: Contract) -> Iterator[Problem]:
    """apiconform's extensions are required only in our own vendor contracts."""
    file = str(contract.path)
    if "x-apiconform" not in contract.document.get("info", {}):
        return
    seen: dict[str, str] = {}
    operation_ids = {op.operation_id for op in contract}
    for op in contract:
        if "operationId" not in op.definition:
            yield Problem(file, op.pointer, "operation has no operationId")
        elif op.operation_id in seen:
            yield Problem(file, op.pointer, f"duplicate operationId {op.operation_id!r} (also {seen[op.operation_id]})")
        seen[op.operation_id] = op.pointer
        for ext in ("x-apiconform-resource", "x-apiconform-action"):
            if ext not in op.definition:
                yield Problem(file, op.pointer, f"missing {ext}")
        for status, response in op.responses.items():
            for name, link in response.links.items():
                target = link.get("operationId")
                if target and target not in operation_ids:
                    yield Problem(
                        file, f"{op.pointer}/responses/{status}/links/{name}", f"link to unknown operationId {target!r}"
                    )


def _examples(contract: Contract, op: Operation) -> Iterator[tuple[Problem | None, bool]]:
    file = str(contract.path)
    groups: list[tuple[str, dict[str, MediaSpec]]] = [("request", dict(op.request_body))]
    groups += [(f"response {status}", dict(r.content)) for status, r in op.responses.items()]
    for what, content in groups:
        for media in content.values():
            for name, example in media.examples.items():
                if "value" not in example:
                    continue
                where = example.get("x-apiconform-file") or f"{op.pointer} {what} example {name!r}"
                unknown = [k for k in declared_error_kinds(example) if k not in ERROR_KINDS]
                if unknown:
                    yield Problem(file, op.pointer, f"{op.operation_id} {what} example {where}: unknown "
                                  f"{EXAMPLE_ERROR_EXTENSION} kind(s) {', '.join(map(repr, unknown))} "
                                  f"(known: {', '.join(ERROR_KINDS)})"), False
                erratum = example.get("x-erratum")
                if media.schema_pointer is None:
                    yield None, bool(erratum)
                    continue
                errors = contract.validate(media.schema_pointer, example["value"])
                if errors and not erratum:
                    # The pointer is into the example, so name the example's own file when it has one.
                    first = errors[0]
                    example_file = example.get("x-apiconform-file")
                    inside = pointer(*first.absolute_path)
                    if not example_file:  # inline: where the example sits in the contract, then into its value
                        media_ptr = media.schema_pointer.rsplit("/schema", 1)[0]
                        inside = (f"{media_ptr}/example" if name == "example" else
                                  f"{media_ptr}/examples{pointer(name)}/value") + inside
                    yield (
                        Problem(
                            str(contract.path.parent / example_file) if example_file else file,
                            inside,
                            f"{op.operation_id} {what} example {where} does not match its schema: {first.message[:200]}",
                        ),
                        False,
                    )
                elif not errors and erratum:
                    yield (
                        Problem(
                            file,
                            op.pointer,
                            f"{op.operation_id} {what} example {where} is marked x-erratum but validates: "
                            "remove the stale erratum",
                        ),
                        True,
                    )
                else:
                    yield None, bool(erratum)
