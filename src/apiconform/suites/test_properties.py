"""Property-based: schemathesis generates valid requests for every operation; every answer must conform."""

from apiconform.engine._suites import run_properties

SUITE = "properties"


def test_properties(operation, seed, examples_per_operation, conform):
    session, discovery, op = operation
    conform(run_properties(session, op, examples_per_operation, seed, discovery))
