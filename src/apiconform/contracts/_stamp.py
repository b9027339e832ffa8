"""Clean lints of the bundled contracts, shipped with the tool: a fresh CI runner need not lint them again.

The lint (openapi-spec-validator over the whole document, then apiconform's own checks) is a pure function of the
contract folder's files and the linting libraries; for a bundled contract both are fixed when the tool is built,
and the tool's own tests lint every bundled contract on every change (tests/contracts/test_contracts.py), so its verdict
is known. `lint-clean.json` beside the bundled folders records, per vendor, the digest of the folder's files,
the libraries' versions and the counts the lint reported; `apiconform run` takes a bundled contract as clean
only when both match exactly (an edited contract, or other library versions, are linted as before).
Regenerate after editing a bundled contract: `python -m apiconform.contracts._stamp`. It also writes each bundled
contract's parsed document (`VENDOR.parsed.json`, see `contracts._loader.shipped_parse`).

A team's contract gets the same from `apiconform contracts check VENDOR --stamp`: a `lint-clean.json` in the contract's
folder (committed with it) holding `lint_key` - a digest of the folder's other files, the lint's own code and the
versions of apiconform and the linting libraries - and the counts of the clean lint. `apiconform run` takes the
contract as clean only when the key it computes is the stamp's (any edit to the contract or its examples, another
apiconform or validator version: linted as before); `--no-cache` lints afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).resolve().parent / "bundled"
STAMPS = BUNDLED / "lint-clean.json"
LIBRARIES = ("openapi-spec-validator", "jsonschema", "referencing", "pyyaml")
TEAM_STAMP = "lint-clean.json"  # a team contract's committed clean lint, in the contract's folder
LINT_DISTS = ("apiconform", *LIBRARIES)


def file_stats(folder: Path) -> tuple[tuple[str, int, int, int, int], ...]:
    """(relative path, inode, size, mtime, ctime) of every file under `folder` (symlinked files followed, symlinked
    folders not, as `rglob`), sorted: what any edit, copy or checkout of a file changes (ctime cannot be set back).
    `os.scandir`: a quarter of `rglob` plus two `stat`s per file (~350 files in Eduframe's folder). Raises OSError."""
    stats = []
    folders = [folder]
    while folders:
        current = folders.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                elif entry.is_file():
                    st = entry.stat()
                    stats.append((os.path.relpath(entry.path, folder), st.st_ino, st.st_size, st.st_mtime_ns,
                                  st.st_ctime_ns))
    return tuple(sorted(stats))


def folder_digest(folder: Path, stats: tuple[tuple[str, int, int, int, int], ...] | None = None) -> str:
    """The digest of the folder's files (names and contents). Remembered in the cache directory under the files'
    `file_stats` (given, or read here): hashing Eduframe's 1.8 MB of contract and examples took 60-120 ms of every
    run's start; an edited, copied or checked-out file has other stats, so its folder is hashed again."""
    from apiconform import _cache

    try:
        stats = file_stats(folder) if stats is None else stats
    except OSError:
        return _folder_digest(folder)
    key = hashlib.sha256(json.dumps([str(folder), stats]).encode()).hexdigest()
    remembered = _cache.read("digests", key)
    if remembered is not None and len(remembered) == 64:
        return remembered
    digest = _folder_digest(folder)
    _cache.write("digests", key, digest)
    return digest


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"\0{path.relative_to(folder)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    from apiconform._cache import dist_version

    return {name: dist_version(name) or "absent" for name in LIBRARIES}


def shipped_clean(folder: Path, stats: tuple[tuple[str, int, int, int, int], ...] | None = None) -> dict[str, int] | None:
    """The counts of a bundled contract's clean lint when its files and the libraries are those stamped, else None
    (`stats`: the folder's `file_stats`, when the caller has them)."""
    try:
        folder = folder.resolve()
        if folder.parent != BUNDLED:
            return None
        stamps = json.loads(STAMPS.read_text(encoding="utf-8"))
        entry = stamps["vendors"][folder.name]
        if stamps["libraries"] != library_versions() or entry["digest"] != folder_digest(folder, stats):
            return None
        return {k: int(entry[k]) for k in ("operations", "examples", "errata")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def lint_key(folder: Path) -> str:
    """What a contract folder's lint verdict is a function of: the lint's own code, the versions of apiconform and the
    linting libraries, and every file of the folder (its committed stamp excepted). Raises OSError."""
    import apiconform.contracts as linter
    from apiconform import _cache

    digest = hashlib.sha256(_cache.code_version(sorted(Path(linter.__file__).parent.glob("*.py")), LINT_DISTS).encode())
    stamp = folder / TEAM_STAMP
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p != stamp):
        digest.update(f"\0{path.relative_to(folder)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def team_clean(folder: Path, key: str) -> dict[str, int] | None:
    """The counts of the clean lint a team committed beside its contract when it is for exactly this `lint_key`."""
    try:
        stamp = json.loads((folder / TEAM_STAMP).read_text(encoding="utf-8"))
        if stamp["key"] != key:
            return None
        return {k: int(stamp[k]) for k in ("operations", "examples", "errata")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_team_stamp(folder: Path, operations: int, examples: int, errata: int) -> Path:
    """Record a clean lint of the contract in `folder` (call it only for a lint without problems)."""
    from apiconform import _cache

    versions = _cache.code_version([], LINT_DISTS).split(";", 1)[1]  # for people: the key holds them (and the lint's code)
    stamp = {"key": lint_key(folder), "linted_by": versions,
             "operations": operations, "examples": examples, "errata": errata,
             "note": "written by `apiconform contracts check --stamp`; apiconform run skips the lint while the key holds"}
    path = folder / TEAM_STAMP
    path.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_stamps() -> dict[str, Any]:
    """Lint every bundled contract and record the clean ones (a contract with problems is left out)."""
    from apiconform.contracts._check import check_contract

    vendors = {}
    for folder in sorted(p for p in BUNDLED.iterdir() if (p / "openapi.yaml").is_file()):
        result = check_contract(folder / "openapi.yaml")
        if result.ok:
            vendors[folder.name] = {"digest": _folder_digest(folder), "operations": result.operations,
                                    "examples": result.examples, "errata": result.errata}
    stamps = {"libraries": library_versions(), "vendors": vendors}
    STAMPS.write_text(json.dumps(stamps, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return stamps


def write_parsed() -> list[Path]:
    """Each bundled contract's parsed document beside the folders (read instead of parsing its YAML while the
    contract's text and PyYAML are those it was written from)."""
    from apiconform.contracts._loader import shipped_parse_text

    written = []
    for folder in sorted(p for p in BUNDLED.iterdir() if (p / "openapi.yaml").is_file()):
        target = BUNDLED / f"{folder.name}.parsed.json"
        target.write_text(shipped_parse_text((folder / "openapi.yaml").read_text(encoding="utf-8")), encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    written = write_stamps()
    print(f"{STAMPS}: {', '.join(written['vendors'])} clean")
    print("parsed:", ", ".join(p.name for p in write_parsed()))
