"""Property-based: schemathesis generates valid requests for every operation; every answer must conform."""

from typing import Any

from apiconform.engine import run_properties

SUITE = "properties"


def test_properties(operation: Any, seed: int, examples_per_operation: int, conform: Any) -> None:
    session, discovery, op = operation
    conform(run_properties(session, op, examples_per_operation, seed, discovery))
