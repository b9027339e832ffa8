"""Fixtures for tests against the REAL TeSLA CE server (marker `real_vendor`).

`tesla_real` (session): a fresh, seeded real server on a free port, its files on an S3 stand-in (moto), stopped
at the end. Skips with
the reason when `../shared/real-vendors/tesla-ce` is absent — unless APICONFORM_REQUIRE_REAL=1
(set by .ci/run), where a missing folder or a failed start is an error, never a silent skip.
Every test in this folder is marked `real_vendor` (`-m "not real_vendor"` skips them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

from . import realapi_server
from .realapi_server import RealApi
from .tesla_server import TeslaServer, s3_stand_in, seed_server, start_server, vendor_dir

REQUIRED = os.environ.get("APICONFORM_REQUIRE_REAL") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.real_vendor)
            name = Path(str(item.fspath)).stem
            group = name.removeprefix("test_") if name.startswith("test_realapi_") else "tesla-real"
            kits = [f.removesuffix("_real") for f in getattr(item, "fixturenames", ()) if f in ("kinto_real", "prefect_real")]
            if kits:  # one group per real-API server: the two servers' tests run side by side on two workers
                group = f"realapi-{kits[0]}"
            item.add_marker(pytest.mark.xdist_group(group))  # one server per run, tests in file order


@pytest.fixture(scope="session")
def tesla_real() -> Iterator[TeslaServer]:
    scripts = vendor_dir()
    if not (scripts / "start.sh").is_file():
        reason = f"real TeSLA CE scripts not found at {scripts} (clone the repo beside shared/)"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    # not under pytest's basetemp: pytest prunes old basetemps, and a concurrent session could delete a
    # running server's state (seen on a shared machine); this folder is ours and removed at the end
    work = Path(tempfile.mkdtemp(prefix="apiconform-tesla-real-"))
    try:
        # its files on an S3 stand-in, as the vendor runs it (creating an enrolment hands out an S3 upload form)
        with s3_stand_in(free_port()) as s3_url:
            server = start_server(work, s3_url=s3_url, seed=False)
            try:
                # realistic data: platform requests first (result ids differ from request ids), then the provider's,
                # then a sample awaiting validation
                platform = seed_server(server, "seed_platform.py")
                server.seeded = {**seed_server(server), **platform, **seed_server(server, "seed_pending.py")}
                assert all(r != q for r, q in zip(server.seeded["requests"], server.seeded["request_ids"]))
                yield server
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _realapi(kit: str) -> Iterator[RealApi]:
    if not realapi_server.available(kit):
        reason = f"real-apis kit {kit!r} not found at {realapi_server.kit_dir(kit)} (shared/ beside the repository)"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    server = realapi_server.start(kit, fresh=True)  # an empty database: nothing an earlier run left, no backlog of scheduled runs
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kinto_real() -> Iterator[RealApi]:
    """A seeded real Kinto server (real-apis kit), stopped at the end of the session."""
    yield from _realapi("kinto")


@pytest.fixture(scope="session")
def prefect_real() -> Iterator[RealApi]:
    """A seeded real Prefect server (real-apis kit), stopped at the end of the session."""
    yield from _realapi("prefect")
