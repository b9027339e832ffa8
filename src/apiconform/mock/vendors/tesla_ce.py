"""TeSLA CE mock behaviour: AppRole login issuing short-lived JWTs, refresh, DRF-style errors."""

from __future__ import annotations

from typing import Any

from apiconform.auth import issue_access, issue_tokens, verify_login, verify_refresh
from apiconform.auth.jwt_login import refresh_tokens_in, server_secret
from apiconform.contracts import Operation
from apiconform.mock.behaviour import Behaviour, Reply

ACCESS_TTL = 300  # seconds: short-lived, as the platform's tokens are

_DETAILS = {
    "unauthenticated": "Authentication credentials were not provided.",
    "forbidden": "You do not have permission to perform this action.",
    "not_found": "Not found.",
}


class VendorBehaviour(Behaviour):
    def handle(self, op: Operation, request: Any, ctx: Any) -> Reply | None:
        creds = self.credentials()
        config = ctx.auth_config()
        encoding = str(config.get("token_encoding", "base64url"))
        if op.path == config.get("login"):
            reason = verify_login(request.body if isinstance(request.body, dict) else {}, creds)
            if reason:
                return Reply(401, "Invalid credentials")
            ttl = ctx.learned.lifetime(op.operation_id, "/token/access_token", ACCESS_TTL)  # the vendor's, when learned
            refresh = ctx.learned.lifetime(op.operation_id, "/token/refresh_token", 0) or None
            return Reply(200, self.login_answer(op, ctx, issue_tokens(creds["role_id"], server_secret(creds), ttl, encoding,
                                                                      refresh)))
        if op.path == config.get("refresh"):
            tokens = refresh_tokens_in(config, request.body, request.headers.get("authorization"))
            if tokens is None:
                return Reply(400, {"token": ["This field is required."]})
            if verify_refresh(tokens.get("refresh_token"), server_secret(creds)):
                return Reply(403, {"detail": "Token refresh not authorized"})
            ttl = ctx.learned.lifetime(op.operation_id, "/token/access_token", ACCESS_TTL)
            access = issue_access(creds["role_id"], server_secret(creds), ttl, encoding)
            return Reply(200, {"token": {"access_token": access, "refresh_token": tokens["refresh_token"]}})
        return None

    def login_answer(self, op: Operation, ctx: Any, tokens: dict[str, str]) -> dict[str, Any]:
        """The documented login answer: the tokens, and the caller's identity where the contract's
        `identity.from` says the login carries it (the provider id the vendor's client reads)."""
        ptr = ctx.response_schema(op, 200)
        learned = ctx.learned.answer(op.operation_id)  # the vendor's login answer, redacted (tokens minted here)
        body: dict[str, Any] = learned if isinstance(learned, dict) else ctx.synth.value(ctx.contract.at(ptr)) if ptr else {}
        body["token"] = tokens
        source = str((ctx.auth_config().get("identity") or {}).get("from", ""))
        if source.startswith("$response.body#/") and ctx.identity() is not None:
            body[source.split("#/", 1)[1]] = ctx.identity()
        body.update(type="provider", pk=ctx.identity())
        return body

    def error_body(self, op: Operation | None, status: int, role: str, message: str, violations: list[Any], ctx: Any) -> Any:
        if role in ("validation", "unsupported_media_type") and violations:
            errors: dict[str, list[str]] = {}
            for v in violations:
                key = "non_field_errors" if v.name in ("body", "Content-Type") else v.name
                errors.setdefault(key, []).append(v.message)
            return errors
        return {"detail": _DETAILS.get(role, message)}
