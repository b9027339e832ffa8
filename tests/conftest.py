"""Fixtures shared by the tool's tests: the bundled contracts, embedded mocks and mocks served over real HTTP,
made when a test asks for them (not when a test module is imported, so collection stays cheap and a broken contract
fails its tests, not the collection of every module that names it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from apiconform.contracts import Contract, list_vendors, load_contract


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A module-scoped fixture (a gate run, a rendered report, a started server) is made once per pytest-xdist worker
    that runs one of its tests: under `--dist loadgroup` the tests of a module are otherwise spread over both workers
    and each makes it again (tests/cli/test_cli_run.py's two gate runs, the HTML report and its screenshot). Such a
    module's tests that use one of those fixtures go to one worker, as one group (unless already in a group)."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group") is not None:
            continue
        shared = any(d.scope == "module" for defs in info.name2fixturedefs.values() for d in defs[-1:])
        if shared:
            item.add_marker(pytest.mark.xdist_group(f"module:{item.nodeid.split('::')[0]}"))


@pytest.fixture(scope="session")
def contracts() -> dict[str, Contract]:
    """Every bundled vendor's contract by vendor name (load_contract caches them per process)."""
    return {vendor: load_contract(vendor) for vendor in list_vendors()}


def _vendor_fixture(vendor: str) -> Any:
    @pytest.fixture(scope="session", name=vendor.replace("-", "_"))
    def contract(contracts: dict[str, Contract]) -> Contract:
        return contracts[vendor]

    contract.__doc__ = f"The bundled {vendor} contract."
    return contract


# one session fixture per bundled vendor, named after it: `eduframe`, `tesla_ce`, `ctrlhub`, `cofe_cms`, `goodstack`
eduframe = _vendor_fixture("eduframe")
tesla_ce = _vendor_fixture("tesla-ce")
ctrlhub = _vendor_fixture("ctrlhub")
cofe_cms = _vendor_fixture("cofe-cms")
goodstack = _vendor_fixture("goodstack")


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


@pytest.fixture
def served_mock() -> Iterator[Callable[..., str]]:
    """A factory: `served_mock(vendor, drifts=(), faults=(), seed=0, rate_limit=None)` (or `served_mock(app)` for any
    ASGI app) -> the base URL of that mock served by uvicorn on a free loopback port (`MockServer`), fresh for this
    test; every server it started is stopped after the test."""
    from apiconform.mock import MockServer, mock_app

    with ExitStack() as servers:
        def serve(vendor_or_app: Any, **options: Any) -> str:
            app = mock_app(vendor_or_app, **options) if isinstance(vendor_or_app, str) else vendor_or_app
            return str(servers.enter_context(MockServer(app)))

        yield serve
