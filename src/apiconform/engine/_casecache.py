"""Generated cases, cached on disk: hypothesis runs once per (contract, operation, mode, seed, …, generator version).

A case is a pure function of the contract, the operation, the generation mode, the seed, the names of the known
path values and the generator's version, so the serialised requests are stored under a digest of exactly those
inputs and replayed on later runs (and by every worker and suite that asks for the same key). The known values
themselves (ids a run discovers or creates on a live target: new on every run) are placeholders in a stored case,
filled when it is used (`filled`), so a kept cache — a CI cache restored on a fresh runner — replays. A cached case is
the transport-level request schemathesis would have produced, so the verdicts are the same with and
without the cache (tests/engine/test_casecache.py proves it). That a case depends on nothing else holds because
hypothesis' local-module constants are kept out of the draws (`engine._draws`); the generator version
includes the drawing code's digest, so an edited bridge draws afresh.

`APICONFORM_CACHE_DIR` moves the cache (default `$XDG_CACHE_HOME/apiconform` or `~/.cache/apiconform`);
`APICONFORM_CACHE=off` switches it off (`apiconform run --no-cache`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apiconform import _cache
from apiconform.contracts import fill_path as contracts_fill_path

#: bump when the serialised form or the way cases are drawn changes
CACHE_FORMAT = 4  # 3: drawn without hypothesis' local-module constants (engine._draws); 4: known values as placeholders


@dataclass(frozen=True)
class WireCase:
    """A generated request as schemathesis serialises it, its URL relative to the target's base URL."""

    kwargs: dict[str, Any]
    generation: str  # schemathesis' generation mode ("positive"/"negative"), "" when it gave none
    path: str = ""  # the operation's path template
    path_parameters: dict[str, Any] | None = None  # as generated (already in their wire form)
    #: the contract accepted this request as drawn (the compiled generator judged it): sent to the same path values,
    #: it is not judged again; a case addressed to other values (`with_path_parameters`) is
    judged: bool = False

    @property
    def negative(self) -> bool:
        return "negative" in self.generation

    def with_path_parameters(self, params: dict[str, Any]) -> WireCase:
        """The same case addressed to other path values (rendered as schemathesis renders them: the values are
        already in their wire form; tests/engine/test_casecache.py compares with schemathesis on every contract path).
        Replaying a cached case thus never imports schemathesis (~0.15 s of every warm process)."""
        kwargs = dict(self.kwargs)
        kwargs["url"] = fill_path(self.path, params)
        return WireCase(kwargs, self.generation, self.path, dict(params))

    def transport_kwargs(self, base_url: str) -> dict[str, Any]:
        kwargs = dict(self.kwargs)
        kwargs["url"] = base_url.rstrip("/") + str(kwargs.get("url", ""))
        return kwargs


# --- known path values: placeholders in a kept case, filled when it is used -----------------------------------
def placeholder(name: str) -> str:
    """What a case holds where a known path value goes (the value a run discovered, configured or created): a token
    of unreserved characters, so it passes every path style's encoding unchanged and no drawn value is ever it."""
    return "apiconform-known-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def placeholders(known: Mapping[str, str]) -> dict[str, str]:
    return {name: placeholder(name) for name in known}


def filled(case: WireCase, values: Mapping[str, str], wire: Callable[[str, str], str], judged: bool) -> WireCase:
    """`case` with each placeholder replaced by the known value of its parameter (in its wire form, `wire`); a case
    that held one stays judged only when `judged` (the values filled are those it was judged with)."""
    params = case.path_parameters
    if not params:
        return case
    out = dict(params)
    for name, value in params.items():
        if name in values and value in (placeholder(name), wire(name, placeholder(name))):  # raw or in its style
            out[name] = wire(name, str(values[name]))
    if out == params:
        return case
    kwargs = dict(case.kwargs)
    kwargs["url"] = fill_path(case.path, out)
    return WireCase(kwargs, case.generation, case.path, out, case.judged and judged)


def fill_path(template: str, params: Mapping[str, Any]) -> str:
    """A path template filled with generated values already in their wire form (`contracts.fill_path`)."""
    return contracts_fill_path(template, params, encoded=True)


_BASE = "http://apiconform.invalid"


def from_case(case: Any) -> WireCase:
    """Freeze a schemathesis Case into a WireCase (URL made relative)."""
    kwargs = dict(case.as_transport_kwargs(base_url=_BASE))
    url = str(kwargs.get("url", ""))
    kwargs["url"] = url.removeprefix(_BASE)
    path, params = str(getattr(case, "path", "")), getattr(case, "path_parameters", None)
    params = dict(params) if params is not None else None
    meta = getattr(case, "meta", None)
    if meta is None:
        return WireCase(kwargs, "", path, params)
    generation = getattr(meta, "generation", None)
    mode = getattr(generation, "mode", None)
    return WireCase(kwargs, str(getattr(mode, "value", mode or generation)), path, params)


# --- serialisation: JSON with tagged bytes/tuples (no pickle: the cache directory is not trusted code) ------
def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):  # dicts, and requests' CaseInsensitiveDict for headers
        if all(isinstance(k, str) for k in value):
            return {"__dict__": [[k, _encode(v)] for k, v in value.items()]}
        raise TypeError("non-string mapping key")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "__b64__" in value:
            return base64.b64decode(value["__b64__"])
        if "__tuple__" in value:
            return tuple(_decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: _decode(v) for k, v in value["__dict__"]}
    return value


def dumps(cases: list[WireCase], note: str = "", known: Mapping[str, str] | None = None) -> str:
    return json.dumps({"note": note, "known": dict(known or {}), "cases": [
        {"kwargs": _encode(c.kwargs), "generation": c.generation, "path": c.path,
         "path_parameters": _encode(c.path_parameters), **({"judged": True} if c.judged else {})} for c in cases]})


def loads(text: str) -> tuple[list[WireCase], str]:
    cases, note, _ = loads_entry(text)
    return cases, note


def loads_entry(text: str) -> tuple[list[WireCase], str, dict[str, str]]:
    """The cases, the note and the known path values the cases were judged with."""
    data = json.loads(text)
    cases = [WireCase(_decode(item["kwargs"]), str(item["generation"]), str(item["path"]), _decode(item["path_parameters"]),
                      item.get("judged") is True) for item in data["cases"]]
    known = data.get("known") or {}
    return cases, str(data["note"]), {str(k): str(v) for k, v in known.items()}


# --- the store (apiconform._cache: directory, on/off switch, atomic writes) ---------------------------------
@functools.lru_cache(maxsize=1)
def generator_version() -> str:
    """The versions that decide what a seed draws: ours (the release and the drawing code itself, so an edited
    bridge never replays cases an older one drew), schemathesis', hypothesis'."""
    here = Path(__file__).resolve().parent
    drawing = _cache.code_version([here / name for name in ("_generate.py", "_request.py", "_judge.py", "_casecache.py",
                                                            "_draws.py", "_compiled.py", "_sampled.py")],
                                  ("apiconform", "schemathesis", "hypothesis", "hypothesis-jsonschema"))
    return f"fmt{CACHE_FORMAT};{drawing}"


def contract_digest(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def key(*parts: Any) -> str:
    text = json.dumps([generator_version(), *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def get(cache_key: str) -> tuple[list[WireCase], str, dict[str, str]] | None:
    """The cases stored under the key (placeholders where known path values go), their note and the known values
    they were judged with; None when missing or damaged."""
    text = _cache.read("cases", cache_key)
    if text is None:
        return None
    try:
        return loads_entry(text)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # damaged: generate again


def put(cache_key: str, cases: list[WireCase], note: str = "", known: Mapping[str, str] | None = None) -> None:
    """Store atomically (parallel workers may write the same key); an unwritable cache is not an error."""
    try:
        text = dumps(cases, note, known)
    except (TypeError, ValueError):
        return
    _cache.write("cases", cache_key, text)


__all__ = ["WireCase", "contract_digest", "filled", "from_case", "generator_version", "get", "key", "placeholder",
           "placeholders", "put"]
