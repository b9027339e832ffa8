"""The team's client tested with every exchange judged against the TeSLA contract (`apiconform_traffic`).

    pytest examples/client-traffic --traffic-dir reports/traffic     # + one redacted HAR per test

Against the team's staging vendor set TESLA_URL, TESLA_ROLE_ID and TESLA_SECRET_ID; without them the test
serves apiconform's mock of TeSLA on a loopback port. A finding in any exchange fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from provider_client import ProviderClient


@pytest.fixture
def vendor() -> Iterator[tuple[str, str, str]]:
    if os.environ.get("TESLA_URL"):
        yield os.environ["TESLA_URL"], os.environ["TESLA_ROLE_ID"], os.environ["TESLA_SECRET_ID"]
        return
    from apiconform.mock import MockServer, mock_app

    app = mock_app("tesla-ce")
    credentials = app.mock.behaviour.credentials()
    with MockServer(app) as base_url:
        yield base_url, credentials["role_id"], credentials["secret_id"]


def test_the_client_notifies_and_forgets(vendor: tuple[str, str, str], apiconform_traffic) -> None:  # type: ignore[no-untyped-def]
    base_url, role_id, secret_id = vendor
    client = ProviderClient(base_url, role_id, secret_id, transport=apiconform_traffic.transport("tesla-ce"))
    assert client.provider()["id"] == client.provider_id
    made = client.notify("example-retrain", "2026-12-01T10:00:00Z", {"reason": "new samples"})
    assert made["id"] in [n["id"] for n in client.notifications()]
    client.forget(made["id"])
