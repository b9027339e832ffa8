"""Fixtures shared by the tool's tests: the bundled contracts and embedded mocks, loaded when a test asks for them
(not when a test module is imported, so collection stays cheap and a broken contract fails its tests, not the
collection of every module that names it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apiconform.contracts import Contract, list_vendors, load_contract


@pytest.fixture(scope="session")
def contracts() -> dict[str, Contract]:
    """Every bundled vendor's contract by vendor name (load_contract caches them per process)."""
    return {vendor: load_contract(vendor) for vendor in list_vendors()}


@pytest.fixture
def mock_session() -> Iterator[Callable[..., Any]]:
    """A factory: `mock_session(vendor, drifts=(), faults=(), seed=0)` -> a Session on a fresh embedded mock of that
    vendor; every session it made is closed after the test."""
    from apiconform.engine._session import Session
    from apiconform.engine._targets import mock_target

    made: list[Session] = []

    def make(vendor: str, **options: Any) -> Session:
        made.append(Session(mock_target(vendor, **options)))
        return made[-1]

    yield make
    for session in made:
        session.close()
