"""Find, parse, bundle and index contracts. Every failure is a one-line ContractError."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from apiconform import _cache
from apiconform.contracts._extensions import idempotency_of, pagination_of
from apiconform.contracts._model import ACTIONS, HTTP_METHODS, Contract, MediaSpec, Operation, ResponseSpec
from apiconform.contracts._pointer import objects, pointer
from apiconform.errors import ContractError, UsageError

if TYPE_CHECKING:
    from referencing import Resource

CONTRACT_FILE = "openapi.yaml"
_VERSION_RE = re.compile(r"^3\.[01]\.\d+$")


#: the five vendors shipped inside the package (the checkout's contracts/ is a symlink to this folder)
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"

#: a team's contracts folder (`--contracts DIR` / the `contracts` config key / `EngineOptions.contracts`), set for a
#: command, a pytest session or a run (`use_contracts`, `team_contracts`)
_TEAM_DIR: ContextVar[Path | None] = ContextVar("apiconform_team_contracts", default=None)


def contracts_folder(directory: str | os.PathLike[str], source: str = "--contracts") -> Path:
    """A team's contracts folder, resolved; a missing folder is one UsageError naming `source`."""
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise UsageError(f"{source}: {path}: not a directory (expected a folder of VENDOR/{CONTRACT_FILE})")
    return path.resolve()


def use_contracts(directory: str | os.PathLike[str] | None, source: str = "--contracts") -> Path | None:
    """Put a team's contracts folder in front of the bundled vendors (a vendor folder there overrides the
    bundled one of the same name) until it is changed again; None clears it. A missing folder is one UsageError
    naming `source`."""
    path = None if directory is None else contracts_folder(directory, source)
    _TEAM_DIR.set(path)
    return path


@contextlib.contextmanager
def team_contracts(directory: str | os.PathLike[str] | None, source: str = "--contracts") -> Iterator[Path | None]:
    """`use_contracts` for what runs inside, then the folder in use before; None keeps the folder in use (a run's
    options that name no folder run with the caller's)."""
    if directory is None:
        yield _TEAM_DIR.get()
        return
    token = _TEAM_DIR.set(contracts_folder(directory, source))
    try:
        yield _TEAM_DIR.get()
    finally:
        _TEAM_DIR.reset(token)


def team_contracts_args(folder: Path | None = None) -> list[str]:
    """`--contracts=DIR` for reproduce commands when a team folder is in use (relative to cwd when inside): the
    folder given (a run's options), else the one in effect."""
    folder = _TEAM_DIR.get() if folder is None else folder.resolve()
    if folder is None:
        return []
    try:
        shown = str(folder.relative_to(Path.cwd().resolve()))
    except ValueError:
        shown = str(folder)
    return [f"--contracts={shown}"]


def contract_roots() -> list[Path]:
    """Where vendor contracts are looked up, first match wins: the team folder (`--contracts` / config key,
    else $APICONFORM_CONTRACTS), then ./contracts upward from cwd, then the bundled vendors."""
    team = _TEAM_DIR.get()
    roots: list[Path] = [team] if team is not None else []
    env = os.environ.get("APICONFORM_CONTRACTS")
    if env and not roots:
        roots.append(Path(env))
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / "contracts").is_dir() and any((candidate / "contracts").glob(f"*/{CONTRACT_FILE}")):
            roots.append(candidate / "contracts")
            break
    roots.append(BUNDLED_DIR)
    unique: list[Path] = []
    for root in roots:
        if root.resolve() not in {r.resolve() for r in unique}:
            unique.append(root)
    return unique


def contracts_dir() -> Path:
    """The first contracts folder looked in (the team's when one is given)."""
    return contract_roots()[0]


def list_vendors() -> list[str]:
    """Vendors that have a contract, sorted (a folder without one hides the same name in later roots)."""
    roots = contract_roots()
    names = {p.name for root in roots if root.is_dir() for p in root.iterdir() if p.is_dir()}
    return sorted(name for name in names if vendor_contract(name, roots) is not None)


def vendor_contract(vendor: str, roots: list[Path] | None = None) -> Path | None:
    """The contract file of a vendor: the first root with a folder of that name, if it has one (a team's
    folder without openapi.yaml is a mistake to report, never a silent fall-back to the bundled contract)."""
    for root in contract_roots() if roots is None else roots:
        if (root / vendor).is_dir():
            path = root / vendor / CONTRACT_FILE
            return path if path.is_file() else None
    return None


def contract_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Map a vendor name or a file path to the contract file, or fail naming the choices."""
    text = str(name_or_path)
    candidate = Path(text)
    if candidate.suffix in (".yaml", ".yml", ".json") or os.sep in text or candidate.is_file():
        if candidate.is_dir():
            candidate = candidate / CONTRACT_FILE
        if not candidate.is_file():
            raise ContractError(f"{candidate}: contract file not found")
        return candidate
    path = vendor_contract(text)
    if path is None:
        known = ", ".join(list_vendors()) or "none"
        empty = next((root / text for root in contract_roots() if (root / text).is_dir()), None)
        hint = f"{empty} has no {CONTRACT_FILE}; " if empty is not None else ""
        raise UsageError(f"unknown vendor {text!r} ({hint}known vendors: {known})")
    return path


def read_document(path: Path) -> Any:
    """Parse YAML or JSON, turning parser errors into `file:line:col: message`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read file: {exc}") from exc
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    key = _parsed_key(text)
    cached = _cache.read("documents", key)
    if cached is None:
        cached = shipped_parse(path, text)
    if cached is not None:
        try:
            return json.loads(cached)
        except ValueError:
            pass  # damaged entry: parse again
    document = _parse_yaml(path, text)
    _remember_parsed(key, document)
    return document


def shipped_parse(path: Path, text: str) -> str | None:
    """A bundled contract's parsed document as JSON text, shipped with the tool (`bundled/VENDOR.parsed.json`,
    written by `python -m apiconform.contracts._stamp`), when it was parsed from exactly this text by this PyYAML:
    a fresh CI runner has no document cache, and Eduframe's YAML takes ~0.2 s to parse in every process. The
    file's first line names the text's digest and the parser; anything else (an edited contract, another PyYAML,
    a damaged file) parses the YAML as before."""
    try:
        folder = path.resolve().parent
        if folder.parent != BUNDLED_DIR:
            return None
        header, _, document = (BUNDLED_DIR / f"{folder.name}.parsed.json").read_text(encoding="utf-8").partition("\n")
        stamp = json.loads(header)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("sha256") != hashlib.sha256(text.encode()).hexdigest() \
            or stamp.get("parser") != _parser_version():
        return None
    return document


def shipped_parse_text(text: str) -> str:
    """The content of a `bundled/VENDOR.parsed.json` for a contract's text (see `shipped_parse`), or ValueError
    when its parse is not one JSON represents exactly."""
    import yaml

    document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    body = json.dumps(document, separators=(",", ":"), allow_nan=False)
    if json.loads(body) != document:
        raise ValueError("the parsed document is not plain JSON")
    header = json.dumps({"sha256": hashlib.sha256(text.encode()).hexdigest(), "parser": _parser_version()})
    return header + "\n" + body + "\n"


def _parse_yaml(path: Path, text: str) -> Any:
    """PyYAML's safe loader (libyaml when available: 4-5x faster on large contracts), imported only on a
    document-cache miss; alias bombs refused before anything expands them."""
    import yaml

    try:
        if _ANCHOR.search(text) and _ALIAS.search(text):
            _refuse_alias_bombs(path, text)
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContractError(f"{path}{where}: invalid YAML: {problem}") from exc


def _parsed_key(text: str) -> str:
    """The document cache's key: the text and the parser's version (read without importing the parser)."""
    return hashlib.sha256(f"{_parser_version()}\n{text}".encode()).hexdigest()


@functools.cache
def _parser_version() -> str:
    """PyYAML's installed version, looked up once per process (not once per document read)."""
    return _cache.code_version([], ["PyYAML"])


def _remember_parsed(key: str, document: Any) -> None:
    """Keep a parsed YAML document as JSON (a large contract parses in ~0.3 s, its JSON loads in ~3 ms): only a
    document JSON represents exactly (no integer keys, dates, ...), and only after the alias-bomb check passed for
    this very text (the key is a digest of it)."""
    try:
        text = json.dumps(document, separators=(",", ":"), allow_nan=False)
        exact = json.loads(text) == document
    except (TypeError, ValueError):
        return
    if exact:
        _cache.write("documents", key, text)


def load_contract(name_or_path: str | os.PathLike[str]) -> Contract:
    """Load a vendor contract by name, or any OpenAPI 3.0/3.1 document by path (cached per process)."""
    return _load(contract_path(name_or_path).resolve())


@functools.lru_cache(maxsize=64)
def _load(path: Path) -> Contract:
    document = _remembered_load(path)
    raw = document
    if document is None:
        raw = read_document(path)
        if not isinstance(raw, dict):
            raise ContractError(f"{path}: not an OpenAPI document (top level is {type(raw).__name__}, expected a mapping)")
        version = str(raw.get("openapi", ""))
        if not _VERSION_RE.match(version):
            raise ContractError(f"{path}: /openapi: expected an OpenAPI 3.0.x or 3.1.x version, got {version or 'nothing'!r}")
        document = raw  # read_document parses afresh on every call: nothing else holds this object
        read = [path]
        problems = list(inline_examples(document, path.parent, read))
        if problems:
            raise ContractError(problems[0])
        if version.startswith("3.0"):
            _nullable_to_type_union(document)
        _remember_load(path, document, read)
    base_uri = path.as_uri()
    ext = raw.get("info", {}).get("x-apiconform", {}) if isinstance(raw.get("info"), dict) else {}
    vendor = str(ext.get("vendor") or (path.parent.name if path.name == CONTRACT_FILE else path.stem))
    contract = Contract(vendor=vendor, path=path, document=document, base_uri=base_uri, retrieve=_retrieve)
    contract.operations = {op.label: op for op in _index_operations(contract)}
    return contract


def _file_stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _load_key(path: Path) -> str:
    """The loaded-document cache's key: the contract file's path, the loader's code and the YAML parser's version."""
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    return hashlib.sha256(f"{path}\n{code}\n{_parser_version()}".encode()).hexdigest()


def _remembered_load(path: Path) -> Any:
    """A contract's document as `_load` left it (parsed, example files inlined, 3.0 nullables as type unions), from
    the cache directory, while none of the files it was made from (the contract, each inlined example file) changed
    their stats (inode, size, mtime, ctime: an edit, a copy or a checkout changes them). Eduframe inlines ~340 example
    files: 40-60 ms of walking and parsing at every start; None: load it."""
    try:
        stored = _cache.read("loaded", _load_key(path))
        if stored is None:
            return None
        entry = json.loads(stored)
        files = entry["files"]
        if not files or any(_file_stat(Path(name)) != stat for name, stat in files):
            return None
        document = entry["document"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return document if isinstance(document, dict) else None


def _remember_load(path: Path, document: dict[str, Any], read: list[Path]) -> None:
    """Keep a loaded document with the stats of the files it was made from (only a document JSON holds exactly)."""
    if not _cache.enabled():
        return
    try:
        files = [(str(file), _file_stat(file)) for file in dict.fromkeys(read)]
        text = json.dumps({"files": files, "document": document}, separators=(",", ":"), allow_nan=False)
        if json.loads(text)["document"] != document:
            return
    except (OSError, TypeError, ValueError):
        return
    _cache.write("loaded", _load_key(path), text)


#: A YAML anchor (`&name`) or alias (`*name`) can only start a node: after a line start, whitespace or a flow
#: indicator. A document without both cannot expand, so the bomb check (as long as the parse) is skipped for it;
#: `&` or `*` inside scalars (`Q&A`, regex patterns) may match, which only costs the check.
_ANCHOR = re.compile(r"(?:^|[\s\[{,:])&[^\s\[\]{},]", re.M)
_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*[^\s\[\]{},]", re.M)

#: More expanded nodes than this (through anchors and aliases) is an alias bomb, not a contract.
MAX_EXPANDED_NODES = 2_000_000


def _refuse_alias_bombs(path: Path, text: str) -> None:
    """Reject YAML whose anchors/aliases expand to an absurd size ("billion laughs"), before anything walks
    the expanded document: the node graph is composed once and its expanded size counted with memoisation."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)] if root is not None else []
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else (
            list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if done:
            sizes[id(node)] = min(MAX_EXPANDED_NODES + 1, 1 + sum(sizes.get(id(c), 1) for c in children))
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    if root is not None and sizes.get(id(root), 0) > MAX_EXPANDED_NODES:
        raise ContractError(f"{path}: refused: YAML anchors/aliases expand to more than {MAX_EXPANDED_NODES:,} nodes "
                            "(an alias bomb)")


def _retrieve(uri: str) -> Resource:
    """Load documents referenced by relative `$ref`s to other files."""
    from urllib.request import url2pathname

    from referencing import Resource
    from referencing.exceptions import NoSuchResource
    from referencing.jsonschema import DRAFT202012

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
    path = Path(url2pathname(parsed.path))
    try:
        return Resource.from_contents(read_document(path), default_specification=DRAFT202012)
    except ContractError as exc:
        raise NoSuchResource(ref=uri) from exc  # type: ignore[call-arg]


def inline_examples(document: dict[str, Any], base: Path, read: list[Path] | None = None) -> Iterator[str]:
    """Replace relative `externalValue` example files by their content; yield one line per problem (`read`, when
    given, gets every file read).

    The authored document keeps examples as files (reviewable, diffable); engines such as
    schemathesis want `value`, so the bundled copy carries both the value and the file name.

    The walk is `objects()`'s (depth-first in document order, a node's children read after it is handled, so an
    inlined value is walked too), but a node's pointer is spelled only for a problem: spelling every node's
    pointer was most of a large contract's load (~30 ms for Eduframe at every start).
    """
    stack: list[tuple[Any, Any]] = [(document, None)]  # (node, where): where = (parent's where, key) or None
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ext = node.get("externalValue")
            if isinstance(ext, str) and not urlparse(ext).scheme:
                file = base / ext
                if not file.is_file():
                    yield f"{base / CONTRACT_FILE}: {_spelled(where)}/externalValue: example file {ext} not found"
                else:
                    if read is not None:
                        read.append(file)
                    try:
                        value = json.loads(file.read_text(encoding="utf-8"))
                    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                        yield f"{file}: invalid JSON example: {exc}"
                    else:
                        del node["externalValue"]
                        node["value"] = value
                        node["x-apiconform-file"] = ext
            stack.extend((v, (where, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, (where, i)) for i, v in reversed(list(enumerate(node))))


def _spelled(where: Any) -> str:
    """The JSON pointer of a node `inline_examples` reached through `where`'s chain of keys."""
    tokens: list[Any] = []
    while where is not None:
        where, key = where
        tokens.append(key)
    return pointer(*reversed(tokens))


def _nullable_to_type_union(document: dict[str, Any]) -> None:
    """OpenAPI 3.0 `nullable: true` means JSON Schema `type: [T, "null"]`; validators need the latter."""
    for _, node in objects(document):
        if node.get("nullable") is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]


def _node_pointer(node: Any, default: str) -> str:
    """Where a possibly-`$ref`ed node really lives (local references only)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        return str(node["$ref"][1:])
    return default


def _media(contract: Contract, content: Any, ptr: str) -> dict[str, MediaSpec]:
    result: dict[str, MediaSpec] = {}
    for media_type, media in (content or {}).items():
        media = contract.resolve(media) or {}
        schema_ptr = f"{ptr}/{pointer(media_type)[1:]}/schema" if "schema" in media else None
        examples = {name: contract.resolve(ex) for name, ex in (media.get("examples") or {}).items()}
        if "example" in media:
            examples.setdefault("example", {"value": media["example"]})
        result[media_type] = MediaSpec(media_type=media_type, schema_pointer=schema_ptr, examples=examples)
    return result


def _index_operations(contract: Contract) -> Iterator[Operation]:
    document = contract.document
    global_security = tuple(document.get("security", []) or [])
    for path, item in (document.get("paths") or {}).items():
        item = contract.resolve(item)
        if not isinstance(item, dict):
            raise ContractError(f"{contract.path}: {pointer('paths', path)}: path item is not a mapping")
        shared_params = [
            (contract.resolve(p), _node_pointer(p, pointer("paths", path, "parameters", i)))
            for i, p in enumerate(item.get("parameters", []))
        ]
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op_ptr = pointer("paths", path, method)
            definition = item[method]
            if not isinstance(definition, dict):
                raise ContractError(f"{contract.path}: {op_ptr}: operation is not a mapping")
            params = {(p.get("in"), p.get("name")): (p, ptr) for p, ptr in shared_params}
            for i, raw_param in enumerate(definition.get("parameters", [])):
                p = contract.resolve(raw_param)
                params[(p.get("in"), p.get("name"))] = (p, _node_pointer(raw_param, f"{op_ptr}/parameters/{i}"))
            body = contract.resolve(definition.get("requestBody") or {})
            body_ptr = _node_pointer(definition.get("requestBody"), op_ptr + "/requestBody")
            responses: dict[str, ResponseSpec] = {}
            for status, response in (definition.get("responses") or {}).items():
                response_ptr = _node_pointer(response, f"{op_ptr}/responses/{status}")
                response = contract.resolve(response)
                responses[str(status)] = ResponseSpec(
                    status=str(status),
                    description=str(response.get("description", "")),
                    content=_media(contract, response.get("content"), f"{response_ptr}/content"),
                    headers={k: contract.resolve(v) for k, v in (response.get("headers") or {}).items()},
                    links={k: contract.resolve(v) for k, v in (response.get("links") or {}).items()},
                )
            action = definition.get("x-apiconform-action")
            if action is not None and action not in ACTIONS:
                raise ContractError(
                    f"{contract.path}: {op_ptr}/x-apiconform-action: {action!r} is not one of {', '.join(ACTIONS)}"
                )
            path_params = re.findall(r"{([^}]+)}", path)
            yield Operation(
                vendor=contract.vendor,
                operation_id=str(definition.get("operationId") or f"{method.upper()} {path}"),
                method=method,
                path=path,
                pointer=op_ptr,
                definition=definition,
                parameters=tuple(p for p, _ in params.values()),
                param_schemas={key: f"{ptr}/schema" for key, (p, ptr) in params.items() if "schema" in p},
                request_body=_media(contract, body.get("content"), f"{body_ptr}/content"),
                request_required=bool(body.get("required", False)),
                responses=responses,
                security=tuple(definition.get("security", global_security) or []),
                resource=definition.get("x-apiconform-resource"),
                action=action,
                id_param=definition.get("x-apiconform-id") or (path_params[-1] if path_params else None),
                id_field=str(definition.get("x-apiconform-id-field", "id")),
                pagination=pagination_of(definition, f"{contract.path}: {op_ptr}"),
                sort=definition.get("x-apiconform-sort"),
                idempotency=idempotency_of(definition, f"{contract.path}: {op_ptr}"),
            )
