"""Clean lints of the bundled contracts, shipped with the tool: a fresh CI runner need not lint them again.

The lint (openapi-spec-validator over the whole document, then apiconform's own checks) is a pure function of the
contract folder's files and the linting libraries; for a bundled contract both are fixed when the tool is built,
and the tool's own tests lint every bundled contract on every change (tests/contracts/test_contracts.py), so its verdict
is known. `lint-clean.json` beside the bundled folders records, per vendor, the digest of the folder's files,
the libraries' versions and the counts the lint reported; `apiconform run` takes a bundled contract as clean
only when both match exactly (an edited contract, or other library versions, are linted as before).
Regenerate after editing a bundled contract: `python -m apiconform.contracts._stamp`. It also writes each bundled
contract's parsed document (`VENDOR.parsed.json`, see `contracts._loader.shipped_parse`).
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

BUNDLED = Path(__file__).resolve().parent / "bundled"
STAMPS = BUNDLED / "lint-clean.json"
LIBRARIES = ("openapi-spec-validator", "jsonschema", "referencing", "pyyaml")


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(f"\0{path.relative_to(folder)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def shipped_clean(folder: Path) -> dict[str, int] | None:
    """The counts of a bundled contract's clean lint when its files and the libraries are those stamped, else None."""
    try:
        folder = folder.resolve()
        if folder.parent != BUNDLED:
            return None
        stamps = json.loads(STAMPS.read_text(encoding="utf-8"))
        entry = stamps["vendors"][folder.name]
        if stamps["libraries"] != library_versions() or entry["digest"] != folder_digest(folder):
            return None
        return {k: int(entry[k]) for k in ("operations", "examples", "errata")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamps() -> dict[str, Any]:
    """Lint every bundled contract and record the clean ones (a contract with problems is left out)."""
    from apiconform.contracts._check import check_contract

    vendors = {}
    for folder in sorted(p for p in BUNDLED.iterdir() if (p / "openapi.yaml").is_file()):
        result = check_contract(folder / "openapi.yaml")
        if result.ok:
            vendors[folder.name] = {"digest": folder_digest(folder), "operations": result.operations,
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
