"""Where apiconform keeps what it can recompute: generated cases (`engine._casecache`) and parsed contract
documents (`contracts._loader`).

`APICONFORM_CACHE_DIR` moves it (default `$XDG_CACHE_HOME/apiconform` or `~/.cache/apiconform`);
`APICONFORM_CACHE=off` switches every cache off; a run's `--no-cache` (`EngineOptions.cache`) does for that run
(`switched`, applied by the gate and by each engine process from the run's options). Entries are plain JSON written
atomically, never code, and a missing, damaged or unwritable entry only means recomputing it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from pathlib import Path


def code_version(sources: Iterable[Path], dists: Iterable[str]) -> str:
    """What a cached result was computed by: a digest of our own code that computes it and the versions of the
    libraries it relies on (an edit or an upgrade computes afresh instead of replaying an older result)."""
    code = hashlib.sha256(b"".join(hashlib.sha256(path.read_bytes()).digest() for path in sources)).hexdigest()
    parts = [f"code={code[:16]}"]
    for dist in dists:
        parts.append(f"{dist}={dist_version(dist) or '-'}")
    return ";".join(parts)


@functools.cache
def dist_version(name: str) -> str | None:
    """An installed distribution's version, as `importlib.metadata.version` gives it (None: not installed), looked up
    once per process. The first `NAME-*.dist-info` folder on `sys.path` (importlib.metadata's order and name
    normalisation) has its METADATA's `Version` line read directly: importing importlib.metadata (email, zipfile,
    csv: 25-50 ms) and its search cost more than every start-up step they serve; anything else (an egg, a zip, a
    folder without that line) asks importlib.metadata."""
    wanted = re.sub(r"[-_.]+", "_", name).lower()
    for entry in sys.path:
        try:
            names = _listing(entry or ".")
        except OSError:
            continue
        for child in names.get(wanted, ()):
            if not child.endswith(".dist-info"):
                return _metadata_version(name)
            try:
                with open(os.path.join(entry or ".", child, "METADATA"), encoding="utf-8") as handle:
                    for line in handle:
                        if line.startswith("Version:"):
                            return line[len("Version:"):].strip()
                        if not line.strip():
                            break
            except (OSError, UnicodeDecodeError):
                pass
            return _metadata_version(name)
    return _metadata_version(name)


@functools.cache
def _listing(entry: str) -> dict[str, tuple[str, ...]]:
    """A `sys.path` folder's `.dist-info`/`.egg-info` children by normalised distribution name."""
    found: dict[str, list[str]] = {}
    if not os.path.isdir(entry):
        return {}
    for child in sorted(os.listdir(entry)):
        base, dot, suffix = child.lower().rpartition(".")
        if dot and suffix in ("dist-info", "egg-info"):
            found.setdefault(re.sub(r"[-_.]+", "_", base.partition("-")[0]), []).append(child)
    return {key: tuple(value) for key, value in found.items()}


def _metadata_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


#: a run's own switch (`--no-cache`, `EngineOptions.cache`), set for the duration of the run by `switched`;
#: None: the environment decides
_SWITCH: ContextVar[bool | None] = ContextVar("apiconform_cache", default=None)


def enabled() -> bool:
    switch = _SWITCH.get()
    if switch is not None:
        return switch
    return os.environ.get("APICONFORM_CACHE", "on").lower() not in ("off", "0", "false", "no")


@contextlib.contextmanager
def switched(on: bool) -> Iterator[None]:
    """Caches off for what runs inside (`on=False`: a run's `--no-cache`); `on=True` leaves the environment's say."""
    token = _SWITCH.set(None if on else False)
    try:
        yield
    finally:
        _SWITCH.reset(token)


def directory() -> Path:
    configured = os.environ.get("APICONFORM_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "apiconform"


def read(kind: str, key: str) -> str | None:
    """The text stored under `kind/key.json`, or None (cache off, missing or unreadable)."""
    if not enabled():
        return None
    try:
        return (directory() / kind / f"{key}.json").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write(kind: str, key: str, text: str) -> None:
    """Store atomically (parallel workers may write the same key); an unwritable cache is not an error."""
    if not enabled():
        return
    try:
        folder = directory() / kind
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        return
