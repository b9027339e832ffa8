"""The one vocabulary every stage shares: categories, findings and case outcomes.

Checks produce `Finding`s; the pytest plugin wraps each executed test case in a `CaseResult`;
report writers and the gate consume nothing else (an event stream, as in schemathesis).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any


class Category(str, enum.Enum):
    """Closed set of finding categories. Each is also a pytest marker (`pytest -m enum`)."""

    STATUS_CODE = "status-code"
    FIELD_TYPE = "field-type"
    ENUM = "enum"
    ERROR_SHAPE = "error-shape"
    REQUIRED_FIELD = "required-field"
    CONTENT_TYPE = "content-type"
    PAGINATION = "pagination"
    AUTH = "auth"
    SERVER_ERROR = "server-error"
    TRANSPORT = "transport"

    @property
    def marker(self) -> str:
        """The pytest marker: the canonical spelling (`pytest -m field-type`); `field_type` is also registered."""
        return self.value

    @property
    def marker_alias(self) -> str:
        """The underscore spelling, kept as a second marker for existing `-m` expressions."""
        return self.value.replace("-", "_")

    @classmethod
    def parse(cls, text: str) -> Category:
        """The category a user typed: the canonical spelling, `field_type`, or a short alias (`types`)."""
        key = text.strip().lower().replace("_", "-")
        try:
            return cls(CATEGORY_ALIASES.get(key, key))
        except ValueError:
            import difflib

            from apiconform.errors import UsageError

            close = difflib.get_close_matches(key, [c.value for c in cls] + list(CATEGORY_ALIASES), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(dict.fromkeys(CATEGORY_ALIASES.get(c, c) for c in close))}? " if close else ""
            known = ", ".join(c.value for c in cls)
            raise UsageError(f"unknown category {text!r} ({hint}known: {known})") from None


CATEGORY_ALIASES: dict[str, str] = {  # accepted on input, never printed
    "status": "status-code", "types": "field-type", "type": "field-type", "enums": "enum",
    "errors": "error-shape", "required": "required-field", "ctype": "content-type", "paging": "pagination",
    "5xx": "server-error",
}


def categories_help() -> str:
    """The categories as `--help` lists them (canonical spelling; aliases accepted)."""
    return ", ".join(c.value for c in Category) + " (also accepted: field_type style, " + \
        ", ".join(f"{a}={c}" for a, c in CATEGORY_ALIASES.items()) + ")"


CATEGORY_DESCRIPTIONS: dict[Category, str] = {
    Category.STATUS_CODE: "response status not documented for the operation (or wrong status for a negative case)",
    Category.FIELD_TYPE: "a body field has the wrong JSON type, format or bounds",
    Category.ENUM: "a value outside the documented enum",
    Category.ERROR_SHAPE: "an error response whose body does not match the vendor's documented error shape",
    Category.REQUIRED_FIELD: "a documented required field is missing (dropped or renamed)",
    Category.CONTENT_TYPE: "Content-Type missing, not documented, or body not parseable as it",
    Category.PAGINATION: "pagination envelope, Link header or page bounds not as documented",
    Category.AUTH: "credentials not enforced, or valid credentials rejected",
    Category.SERVER_ERROR: "a 5xx answer",
    Category.TRANSPORT: "no usable HTTP answer: timeout, reset, truncated or oversized body",
}


class Severity(str, enum.Enum):
    BLOCKER = "blocker"
    CRITICAL = "critical"
    NORMAL = "normal"
    MINOR = "minor"


@dataclass(frozen=True)
class Finding:
    """One failed check, with what a person needs to reproduce and judge it."""

    vendor: str
    operation: str
    check: str
    category: Category
    message: str
    pointer: str = ""  # JSON pointer into the response body ("" = the whole response)
    expected: Any = None
    actual: Any = None
    status: int | None = None
    curl: str = ""  # reproduction command, secrets already redacted
    severity: Severity = Severity.CRITICAL

    @property
    def fingerprint(self) -> str:
        """Stable identity across runs: what failed and where, not the generated values."""
        raw = "|".join((self.vendor, self.operation, self.check, self.category.value, _generic_pointer(self.pointer)))
        return hashlib.sha1(raw.encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["category"] = self.category.value
        data["severity"] = self.severity.value
        data["fingerprint"] = self.fingerprint
        data["expected"] = jsonable(self.expected)
        data["actual"] = jsonable(self.actual)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["category"] = Category(fields["category"])
        fields["severity"] = Severity(fields.get("severity", "critical"))
        return cls(**fields)


@dataclass
class CaseResult:
    """One executed test case (one check group on one request), pass or fail."""

    vendor: str
    operation: str
    suite: str  # examples | properties | stateful | negative
    name: str
    findings: list[Finding] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # names of the checks that ran
    categories: list[Category] = field(default_factory=list)  # categories those checks cover
    status: int | None = None
    duration: float = 0.0
    skipped: str = ""  # reason, when the case did not run
    requests: int = 0  # HTTP requests the case sent (retries included)

    @property
    def passed(self) -> bool:
        return not self.findings and not self.skipped


def _generic_pointer(ptr: str) -> str:
    """`/results/3/id` and `/results/0/id` are the same place for fingerprinting."""
    return "/".join("*" if part.isdigit() else part for part in ptr.split("/"))


def jsonable(value: Any) -> Any:
    """The value if JSON can carry it, else its repr (findings must always serialise)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
