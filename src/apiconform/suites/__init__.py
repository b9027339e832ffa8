"""The conformance suites, generated from the contracts by the apiconform pytest plugin.

Run them with `pytest --pyargs apiconform.suites` (installed) or `pytest suites` (checkout).

Each suite module declares its `SUITE` and takes its test functions from `functions_of(SUITE)`: one pytest test
per registered suite test (`apiconform.engine.suite_test`), parametrised by the plugin with the engine's plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apiconform.engine import TESTS, SuiteTest, run_test


def functions_of(suite: str, module: str) -> dict[str, Callable[..., None]]:
    """The pytest test functions of `suite`'s registered tests, by name, to be placed in the suite module `module`."""
    return {test.name: _test_function(test, module) for test in TESTS if test.suite == suite}


def _test_function(test: SuiteTest, module: str) -> Callable[..., None]:
    if test.subject == "operation":
        def run(operation: Any, seed: int, examples_per_operation: int, conform: Any) -> None:
            session, discovery, op = operation
            conform(run_test(test.name, session, discovery, op.label, seed, examples_per_operation))
    else:
        def run(resource: Any, seed: int, examples_per_operation: int, conform: Any) -> None:  # type: ignore[misc]
            session, discovery, name = resource
            conform(run_test(test.name, session, discovery, name, seed, examples_per_operation))
    run.__name__ = run.__qualname__ = test.name
    run.__module__ = module
    run.__doc__ = None
    return run
