"""Loading OLD and NEW: a contract file, a vendor, or either as committed at a git revision."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from apiconform.contracts import (
    CONTRACT_FILE,
    Contract,
    _pointer,
    contract_path,
    contracts_dir,
    load_contract,
    read_document,
    vendor_contract,
)
from apiconform.errors import ContractError, UsageError


@contextlib.contextmanager
def open_contract(spec: str) -> Iterator[Contract]:
    """Load `PATH`, `VENDOR`, `PATH@REV` or `VENDOR@REV`; temporary copies live until the block exits.

    Diffing needs only schemas, so a contract whose example files are missing (often the case at an old
    revision, or in a half-written working tree) is loaded from a copy with `externalValue`s stripped.
    """
    with contextlib.ExitStack() as stack:
        target, rev = _split_rev(spec)
        if rev is None:
            path = contract_path(target)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apiconform-diff-")))
            path = _materialise(target, rev, tmp)
        yield _load_lenient(path, stack)


def _split_rev(spec: str) -> tuple[str, str | None]:
    if "@" not in spec or Path(spec).exists():
        return spec, None
    target, _, rev = spec.rpartition("@")
    if not target or not rev:
        raise UsageError(f"{spec!r}: expected PATH, VENDOR, PATH@GITREV or VENDOR@GITREV")
    return target, rev


def _target_file(target: str) -> Path:
    """The contract file a target names, whether or not it exists in the working tree."""
    candidate = Path(target)
    if candidate.suffix in (".yaml", ".yml", ".json") or os.sep in target or candidate.exists():
        if candidate.is_dir() or not candidate.suffix:
            candidate = candidate / CONTRACT_FILE
        return candidate.resolve()
    return (vendor_contract(target) or contracts_dir() / target / CONTRACT_FILE).resolve()


def _git(cwd: Path, *args: str, binary: bool = False) -> Any:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed: cannot read a contract at a revision") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return proc.stdout if binary else proc.stdout.decode()


def _materialise(target: str, rev: str, tmp: Path) -> Path:
    """Extract the contract's folder (contract, examples, split files) as of `rev` into `tmp`."""
    file = _target_file(target)
    anchor = file.parent
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    top = Path(_git(anchor, "rev-parse", "--show-toplevel").strip()).resolve()
    try:
        rel = file.relative_to(top)
    except ValueError:
        raise UsageError(f"{file}: not inside the git repository {top}") from None
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=top, capture_output=True, check=False
    )
    if check.returncode != 0:
        raise UsageError(f"unknown git revision {rev!r}")
    exists = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}:{rel.as_posix()}"], cwd=top, capture_output=True, check=False
    )
    if exists.returncode != 0:
        raise ContractError(f"{rel.as_posix()}: does not exist at revision {rev}")
    out = tmp / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    if rel.parent == Path("."):  # a contract at the repository root: the file alone, not the whole tree
        out.write_bytes(_git(top, "show", f"{rev}:{rel.as_posix()}", binary=True))
        return out
    data = _git(top, "archive", "--format=tar", rev, "--", rel.parent.as_posix(), binary=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(tmp, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            archive.extractall(tmp)  # noqa: S202 - our own repository's archive
    return out


def _load_lenient(path: Path, stack: contextlib.ExitStack) -> Contract:
    try:
        return load_contract(path)
    except ContractError as first:
        stripped = _strip_examples(path, stack)
        if stripped is None:
            raise
        try:
            return load_contract(stripped)
        except ContractError:
            raise first from None


_NOT_CONTRACT_FILES = ("examples", ".git", ".venv", "node_modules", "__pycache__", "*.py", "*.md", "*.txt")


def _has_external_refs(document: Any) -> bool:
    return any(
        isinstance(node, dict) and isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#")
        for _, node in _pointer.walk(document)
    )


def _strip_examples(path: Path, stack: contextlib.ExitStack) -> Path | None:
    """A copy of the contract folder whose document has no `externalValue` (None if it had none)."""
    document = read_document(path)
    found = False
    for _, node in _pointer.walk(document):
        if isinstance(node, dict) and isinstance(node.get("externalValue"), str):
            del node["externalValue"]
            found = True
    if not found:
        return None
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="apiconform-diff-")))
    folder = tmp / path.parent.name
    if _has_external_refs(document):  # split contract: bring the sibling documents along
        shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns(*_NOT_CONTRACT_FILES))
    else:
        folder.mkdir()
    out = folder / path.name
    if path.suffix == ".json":
        out.write_text(json.dumps(document), encoding="utf-8")
    else:
        out.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out
