"""apiconform's pytest plugin: command-line options and shared fixtures for `suites/` and `tests/`."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("apiconform")
    group.addoption("--vendor", action="append", default=[], help="only these vendors (repeatable)")
