"""Ctrl-Hub mock behaviour: JSON:API error documents and the request's attributes echoed in `data`."""

from __future__ import annotations

from typing import Any

from ...contracts import Operation
from ..behaviour import Behaviour

_TITLES = {
    "validation": "Validation failed",
    "unsupported_media_type": "Unsupported media type",
    "unauthenticated": "Unauthorised",
    "forbidden": "Forbidden",
    "not_found": "Not found",
}


class VendorBehaviour(Behaviour):
    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        title = _TITLES.get(role, "Bad request")
        if not violations:
            return {"errors": [{"status": str(status), "title": title, "detail": message}]}
        return {
            "errors": [
                {
                    "status": str(status),
                    "title": title,
                    "detail": v.message,
                    "source": {"pointer": "/" + v.name if v.location == "body" else v.name},
                }
                for v in violations
            ]
        }
