"""Client fidelity against a corpus server: Kinto's own client (`kinto-http`, from PyPI, unmodified) in one flow
(tests/support/kinto_client_flow.py), recorded through `apiconform proxy` against the REAL Kinto server (real-apis kit),
then run unmodified against the mock of the contract imported from Kinto's own served description (`apiconform
init --from-openapi`), with what `apiconform learn` derived from the recording; and `fidelity` replaying the
recording.

Printed (`-s`): what the client sees (exchanges agreeing on status and shape when it runs against the mock, and
whether the flow ends the same) and `fidelity`'s figure on the recording. Asserted: the recording and the learned
file are redacted; the flow ends the same for the client on the mock; >= 95 % of the exchanges agree on status and
shape; `fidelity`'s figure is within 5 points of what the client sees. Without the learned data the mock of the
imported description agrees on 1 of 15 (Kinto's records are open objects there; which members it answers, how
it sorts `_sort`, and that a deleted bucket answers 403 are learned from the recording).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .realapi_server import RealApi
from .test_realapi_gate import import_contract

pytest.importorskip("kinto_http", reason="the vendor-clients extra brings kinto-http")

from tests.support.kinto_client_flow import notes_flow  # noqa: E402

SHARED = ("cookbook", "recipes")  # seeded by the kit, readable by its first user


def _through_proxy(vendor: str, target: str, run: Any) -> tuple[Any, list[dict[str, Any]]]:
    from apiconform.traffic import TrafficJudge, proxy_server

    judge = TrafficJudge(vendor, target)
    with proxy_server(judge, target.rsplit("/v1", 1)[0]) as proxy:
        summary = run(proxy + "/v1")
    return summary, judge.entries


def test_kinto_http_flow_on_the_real_server_and_on_the_mock_of_its_own_description(kinto_real: RealApi,
                                                                                 tmp_path: Path) -> None:
    from apiconform.contracts import load_contract
    from apiconform.contracts._loader import use_contracts
    from apiconform.engine._session import Session
    from apiconform.engine._targets import mock_target
    from apiconform.mock import MockServer, build_app
    from apiconform.traffic import replay, write_cassette
    from apiconform.traffic._learn import learn, write_learned
    from apiconform.traffic._replay import shape_differences

    contracts = tmp_path / "contracts"
    imported = import_contract(kinto_real, contracts)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    user, password = kinto_real.user
    use_contracts(contracts)  # the imported contract is `kinto`, for the judge, learn and the mock
    try:
        real, entries = _through_proxy("kinto", kinto_real.base_url,
                                       lambda url: notes_flow(url, user, password, SHARED))
        recording = tmp_path / "notes.har"
        write_cassette(recording, "kinto", entries)
        assert password not in recording.read_text()
        assert real["shared"][0] is True and real["read_deleted"] == "KintoException 404"
        assert real["read_bucket_deleted"].endswith("403")  # the flow's own bucket is gone again (Kinto: 403)
        learned = tmp_path / "learned.yaml"
        write_learned(learned, learn(load_contract("kinto"), [("notes.har", entries)]))
        assert password not in learned.read_text()

        app = build_app(load_contract("kinto"), learned=learned)
        creds = app.mock.behaviour.credentials()
        with MockServer(app) as base_url:
            mocked, theirs = _through_proxy("kinto", base_url + "/v1",
                                            lambda url: notes_flow(url, creds["username"], creds["password"], SHARED))
        seen_total = max(len(entries), len(theirs))
        seen_agree = sum(a["response"]["status"] == b["response"]["status"] and not shape_differences(
            json.loads(a["response"]["content"]["text"] or "null"), json.loads(b["response"]["content"]["text"] or "null"))
            for a, b in zip(entries, theirs))
        different = {k: (real[k], mocked.get(k)) for k in real if json.dumps(real[k]) != json.dumps(mocked.get(k))}

        result = replay(Session(mock_target("kinto", learned=learned)), json.loads(recording.read_text())["log"]["entries"])
    finally:
        use_contracts(None)
    print("\n".join(result.lines()))
    clients_see = seen_agree / seen_total
    print(f"kinto-http flow: clients see {seen_agree}/{seen_total} exchanges agree ({clients_see:.1%}), the flow "
          f"{'ends the same' if not different else 'ends differently: ' + ', '.join(sorted(different))}; fidelity "
          f"(status and shape) {sum(e.decisive_agrees for e in result.results)}/{result.exchanges} "
          f"({result.decisive_agreement:.1%}; with documented headers {result.agreement:.1%}), replayed flows ending "
          f"the same {result.flows_agreeing}/{len(result.flows)}")
    assert result.exchanges == len(entries) and not result.unmatched
    assert not different, different  # the flow ends the same for the client
    assert clients_see >= 0.95 and result.flows_agreeing == len(result.flows), (clients_see, result.summary())
    assert abs(result.decisive_agreement - clients_see) <= 0.05, (result.decisive_agreement, clients_see)
