"""Example-based: every documented request example is sent and its answer checked against the contract."""

from typing import Any

from apiconform.engine import run_examples

SUITE = "examples"


def test_documented_examples(operation: Any, seed: int, conform: Any) -> None:
    session, discovery, op = operation
    conform(run_examples(session, op, seed, discovery))
