"""The vendors' own clients, unmodified, against `apiconform mock` served over real HTTP."""

from __future__ import annotations

import uuid

import pytest

from apiconform.contracts import load_contract
from apiconform.mock import MockServer, build_app

from tests.support.tesla_client_flow import EXPECTED, provider_flow

pytest.importorskip("tesla_ce_client", reason="the vendor-clients extra (pip install -e '.[vendor-clients]') brings tesla-ce-client")


def test_tesla_ce_client_full_provider_flow_against_the_mock() -> None:
    app = build_app(load_contract("tesla-ce"))
    creds = app.behaviour.credentials()
    with MockServer(app) as base_url:
        summary = provider_flow(base_url, creds["role_id"], creds["secret_id"], str(uuid.uuid4()))
    assert {k: summary[k] for k in EXPECTED} == EXPECTED
    assert summary["samples_shape"] == ["count", "next", "previous"]
