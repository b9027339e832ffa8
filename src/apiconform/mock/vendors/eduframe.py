"""Eduframe mock behaviour: Bearer API key, `{errors, code, message}` errors, nested `*_attributes` writes.

What the docs say and this module follows (seed 004, introduction):
- a request without a valid API key gets "a 403 Forbidden error or a 404 Not Found error": the mock answers 403;
- 4xx bodies are the one documented shape `{"errors": {...}, "code": <status>, "message": "..."}`;
- "All boolean parameters can be passed as true, false, 1 or 0";
- writes take nested objects as `<name>_attributes` (Rails nested attributes) and answer them as `<name>`.

What the docs leave open and this module decides: a bad query/path parameter (e.g. `per_page=101`,
`page=0`) is a 400 Bad Request ("a required parameter was omitted, a certain include/filter is not
allowed"); an invalid body is a 422 with the failed fields in `errors`.
"""

from __future__ import annotations

from typing import Any

from apiconform.contracts import Operation
from apiconform.mock._synth import overlay
from apiconform.mock.behaviour import Behaviour, Reply

_MESSAGES = {
    "unauthenticated": "Forbidden",
    "forbidden": "Forbidden",
    "not_found": "Not Found",
    "unsupported_media_type": "Bad Request",
    "bad_request": "Bad Request",
    "conflict": "Conflict",
}
_NESTED = "_attributes"


def _nested_names(value: Any) -> Any:
    """`address_attributes` -> `address`, at every depth (what the API answers for what was written)."""
    if isinstance(value, dict):
        return {(k[: -len(_NESTED)] if k.endswith(_NESTED) else k): _nested_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nested_names(v) for v in value]
    return value


def _rails_message(text: str) -> str:
    """The API's (Rails) wording for a schema violation: `can't be blank`, `must be less than ...`, `is invalid`."""
    if text.endswith(("is a required property", "is required.")):
        return "can't be blank"
    for marker, wording in (("maximum of ", "must be less than or equal to "), ("minimum of ", "must be greater than or equal to ")):
        if marker in text:
            return wording + text.rsplit(marker, 1)[1]
    return "is invalid"


class VendorBehaviour(Behaviour):
    def error(self, op: Operation | None, role: str, message: str, ctx: Any, violations: list[Any] | None = None) -> Reply:
        """A bad query/path parameter is a 400 Bad Request; an invalid body stays a 422."""
        violations = list(violations or [])
        if role == "validation" and op is not None and "400" in op.responses and violations and all(
            v.location != "body" for v in violations
        ):
            return Reply(400, self.error_body(op, 400, role, message, violations, ctx))
        return super().error(op, role, message, ctx, violations)

    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        errors: dict[str, list[str]] = {}
        for v in violations:
            errors.setdefault(v.name, []).append(_rails_message(v.message))
        if role == "validation" and errors:
            details = ", ".join(f"{name.replace('_', ' ').capitalize()} {texts[0]}" for name, texts in errors.items())
            text = f"Validation failed: {details}" if status == 422 else f"Bad Request: {details}"
        else:
            text = _MESSAGES.get(role, message)
        return {"errors": errors, "code": status, "message": text}

    def prepare_record(self, op: Operation, record: Any, request: Any, ctx: Any) -> Any:
        """Nested writes (`address_attributes`, `invoice_items_attributes`) read back under the answer's name."""
        if not isinstance(record, dict) or not isinstance(request.body, dict):
            return record
        renamed = _nested_names(request.body)
        for key in request.body:
            if key.endswith(_NESTED) and key[: -len(_NESTED)] in record:
                name = key[: -len(_NESTED)]
                record[name] = overlay(record[name], renamed[name]) if record[name] is not None else renamed[name]
        return record
