"""Stateful: resource lifecycles (create → read → update → list → delete) following the contract's links;
what was written must be what is read back."""

from typing import Any

from apiconform.engine import run_lifecycle

SUITE = "stateful"


def test_lifecycle(resource: Any, seed: int, conform: Any) -> None:
    session, discovery, name = resource
    conform(run_lifecycle(session, discovery, name, seed))
