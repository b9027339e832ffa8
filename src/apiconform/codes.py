"""Stable failure codes: one per kind of finding (check x what went wrong), as schemathesis has ST101...

A code never changes meaning once published, so a team can write it in a waiver, in `--fail-on`, in a ticket,
and look it up with `apiconform explain CODE`. docs/codes.md is generated from this table (a test keeps it so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from apiconform.findings import UNREGISTERED_CODE, Category, code_for

__all__ = ["CODES", "CODE_PATTERN", "UNREGISTERED_CODE", "FailureCode", "code_for", "explain", "is_code", "markdown_table"]

CODE_PATTERN = re.compile(r"^AC\d{3}$")

_WAIVE = ("waive one finding: `apiconform baseline update` (a waiver per fingerprint, with a reason and an expiry); "
          "every finding of this kind: a waiver with `code: {code}` instead of a fingerprint; "
          "not gating at all: `--fail-on` listing the codes or categories that should fail the build, without this one")


@dataclass(frozen=True)
class FailureCode:
    code: str
    check: str
    category: Category
    title: str
    meaning: str
    cause: str

    @property
    def waive(self) -> str:
        return _WAIVE.format(code=self.code)


_C = Category
CODES: tuple[FailureCode, ...] = (
    FailureCode("AC100", "transport_ok", _C.TRANSPORT, "no usable HTTP answer",
                "the request got no complete answer: timeout, connection reset, truncated or oversized body",
                "the vendor is slow or down, a proxy cut the answer, or the body exceeds the size cap"),
    FailureCode("AC200", "not_a_server_error", _C.SERVER_ERROR, "server error (5xx)",
                "the API answered with a 5xx status to a request",
                "an unhandled input in the vendor's code (often a value at the edge of its documented range)"),
    FailureCode("AC301", "status_code_documented", _C.STATUS_CODE, "undocumented status code",
                "the answer's status is not among the responses the contract documents for the operation",
                "the vendor answers a status its docs omit (e.g. 422 where 400 is documented), or a route changed"),
    FailureCode("AC302", "expected_outcome", _C.STATUS_CODE, "invalid request accepted",
                "a request the contract says is invalid was answered with a success status",
                "the vendor validates less than it documents (a missing required field, a value outside its enum)"),
    FailureCode("AC401", "expected_outcome", _C.AUTH, "request without valid credentials accepted",
                "a request with missing or wrong credentials was answered with a success status",
                "the operation is public in fact, or authentication is not enforced on this route"),
    FailureCode("AC402", "expected_outcome", _C.AUTH, "bad credentials answered with an undocumented status",
                "missing or wrong credentials were refused, but not with the status the contract documents",
                "the vendor answers 403 or 404 where 401 is documented (or the other way round)"),
    FailureCode("AC403", "expected_outcome", _C.AUTH, "valid credentials refused",
                "a request with the configured, valid credentials was answered 401 or 403 (a documented 403 only for "
                "records the run knows exist: for an id it made up, or a record it deleted, the 403 is about the record)",
                "expired or under-privileged credentials, or an operation forbidden to this account "
                "(declare it with x-apiconform-forbidden)"),
    FailureCode("AC404", "auth_undeclared", _C.AUTH, "credentials required but not described",
                "a live server refused a request without credentials (401/403) where the vendor's own description "
                "declares no security for the operation and documents no auth failure (the contract's scheme was "
                "inferred by `apiconform init`: `x-apiconform-inferred`)",
                "the description omits the server's authentication: a client generated from it sends no credentials"),
    FailureCode("AC303", "valid_request_accepted", _C.STATUS_CODE, "valid request refused as malformed",
                "a request the contract accepts was refused with 400/422, and the vendor's error names an input whose "
                "documented form (type, pattern, format, bounds, enum) the sent value meets",
                "the vendor validates otherwise than it documents (an anchored pattern, a tighter bound, a format)"),
    FailureCode("AC501", "content_type_conformance", _C.CONTENT_TYPE, "body without Content-Type",
                "the answer has a body but no Content-Type header",
                "a framework default or an error page served without headers"),
    FailureCode("AC502", "content_type_conformance", _C.CONTENT_TYPE, "undocumented Content-Type",
                "the answer's Content-Type is not one the contract documents for its status",
                "an HTML error page from a proxy, or text/plain where JSON is documented"),
    FailureCode("AC503", "content_type_conformance", _C.CONTENT_TYPE, "body does not parse as its Content-Type",
                "the answer is labelled JSON but is not valid UTF-8 JSON",
                "a truncated body, or HTML served as application/json"),
    FailureCode("AC601", "response_schema_conformance", _C.FIELD_TYPE, "field of the wrong type or format",
                "a field of the answer has another JSON type, format or bounds than the schema documents",
                "a type change on the vendor's side (integer ids become strings), or null where it is not allowed"),
    FailureCode("AC602", "response_schema_conformance", _C.ENUM, "value outside the documented enum",
                "a field holds a value its schema's enum (or const) does not list",
                "the vendor added or renamed a value (a new status) without documenting it"),
    FailureCode("AC603", "response_schema_conformance", _C.REQUIRED_FIELD, "required field missing",
                "a field the schema marks required is absent (dropped or renamed), or a documented body is empty",
                "a renamed or removed field on the vendor's side"),
    FailureCode("AC604", "response_schema_conformance", _C.ERROR_SHAPE, "error body not in the documented shape",
                "an error answer (4xx) does not validate against the documented error schema",
                "a different error format on some routes (framework default errors, a gateway's own errors)"),
    FailureCode("AC611", "response_headers_conformance", _C.FIELD_TYPE, "documented response header missing or invalid",
                "a header the contract documents for the answer is missing where required, or its value does not "
                "match its schema (a Link header is judged under pagination)",
                "a header renamed or dropped by the vendor or a proxy"),
    FailureCode("AC621", "response_echoes_request", _C.FIELD_TYPE, "answer does not echo what was sent",
                "a field the contract says the answer echoes (x-apiconform-echo) differs from what the request sent",
                "the vendor normalises or ignores the value (trims, rounds, lower-cases, drops it)"),
    FailureCode("AC622", "write_only_absent", _C.FIELD_TYPE, "writeOnly property sent back",
                "a success answer carries a property the contract marks writeOnly (OpenAPI: SHOULD NOT; minor)",
                "a secret or password echoed (often masked) in a read model"),
    FailureCode("AC701", "pagination_conformance", _C.PAGINATION, "pagination not as documented",
                "page size bounds, the Link header or the count/next/previous envelope differ from the contract",
                "a page larger than requested, a missing Link header, or a count that disagrees with the results"),
    FailureCode("AC801", "idempotent_replay", _C.STATUS_CODE, "idempotency key not honoured",
                "the same idempotency key and body did not replay the first answer",
                "the vendor ignores the idempotency header, or stores keys for a shorter time than documented"),
    FailureCode("AC811", "read_after_write", _C.STATUS_CODE, "record just written cannot be read",
                "after a create or update, reading the record back did not answer 2xx",
                "eventual consistency, or a write that did not persist"),
    FailureCode("AC812", "read_after_write", _C.FIELD_TYPE, "record reads back other values than written",
                "a field written by a create or update reads back with a different value",
                "the vendor ignores or transforms the field on write"),
    FailureCode("AC813", "created_id", _C.REQUIRED_FIELD, "create answered without an id",
                "a create answered 2xx but the answer carries no id of the new record",
                "a create answer that omits the id field, or names it differently"),
    FailureCode("AC814", "listed_after_create", _C.STATUS_CODE, "created record missing from its list",
                "a record just created does not appear in the list operation's answer",
                "eventual consistency, or list filtering the documentation does not mention"),
    FailureCode("AC815", "gone_after_delete", _C.STATUS_CODE, "deleted record not answered as gone",
                "after a 2xx delete, reading the record did not answer 404 or 410 (a 2xx, or a 401/403 where 404 is "
                "documented)",
                "soft deletes, a delete that did not persist, or a vendor hiding deleted records behind 403"),
)
_BY_CODE = {c.code: c for c in CODES}


def is_code(text: str) -> bool:
    return bool(CODE_PATTERN.match(text.strip().upper()))


def explain(code: str) -> FailureCode:
    from apiconform.errors import UsageError

    found = _BY_CODE.get(code.strip().upper())
    if found is None:
        import difflib

        close = difflib.get_close_matches(code.strip().upper(), list(_BY_CODE), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UsageError(f"unknown failure code {code!r} ({hint}known: {', '.join(_BY_CODE)})")
    return found


def markdown_table() -> str:
    """docs/codes.md's table (generated; tests/test_codes.py keeps the file equal to it)."""
    rows = ["| code | category | check | what it means | typical cause |", "|---|---|---|---|---|"]
    for c in CODES:
        rows.append(f"| `{c.code}` | {c.category.value} | `{c.check}` | **{c.title}**: {c.meaning} | {c.cause} |")
    return "\n".join(rows) + "\n"
