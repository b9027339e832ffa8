"""`apiconform record` against the REAL TeSLA CE server, replayed against the mock: the agreement figure."""

from __future__ import annotations

from apiconform.exchange import Session
from apiconform.fidelity import auth_operations, record, verify, write_cassette
from apiconform.targets import Safety, http_target, mock_target


def test_record_every_operation_on_the_real_server_and_measure_the_mock(tesla_real) -> None:
    target = http_target("tesla-ce", tesla_real.base_url, credentials=dict(
        role_id=tesla_real.credentials["role_id"], secret_id=tesla_real.credentials["secret_id"]),
        safety=Safety(read_only=False, max_requests=300, rate=50))
    target = target.__class__(**{**target.__dict__, "safety": Safety(
        read_only=False, allowed_writes=auth_operations(target.contract), max_requests=300, rate=50)})
    entries = record(Session(target))
    write_cassette(tesla_real.work / "cassette.har", "tesla-ce", entries)  # kept with the server's state, for a look
    assert len({e["_operation"] for e in entries}) >= 29
    result = verify(Session(mock_target("tesla-ce")), entries)
    print("\n".join(result.lines()), "\ncassette:", tesla_real.work / "cassette.har")
    assert len(entries) > len(target.contract)  # every operation, plus auth probes of the safe ones
    assert result.agreement >= 0.95
    # what is left are the vendor's own 5xx (S3-less storage, a bad message code FK): a mock never imitates a crash
    assert all("vendor 5" in d.detail for d in result.differences), result.lines()
