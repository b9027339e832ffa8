"""The mock measured against the REAL TeSLA CE server, on a server of its own (fresh, seeded; the gate's
writes in test_real_gate.py never touch it):

1. the vendor's own client (`tesla-ce-client`, unmodified) runs the same provider flow against the real
   server and against `apiconform mock tesla-ce` over HTTP; both end the same way;
2. `apiconform record` covers every operation on the real server; replayed against the mock, >= 95 % of
   the exchanges agree, and what is left are the vendor's own 5xx.
"""

from __future__ import annotations

import json
import uuid
from typing import Iterator

import pytest

from apiconform.contracts import load_contract
from apiconform.engine._session import Session
from apiconform.traffic import auth_operations, record, verify, write_cassette
from apiconform.mock import MockServer, build_app
from apiconform.redact import redact_jwts
from apiconform.engine._targets import Safety, http_target, mock_target

from .conftest import REQUIRED
from tests.support.ports import free_port

from .tesla_server import TeslaServer, s3_stand_in, start_server, vendor_dir

pytest.importorskip("tesla_ce_client", reason="the vendor-clients extra (pip install -e '.[vendor-clients]') brings tesla-ce-client")

from tests.support.tesla_client_flow import EXPECTED, provider_flow  # noqa: E402


@pytest.fixture(scope="module")
def tesla_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeslaServer]:
    if not (vendor_dir() / "start.sh").is_file():
        reason = f"real TeSLA CE scripts not found at {vendor_dir()}"
        if REQUIRED:
            pytest.fail(reason)
        pytest.skip(reason)
    # its files on an S3 stand-in, as the vendor runs them (with the kit's filesystem storage every real enrolment
    # create answers 500, 'FileSystemStorage' object has no attribute 'bucket', where the mock answers 201)
    with s3_stand_in(free_port()) as s3_url:
        server = start_server(tmp_path_factory.mktemp("tesla-fidelity"), s3_url=s3_url)
        try:
            yield server
        finally:
            server.stop()


def test_tesla_ce_client_flow_ends_the_same_way_on_the_real_server_and_the_mock(tesla_own: TeslaServer) -> None:
    learner = tesla_own.seeded["learners"][-1]  # seeded learner without an enrolment model yet
    real = provider_flow(tesla_own.base_url, tesla_own.credentials["role_id"], tesla_own.credentials["secret_id"], learner)
    app = build_app(load_contract("tesla-ce"))
    creds = app.behaviour.credentials()
    with MockServer(app) as base_url:
        mocked = provider_flow(base_url, creds["role_id"], creds["secret_id"], str(uuid.uuid4()))
    assert {k: real[k] for k in EXPECTED} == EXPECTED
    compared = [k for k in real if k != "lock_answer"]  # the real lock answers 500 (vendor defect, see the flow)
    assert {k: mocked[k] for k in compared} == {k: real[k] for k in compared}


def test_record_every_operation_on_the_real_server_and_measure_the_mock(tesla_own: TeslaServer) -> None:
    contract = load_contract("tesla-ce")
    safety = Safety(read_only=False, allowed_writes=auth_operations(contract), max_requests=300, rate=50)
    target = http_target("tesla-ce", tesla_own.base_url, safety=safety, credentials={
        "role_id": tesla_own.credentials["role_id"], "secret_id": tesla_own.credentials["secret_id"]})
    entries = record(Session(target))
    write_cassette(tesla_own.work / "cassette.har", "tesla-ce", entries)  # kept with the server's state, for a look
    assert {e["_operation"] for e in entries} == {op.operation_id for op in contract}
    assert len(entries) > len(contract)  # every operation, plus auth probes of the safe ones
    text = (tesla_own.work / "cassette.har").read_text()
    # credentials, JWTs (not any "eyJ": on S3 the upload form's policy is a base64 JSON document, no secret)
    assert tesla_own.credentials["secret_id"] not in text and redact_jwts(text) == text
    login = json.loads(next(e for e in entries if e["_operation"] == "login_approle")["response"]["content"]["text"])
    assert login["config"]["CELERY_BROKER_PASSWORD"] == "[REDACTED]"  # the vendor hands out its broker password
    result = verify(Session(mock_target("tesla-ce")), entries)
    print("\n".join(result.lines()))
    assert result.agreement >= 0.95, result.lines()
    # what is left are the vendor's own 5xx (S3-less storage, a bad message code FK): a mock never imitates a crash
    assert all("vendor 5" in d.detail for d in result.differences), result.lines()
