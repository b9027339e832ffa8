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
    code: str = ""  # the stable failure code (apiconform.codes; `apiconform explain CODE`); derived when not given
    # the request and answer judged (redacted, bodies cut), for reports; not part of a finding's identity
    exchange: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if not self.code:
            object.__setattr__(self, "code", code_for(self.check, self.category, self.message))

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


# The stable failure code of each (check, category): apiconform.codes explains each (`apiconform explain CODE`).
CODE_BY_CHECK: dict[tuple[str, Category], str] = {
    ("transport_ok", Category.TRANSPORT): "AC100",
    ("not_a_server_error", Category.SERVER_ERROR): "AC200",
    ("status_code_documented", Category.STATUS_CODE): "AC301",
    ("expected_outcome", Category.STATUS_CODE): "AC302",
    ("valid_request_accepted", Category.STATUS_CODE): "AC303",
    ("expected_outcome", Category.AUTH): "AC401",
    ("auth_undeclared", Category.AUTH): "AC404",
    ("content_type_conformance", Category.CONTENT_TYPE): "AC501",
    ("response_schema_conformance", Category.FIELD_TYPE): "AC601",
    ("response_schema_conformance", Category.ENUM): "AC602",
    ("response_schema_conformance", Category.REQUIRED_FIELD): "AC603",
    ("response_schema_conformance", Category.ERROR_SHAPE): "AC604",
    ("response_headers_conformance", Category.FIELD_TYPE): "AC611",
    ("response_echoes_request", Category.FIELD_TYPE): "AC621",
    ("write_only_absent", Category.FIELD_TYPE): "AC622",
    ("pagination_conformance", Category.PAGINATION): "AC701",
    ("idempotent_replay", Category.STATUS_CODE): "AC801",
    ("read_after_write", Category.STATUS_CODE): "AC811",
    ("read_after_write", Category.FIELD_TYPE): "AC812",
    ("created_id", Category.REQUIRED_FIELD): "AC813",
    ("listed_after_create", Category.STATUS_CODE): "AC814",
    ("gone_after_delete", Category.STATUS_CODE): "AC815",
}
UNREGISTERED_CODE = "AC900"  # a check added with @check(...) that has no code in the table


def code_for(check: str, category: Category, message: str = "") -> str:
    """The code of a finding: by its check and category, refined by what the message says where one check
    reports several kinds (auth outcomes, content-type problems); any header finding is AC611."""
    if check == "expected_outcome" and category is Category.AUTH:
        if "valid credentials refused" in message:
            return "AC403"
        return "AC402" if "documented" in message else "AC401"
    if check == "content_type_conformance":
        if "no Content-Type" in message:
            return "AC501"
        return "AC503" if "not valid" in message else "AC502"
    if check == "response_headers_conformance":
        return "AC611"
    return CODE_BY_CHECK.get((check, category), UNREGISTERED_CODE)


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
    #: the status each request with the caller's own credentials got, in the order sent: one plan run against two
    #: versions sends the same requests in the same order, so `apiconform upgrade` compares them request by request
    statuses: list[int] = field(default_factory=list)

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
