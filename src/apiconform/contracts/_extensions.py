"""Typed `x-apiconform-pagination` / `x-apiconform-idempotency`: read once by the loader, so every
reader (mock, engine, checks, diff) uses attributes whose defaults are defined here and nowhere else.

Unknown keys are tolerated (kept in `raw`, which `gate.diff` compares as declared); a value of the
wrong type is a `ContractError` naming the file, the operation and the key, never a traceback later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from apiconform.errors import ContractError

PAGINATION_EXTENSION = "x-apiconform-pagination"
IDEMPOTENCY_EXTENSION = "x-apiconform-idempotency"

PaginationStyle = Literal["page", "offset"]
PAGINATION_STYLES: tuple[str, ...] = get_args(PaginationStyle)
#: the page size a client that names none gets, per style, when the contract declares no `default`
_DEFAULT_PAGE_SIZE: dict[str, int] = {"page": 25, "offset": 100}


@dataclass(frozen=True)
class Envelope:
    """Member names of an enveloped list answer (`{count, next, previous, results}`)."""

    count: str = "count"
    next: str = "next"
    previous: str = "previous"
    results: str = "results"


DEFAULT_ENVELOPE = Envelope()


@dataclass(frozen=True)
class Pagination:
    """How a list operation pages (`x-apiconform-pagination`)."""

    #: None: not declared, or a style apiconform does not run (the extension is still kept in `raw`)
    style: PaginationStyle | None = None
    page_param: str = "page"
    per_page_param: str = "per_page"
    limit_param: str = "limit"
    offset_param: str = "offset"
    default: int | None = None
    max: int | None = None
    link_header: bool = False
    #: None when the contract declares no envelope (the offset style still answers one, see `names`)
    envelope: Envelope | None = None
    #: the extension exactly as the document declares it
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def page_size(self) -> int:
        """The page size a client that names none gets: `default`, else the style's (25 per page, 100 per offset)."""
        if self.default is not None:
            return self.default
        return _DEFAULT_PAGE_SIZE.get(self.style or "page", _DEFAULT_PAGE_SIZE["page"])

    @property
    def names(self) -> Envelope:
        """The envelope's member names: the declared ones, else the defaults."""
        return self.envelope or DEFAULT_ENVELOPE

    @property
    def params(self) -> frozenset[str]:
        """Query parameters the pagination owns (never record filters): the typed ones and any other
        declared `*_param` (of a style apiconform does not run, e.g. `cursor_param`)."""
        declared = {str(v) for k, v in self.raw.items() if k.endswith("_param") and v is not None}
        return frozenset({self.page_param, self.per_page_param, self.limit_param, self.offset_param} | declared)


@dataclass(frozen=True)
class Idempotency:
    """An operation that honours an idempotency key (`x-apiconform-idempotency`)."""

    header: str = "Idempotency-Key"
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


class _Reader:
    """Typed values of one extension mapping; a wrong type is one `ContractError` line."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw, self.where = raw, where

    def value(self, key: str, ok: Callable[[Any], bool], expected: str) -> Any:
        """The key's value (None when absent or null); a value `ok` refuses is one `ContractError` line."""
        value = self.raw.get(key)
        if value is not None and not ok(value):
            raise ContractError(f"{self.where}/{key}: expected {expected}, got {value!r}")
        return value

    def text(self, key: str, default: str) -> str:
        value: str | None = self.value(key, lambda v: isinstance(v, str) and bool(v), "a non-empty string")
        return default if value is None else value

    def integer(self, key: str) -> int | None:
        value: int | None = self.value(key, lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value: bool | None = self.value(key, lambda v: isinstance(v, bool), "true or false")
        return default if value is None else value

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        value: Mapping[str, Any] | None = self.value(key, lambda v: isinstance(v, Mapping), "a mapping")
        return value


def _mapping(value: Any, where: str) -> Mapping[str, Any] | None:
    """The extension's mapping; None when absent or empty (an empty extension declares nothing)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ContractError(f"{where}: expected a mapping, got {value!r}")
    return value or None


def pagination_of(definition: Mapping[str, Any], where: str) -> Pagination | None:
    """The typed `x-apiconform-pagination` of an operation; `where` names file and operation in errors."""
    where = f"{where}/{PAGINATION_EXTENSION}"
    raw = _mapping(definition.get(PAGINATION_EXTENSION), where)
    if raw is None:
        return None
    read = _Reader(raw, where)
    style = raw.get("style")
    names = read.mapping("envelope")
    envelope = None
    if names:
        env = _Reader(names, f"{where}/envelope")
        envelope = Envelope(
            count=env.text("count", DEFAULT_ENVELOPE.count),
            next=env.text("next", DEFAULT_ENVELOPE.next),
            previous=env.text("previous", DEFAULT_ENVELOPE.previous),
            results=env.text("results", DEFAULT_ENVELOPE.results),
        )
    defaults = Pagination()
    return Pagination(
        style="page" if style == "page" else "offset" if style == "offset" else None,
        page_param=read.text("page_param", defaults.page_param),
        per_page_param=read.text("per_page_param", defaults.per_page_param),
        limit_param=read.text("limit_param", defaults.limit_param),
        offset_param=read.text("offset_param", defaults.offset_param),
        default=read.integer("default"),
        max=read.integer("max"),
        link_header=read.flag("link_header", defaults.link_header),
        envelope=envelope,
        raw=raw,
    )


def idempotency_of(definition: Mapping[str, Any], where: str) -> Idempotency | None:
    """The typed `x-apiconform-idempotency` of an operation; `where` names file and operation in errors."""
    where = f"{where}/{IDEMPOTENCY_EXTENSION}"
    raw = _mapping(definition.get(IDEMPOTENCY_EXTENSION), where)
    if raw is None:
        return None
    return Idempotency(header=_Reader(raw, where).text("header", Idempotency().header), raw=raw)
