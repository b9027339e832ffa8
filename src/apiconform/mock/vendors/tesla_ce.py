"""TeSLA CE mock behaviour: AppRole login issuing short-lived JWTs, refresh, DRF-style errors."""

from __future__ import annotations

from typing import Any

from ...auth import issue_access, issue_tokens, verify_login, verify_refresh
from ...auth.jwt_login import server_secret
from ...contracts import Operation
from ..behaviour import Behaviour, Reply

ACCESS_TTL = 300  # seconds: short-lived, as the platform's tokens are

_DETAILS = {
    "unauthenticated": "Authentication credentials were not provided.",
    "forbidden": "You do not have permission to perform this action.",
    "not_found": "Not found.",
}


class VendorBehaviour(Behaviour):
    def credentials(self) -> dict[str, str]:
        creds = super().credentials()
        creds["jwt_secret"] = "mock-tesla-ce-token-signing-key-0123456789"  # HS256 wants >= 32 bytes
        return creds

    def handle(self, op: Operation, request: Any, ctx: Any) -> Reply | None:
        creds = self.credentials()
        config = next(iter(self.contract.security_schemes.values()), {}).get("x-apiconform-auth", {})
        if op.path == config.get("login"):
            reason = verify_login(request.body if isinstance(request.body, dict) else {}, creds)
            if reason:
                return Reply(401, "Invalid credentials")
            return Reply(200, {"token": issue_tokens(creds["role_id"], server_secret(creds), ACCESS_TTL)})
        if op.path == config.get("refresh"):
            body = request.body if isinstance(request.body, dict) else {}
            if verify_refresh(body.get("refresh_token"), server_secret(creds)):
                return Reply(401, {"detail": "Token is invalid or expired"}) if "401" in op.responses else Reply(
                    400, {"refresh_token": ["Token is invalid or expired"]})
            return Reply(200, {"token": {"access_token": issue_access(creds["role_id"], server_secret(creds), ACCESS_TTL)}})
        return None

    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        if role in ("validation", "unsupported_media_type") and violations:
            errors: dict[str, list[str]] = {}
            for v in violations:
                key = "non_field_errors" if v.name in ("body", "Content-Type") else v.name
                errors.setdefault(key, []).append(v.message)
            return errors
        return {"detail": _DETAILS.get(role, message)}
