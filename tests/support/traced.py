"""A Session on a vendor's embedded mock that keeps every request it sent with the answer's status and JSON, for
tests that look at what the engine really sent (realistic data, documented successes)."""

from __future__ import annotations

from typing import Any

import httpx

from apiconform.engine._discovery import Discovery
from apiconform.engine._session import Session
from apiconform.engine._targets import mock_target

Sent = list[tuple[httpx.Request, int | None, Any]]


def traced(vendor: str, seed: int) -> tuple[Session, Discovery, Sent]:
    session = Session(mock_target(vendor, seed=seed))
    sent: Sent = []
    send = session.send

    def tracing(op: Any, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        exchange = send(op, request, *args, **kwargs)
        sent.append((request, exchange.status, exchange.json()))
        return exchange

    session.send = tracing  # type: ignore[method-assign]
    return session, Discovery(session), sent
