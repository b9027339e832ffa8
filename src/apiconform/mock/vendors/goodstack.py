"""Goodstack (formerly Percent) mock behaviour: `{"error": {code, title, message, reasons}}` errors and
what a new eligibility subscription looks like.

Error bodies are the contract's documented examples (`x-apiconform-error` on each 400/403 example);
this module only adds the failed inputs as `reasons` and words the errors the docs show no body for.

A created subscription (contracts/goodstack/SOURCE.md, "Mock decisions"): the docs' status meanings say
one created "with a validation request" is `pending_validation_request`, one for an organisation is
`pending` until Goodstack classifies it; the id the caller did not send stays null (and so does the
organisation's name without an organisation); suggested subtags echo the ids sent; `results` stays
empty until classification.
"""

from __future__ import annotations

from typing import Any

from apiconform.contracts import Operation
from apiconform.mock._synth import overlay
from apiconform.mock.behaviour import Behaviour

#: (code, title, message) for the kinds of error the docs show no body for
_UNDOCUMENTED: dict[str, tuple[str, str, str]] = {
    "unauthenticated": ("unauthorized", "Unauthorized", "Missing or invalid API key"),
    "not_found": ("not_found", "Not found", "Resource not found"),
    "method_not_allowed": ("method_not_allowed", "Method not allowed", "Method not allowed"),
    "rate_limited": ("too_many_requests", "Too many requests", "Too many requests"),
}
_SUBTAG = {"$ref": "#/components/schemas/ActivitySubTag"}


class VendorBehaviour(Behaviour):
    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        if role in _UNDOCUMENTED:
            code, title, text = _UNDOCUMENTED[role]
            return {"error": {"code": code, "title": title, "message": text}}
        body = super().error_body(op, status, role, message, violations, ctx)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and role == "validation" and violations:
            error["reasons"] = [f"{v.name} {v.message}" for v in violations]
        return body

    def prepare_record(self, op: Operation, record: Any, request: Any, ctx: Any) -> Any:
        data = record.get("data") if isinstance(record, dict) else None
        if not isinstance(data, dict) or not isinstance(request.body, dict):
            return record
        given = request.body
        via_request = given.get("validationRequestId") is not None
        data["organisationId"] = given.get("organisationId")
        data["validationRequestId"] = given.get("validationRequestId")
        if data["organisationId"] is None:
            data["organisationName"] = None
        data["status"] = "pending_validation_request" if via_request else "pending"
        tags = given.get("suggestedActivitySubTags")
        data["suggestedActivitySubTags"] = None if not isinstance(tags, list) else [
            overlay(ctx.synth.value(_SUBTAG), {"id": tag}) for tag in tags
        ]
        data["results"] = {"eligibilityStatus": None, "confirmedActivitySubTags": None, "rejectedActivitySubTags": None}
        data["updatedAt"] = None
        return record
