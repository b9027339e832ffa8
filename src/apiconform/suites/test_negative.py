"""Negative: invalid requests, missing or wrong credentials and reused idempotency keys are refused
with the documented 4xx and error shape. Generated cases that are in fact valid are checked as valid."""

from typing import Any

from apiconform.engine import run_auth, run_idempotency, run_negative

SUITE = "negative"


def test_invalid_requests_rejected(operation: Any, seed: int, examples_per_operation: int, conform: Any) -> None:
    session, discovery, op = operation
    conform(run_negative(session, op, examples_per_operation, seed, discovery))


def test_bad_credentials_rejected(operation: Any, seed: int, conform: Any) -> None:
    session, discovery, op = operation
    conform(run_auth(session, op, seed, discovery))


def test_idempotency_key_reuse(operation: Any, seed: int, conform: Any) -> None:
    session, discovery, op = operation
    conform(run_idempotency(session, op, seed, discovery))
