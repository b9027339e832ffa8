"""What `apiconform diff` reports: typed change records, where they are, and the report holding them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from apiconform.contracts import Contract, _pointer
from apiconform.findings import Category, jsonable

Direction = Literal["request", "response"]


class Facet(StrEnum):
    """What changed about one field of a schema; the kind of change is its direction, then the facet."""

    RETYPED = "field-retyped"
    NULLABLE = "field-nullable"
    NOT_NULLABLE = "field-not-nullable"
    FORMAT_CHANGED = "field-format-changed"
    ENUM_VALUE_ADDED = "enum-value-added"
    ENUM_VALUE_REMOVED = "enum-value-removed"
    ENUM_REMOVED = "enum-removed"
    ENUM_INTRODUCED = "enum-introduced"
    RENAMED = "field-renamed"
    REMOVED = "field-removed"
    ADDED = "field-added"
    ADDED_REQUIRED = "field-added-required"
    REQUIRED = "field-required"
    OPTIONAL = "field-optional"


class Kind(StrEnum):
    """Every kind of change `apiconform diff` reports (the `kind` of its text, Markdown and JSON output)."""

    OPERATION_REMOVED = "operation-removed"
    OPERATION_ADDED = "operation-added"
    OPERATION_MOVED = "operation-moved"
    OPERATION_ID_CHANGED = "operation-id-changed"
    PATH_PARAMETER_RENAMED = "path-parameter-renamed"
    SECURITY_SCHEME_REMOVED = "security-scheme-removed"
    SECURITY_SCHEME_CHANGED = "security-scheme-changed"
    SECURITY_SCHEME_ADDED = "security-scheme-added"
    AUTH_CHANGED = "auth-changed"
    AUTH_RELAXED = "auth-relaxed"
    PAGINATION_CHANGED = "pagination-changed"
    PAGINATION_DEFAULT_CHANGED = "pagination-default-changed"
    PAGINATION_MAX_CHANGED = "pagination-max-changed"
    PARAMETER_REMOVED = "parameter-removed"
    PARAMETER_ADDED = "parameter-added"
    PARAMETER_ADDED_REQUIRED = "parameter-added-required"
    PARAMETER_REQUIRED = "parameter-required"
    PARAMETER_OPTIONAL = "parameter-optional"
    REQUEST_BODY_ADDED = "request-body-added"
    REQUEST_BODY_REMOVED = "request-body-removed"
    REQUEST_BODY_REQUIRED = "request-body-required"
    REQUEST_BODY_OPTIONAL = "request-body-optional"
    REQUEST_CONTENT_TYPE_REMOVED = "request-content-type-removed"
    REQUEST_CONTENT_TYPE_ADDED = "request-content-type-added"
    SUCCESS_STATUS_CHANGED = "success-status-changed"
    SUCCESS_STATUS_REMOVED = "success-status-removed"
    STATUS_REMOVED = "status-removed"
    STATUS_ADDED = "status-added"
    STATUS_CHANGED = "status-changed"  # the same request (one plan, two versions) answered another status
    RESPONSE_HEADER_REMOVED = "response-header-removed"
    RESPONSE_HEADER_ADDED = "response-header-added"
    RESPONSE_CONTENT_TYPE_REMOVED = "response-content-type-removed"
    RESPONSE_CONTENT_TYPE_ADDED = "response-content-type-added"
    RESPONSE_SCHEMA_REMOVED = "response-schema-removed"
    # schema facets, per direction (`Kind.of`)
    REQUEST_FIELD_RETYPED = "request-field-retyped"
    REQUEST_FIELD_NULLABLE = "request-field-nullable"
    REQUEST_FIELD_NOT_NULLABLE = "request-field-not-nullable"
    REQUEST_FIELD_FORMAT_CHANGED = "request-field-format-changed"
    REQUEST_ENUM_VALUE_ADDED = "request-enum-value-added"
    REQUEST_ENUM_VALUE_REMOVED = "request-enum-value-removed"
    REQUEST_ENUM_REMOVED = "request-enum-removed"
    REQUEST_ENUM_INTRODUCED = "request-enum-introduced"
    REQUEST_FIELD_RENAMED = "request-field-renamed"
    REQUEST_FIELD_REMOVED = "request-field-removed"
    REQUEST_FIELD_ADDED = "request-field-added"
    REQUEST_FIELD_ADDED_REQUIRED = "request-field-added-required"
    REQUEST_FIELD_REQUIRED = "request-field-required"
    REQUEST_FIELD_OPTIONAL = "request-field-optional"
    RESPONSE_FIELD_RETYPED = "response-field-retyped"
    RESPONSE_FIELD_NULLABLE = "response-field-nullable"
    RESPONSE_FIELD_NOT_NULLABLE = "response-field-not-nullable"
    RESPONSE_FIELD_FORMAT_CHANGED = "response-field-format-changed"
    RESPONSE_ENUM_VALUE_ADDED = "response-enum-value-added"
    RESPONSE_ENUM_VALUE_REMOVED = "response-enum-value-removed"
    RESPONSE_ENUM_REMOVED = "response-enum-removed"
    RESPONSE_ENUM_INTRODUCED = "response-enum-introduced"
    RESPONSE_FIELD_RENAMED = "response-field-renamed"
    RESPONSE_FIELD_REMOVED = "response-field-removed"
    RESPONSE_FIELD_ADDED = "response-field-added"
    RESPONSE_FIELD_ADDED_REQUIRED = "response-field-added-required"
    RESPONSE_FIELD_REQUIRED = "response-field-required"
    RESPONSE_FIELD_OPTIONAL = "response-field-optional"

    @classmethod
    def of(cls, direction: Direction, facet: Facet) -> Kind:
        """The kind of a schema facet's change on one side of the exchange."""
        return cls(f"{direction}-{facet.value}")


@dataclass(frozen=True)
class Location:
    """Where a change is: an operation (`GET /accounts/{id}`), the part of it (`200 application/json`,
    `query:limit`, `security`), and a JSON pointer inside that part's schema or the document.

    Kept as parts so nothing parses the rendered string back; `str()` is the spelling every output shows.
    """

    operation: str = ""
    parts: tuple[str, ...] = ()
    pointer: tuple[str, ...] | None = None  # unescaped tokens; None: not a place inside a schema/document

    def within(self, *parts: str) -> Location:
        """A part of this place (`GET /x` -> `GET /x 200`)."""
        return replace(self, parts=self.parts + parts)

    def at(self, tokens: tuple[str, ...]) -> Location:
        """A place inside this part's schema (`GET /x 200 application/json #/items/id`)."""
        return replace(self, pointer=tokens)

    def __str__(self) -> str:
        words = ([self.operation] if self.operation else []) + list(self.parts)
        if self.pointer is not None:
            words.append("#" + _pointer.pointer(*self.pointer))
        return " ".join(words)


@dataclass(frozen=True)
class Change:
    """One difference between the versions, judged from the point of view of an existing client."""

    kind: Kind
    breaking: bool
    category: Category | None
    operation: str
    at: Location
    old: Any
    new: Any
    message: str

    @property
    def location(self) -> str:
        return str(self.at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "breaking": self.breaking,
            "category": self.category.value if self.category else None,
            "operation": self.operation,
            "location": self.location,
            "old": jsonable(self.old),
            "new": jsonable(self.new),
            "message": self.message,
        }


@dataclass
class DiffReport:
    """All changes, in document order (operations of OLD first, then added ones)."""

    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def non_breaking(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]

    @property
    def has_breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def kinds(self) -> list[str]:
        return [c.kind.value for c in self.changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "summary": {"breaking": len(self.breaking), "non_breaking": len(self.non_breaking)},
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass
class Sides:
    """The two contracts being compared and the changes found so far (in the order they are found)."""

    old: Contract
    new: Contract
    changes: list[Change] = field(default_factory=list)

    def add(
        self,
        kind: Kind,
        *,
        breaking: bool,
        category: Category | None = None,
        operation: str = "",
        at: Location,
        old: Any = None,
        new: Any = None,
        message: str,
    ) -> None:
        self.changes.append(
            Change(
                kind=kind, breaking=breaking, category=category, operation=operation, at=at, old=old, new=new,
                message=message,
            )
        )
