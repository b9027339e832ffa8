"""One recorded request sent again and judged by the same checks: what an exported characterization test runs
(`apiconform run --export-pytest DIR`; `apiconform.replay`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from apiconform._defaults import RUN_DEFAULTS
from apiconform.findings import Finding

if TYPE_CHECKING:
    from apiconform.engine._session import AuthMode

__all__ = ["Replayed", "replay"]

_DROPPED = {"host", "content-length", "user-agent", "accept-encoding", "connection", "accept"}


class Replayed(list[Finding]):
    """The findings of one replayed request, with the status it was answered (None: no answer)."""

    status: int | None = None


def replay(vendor: str, operation: str, request: Mapping[str, Any], expectation: str = "positive", *,
           target: str | None = None, drifts: tuple[str, ...] = (), faults: tuple[str, ...] = (),
           seed: int = RUN_DEFAULTS.seed) -> Replayed:
    """Send `request` (`method`, `path` below the target's base URL with its query, `headers`, `body`) to VENDOR's
    embedded mock (with `drifts`, `faults` and `seed`, from its initial state) or to the live `target` base URL
    (credentials from APICONFORM_<VENDOR>_<FIELD>), authenticated as the expectation needs, and judge the answer
    with every check. Headers that carried a secret were redacted when recorded: the target's auth flow sets them."""
    from apiconform.engine import EngineOptions, Sessions
    from apiconform.engine.checks import UNAUTHENTICATED, CheckContext, run_checks

    options = EngineOptions(vendors=[vendor], targets={vendor: target} if target else {}, drifts=list(drifts),
                            faults=list(faults), seed=seed)
    sessions = Sessions(options)
    try:
        session, _, owned = sessions.for_item(vendor)
        op = session.target.contract.operations[operation]
        headers = {k: v for k, v in dict(request.get("headers") or {}).items()
                   if k.lower() not in _DROPPED and "[REDACTED]" not in str(v)}
        redacted = any("[REDACTED]" in str(v) for v in dict(request.get("headers") or {}).values())
        auth: AuthMode = ("wrong" if redacted else "none") if expectation == UNAUTHENTICATED else "valid"
        body = request.get("body")
        sent = httpx.Request(str(request["method"]), session.target.base_url.rstrip("/") + str(request["path"]),
                             headers=headers, content=str(body).encode() if body else None)
        exchange = session.send(op, sent, auth=auth)
        ctx = CheckContext(session.target.contract, op, exchange, expectation, session.target.redactor())
        result = Replayed(run_checks(ctx)[0])
        result.status = exchange.status
        if owned is not None:
            owned.close()
        return result
    finally:
        sessions.close()
