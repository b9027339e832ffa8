"""Client fidelity against the REAL TeSLA CE server: the vendor's own client in three flows (the tesla-ce-client
provider flow and two workers of our own written with it), recorded through `apiconform proxy`'s app against
the real server (file storage on an S3 stand-in, so locking and saving a model work; request ids differ from
result ids), then learned from, run again against the mock, and replayed by `fidelity`.

Asserted: on the mock (executing what `learn` derived from the real recordings) every flow ends the same for
the client as on the real server; nothing secret reaches the learned file; `fidelity`'s figure replaying the
real recordings is within 5 points of what the clients see (the share of exchanges agreeing on status and
shape when the clients run against the mock). Both are printed (`-s`); issue 25's >= 95 % is not met yet.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import REQUIRED
from .tesla_server import TeslaServer, s3_stand_in, seed_server, start_server, vendor_dir

pytest.importorskip("tesla_ce_client", reason="the vendor-clients extra brings tesla-ce-client")
pytest.importorskip("moto", reason="the vendor-clients extra brings moto (the S3 stand-in for the server's files)")

from tests.support.tesla_client_flow import provider_flow  # noqa: E402
from tests.support.tesla_worker_flows import enrolment_worker, verification_worker  # noqa: E402

PORTS = os.environ.get("APICONFORM_FIDELITY_PORTS", "19500-19519")  # the Vault stand-in takes PORT+200
S3_PORT_OFFSET = 60
RECORDED_S3 = "127.0.0.1:19560"  # the stand-in the committed learned.yaml was recorded with (default PORTS)


def s3_stand_in_port() -> int:
    """The S3 stand-in's port: the first of PORTS + 60 (19560), always the same, because the upload form the
    vendor hands out names it and the learned file committed beside the contract keeps that form."""
    return int(PORTS.split("-")[0]) + S3_PORT_OFFSET


@pytest.fixture(scope="module")
def tesla_s3() -> Iterator[TeslaServer]:
    if not (vendor_dir() / "start.sh").is_file():
        if REQUIRED:
            pytest.fail(f"real TeSLA CE scripts not found at {vendor_dir()}")
        pytest.skip(f"real TeSLA CE scripts not found at {vendor_dir()}")
    with tesla_with_storage() as server:
        yield server


@contextlib.contextmanager
def tesla_with_storage() -> Iterator[TeslaServer]:
    """A fresh real server with its files on an S3 stand-in (moto), seeded by seed_tesla.py and seed_fidelity.py."""
    from .tesla_server import pick_port

    saved = os.environ.get("TESLA_REAL_PORTS")
    os.environ["TESLA_REAL_PORTS"] = PORTS
    try:
        port = pick_port()
    finally:
        if saved is None:
            os.environ.pop("TESLA_REAL_PORTS", None)
        else:
            os.environ["TESLA_REAL_PORTS"] = saved
    work = Path(tempfile.mkdtemp(prefix="apiconform-tesla-fidelity-"))
    try:
        with s3_stand_in(s3_stand_in_port()) as s3_url:
            server = start_server(work, port=port, s3_url=s3_url)
            try:
                server.seeded.update(seed_server(server, "seed_fidelity.py"))
                yield server
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _flows(seeded: dict[str, Any], creds: dict[str, str], base_url: str) -> dict[str, Any]:
    return {
        "provider": lambda: provider_flow(base_url, creds["role_id"], creds["secret_id"], seeded["learners"][-1]),
        "enrolment-worker": lambda: enrolment_worker(base_url, creds["role_id"], creds["secret_id"], seeded["learner"],
                                                     seeded["samples"]),
        "verification-worker": lambda: verification_worker(base_url, creds["role_id"], creds["secret_id"],
                                                           [r["request"] for r in seeded["requests"]]),
    }


def _through_proxy(target: str, run: Any) -> tuple[Any, list[dict[str, Any]]]:
    from apiconform.traffic import TrafficJudge, proxy_server

    judge = TrafficJudge("tesla-ce", target)
    with proxy_server(judge, target) as proxy:
        summary = run(proxy)
    return summary, judge


FLOWS = ("provider", "enrolment-worker", "verification-worker")


def record_real(server: TeslaServer, out: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The three flows against the real server through the proxy: what each client saw, and its recording."""
    from apiconform.traffic import write_cassette

    real: dict[str, Any] = {}
    recordings: dict[str, Path] = {}
    for name in FLOWS:
        summary, judge = _through_proxy(server.base_url, lambda url, n=name: _flows(server.seeded, server.credentials, url)[n]())
        real[name] = summary
        recordings[name] = out / f"{name}.har"
        write_cassette(recordings[name], "tesla-ce", judge.entries)
    return real, recordings


@dataclass
class Measured:
    mocked: dict[str, Any]  # what each client saw on the mock
    seen_agree: int  # exchanges agreeing on status and shape when the clients run against the mock
    seen_total: int
    agree: int  # fidelity's figure replaying the real recordings
    total: int
    flows_same: int  # replayed flows ending the same
    lines: list[str]

    @property
    def clients_see(self) -> float:
        return self.seen_agree / self.seen_total if self.seen_total else 0.0

    @property
    def fidelity(self) -> float:
        return self.agree / self.total if self.total else 0.0

    def summary(self) -> str:
        return (f"clients see {self.seen_agree}/{self.seen_total} exchanges agree ({self.clients_see:.1%}); fidelity "
                f"{self.agree}/{self.total} ({self.fidelity:.1%}); replayed flows ending the same "
                f"{self.flows_same}/{len(self.mocked)}")


def measure(recordings: dict[str, Path], seeded: dict[str, Any], learned: Path | None) -> Measured:
    """The same flows run by the clients against the mock (executing `learned`), exchange by exchange against the real recordings; and `fidelity` replaying the real recordings."""
    from apiconform.contracts import load_contract
    from apiconform.engine._session import Session
    from apiconform.engine._targets import mock_target
    from apiconform.mock import MockServer, build_app
    from apiconform.traffic import replay
    from apiconform.traffic._replay import shape_differences

    mocked: dict[str, Any] = {}
    seen_agree = seen_total = 0
    for name, path in recordings.items():
        app = build_app(load_contract("tesla-ce"), learned=learned)
        creds = app.mock.behaviour.credentials()
        with MockServer(app) as base_url:
            summary, judge = _through_proxy(base_url, lambda url, n=name, c=creds: _flows(seeded, c, url)[n]())
        mocked[name] = summary
        theirs = json.loads(path.read_text())["log"]["entries"]
        for a, b in zip(theirs, judge.entries):
            seen_total += 1
            seen_agree += a["response"]["status"] == b["response"]["status"] and not shape_differences(
                json.loads(a["response"]["content"]["text"] or "null"), json.loads(b["response"]["content"]["text"] or "null"))
        seen_total += abs(len(theirs) - len(judge.entries))
    total = agree = flows_same = 0
    lines: list[str] = []
    for path in recordings.values():
        result = replay(Session(mock_target("tesla-ce", learned=learned)), json.loads(path.read_text())["log"]["entries"])
        lines += result.lines()
        total += result.exchanges
        agree += result.agreeing
        flows_same += result.flows_agreeing == len(result.flows)
    return Measured(mocked, seen_agree, seen_total, agree, total, flows_same, lines)


def skeleton(path: Path) -> dict[str, Any]:
    """What a learned file says, without the values that differ by nature from run to run."""
    import yaml

    data = yaml.safe_load(path.read_text())
    return {"records": {r: sorted((tuple(i["scope"]), str(i["id"]), tuple(sorted(i["record"]))) for i in items)
                        for r, items in (data.get("records") or {}).items()},
            "lifetimes": data.get("lifetimes"), "answers": {k: sorted(v) for k, v in (data.get("answers") or {}).items()},
            "open": {op: sorted(ptrs) for op, ptrs in (data.get("open") or {}).items()}, "accepted": data.get("accepted"),
            "members": {op: {ptr: (sorted(m["seen"]), sorted(m["always"])) for ptr, m in ptrs.items()}
                        for op, ptrs in (data.get("members") or {}).items()},
            "errors": {op: sorted(by) for op, by in (data.get("errors") or {}).items()}, "absent": data.get("absent")}


def test_client_flows_recorded_on_the_real_server_end_the_same_on_the_mock(tesla_s3: TeslaServer, tmp_path: Path) -> None:
    from apiconform.contracts import load_contract
    from apiconform.redact import redact_jwts
    from apiconform.traffic._learn import learn, write_learned

    assert all(r["request"] != r["result"] for r in tesla_s3.seeded["requests"])  # realistic: ids differ
    real, recordings = record_real(tesla_s3, tmp_path)
    for path in recordings.values():
        assert tesla_s3.credentials["secret_id"] not in path.read_text()
    assert real["enrolment-worker"]["locked"] is True and real["enrolment-worker"]["upload_url"] == ["fields", "url"]
    assert real["verification-worker"]["request_0_addressed"] is True

    learned = tmp_path / "learned.yaml"
    write_learned(learned, learn(load_contract("tesla-ce"), [(p.name, json.loads(p.read_text())["log"]["entries"])
                                                            for p in recordings.values()]))
    text = learned.read_text()
    assert tesla_s3.credentials["secret_id"] not in text and redact_jwts(text) == text
    assert "apiconform-local" not in text  # the storage's access key id in the presigned upload form

    # the reviewed learned file committed beside the contract is what this run learns (records, scopes, lifetimes,
    # open structures); values that differ by nature (timestamps, signatures' expiry, ports) aside
    committed = load_contract("tesla-ce").path.parent / "learned.yaml"
    assert skeleton(committed) == skeleton(learned), "contracts/tesla-ce/learned.yaml is stale: regenerate and review it"
    # the committed file's upload forms name the stand-in it was recorded with (RECORDED_S3); this run's is on PORTS
    moved = tmp_path / "committed-learned.yaml"
    moved.write_text(committed.read_text().replace(RECORDED_S3, f"127.0.0.1:{s3_stand_in_port()}"))
    for name, learned_file in (("learned from this run", learned), ("committed beside the contract", moved)):
        measured = measure(recordings, tesla_s3.seeded, learned_file)
        print("\n".join(measured.lines))
        print(f"{name}: {measured.summary()}")
        different = {n: {k: (real[n][k], measured.mocked[n].get(k)) for k in real[n] if real[n][k] != measured.mocked[n].get(k)}
                     for n in real}
        assert not any(different.values()), (name, different)  # every flow ends the same for the client on the mock
        assert measured.total == measured.seen_total
        assert abs(measured.fidelity - measured.clients_see) <= 0.05, (name, measured.summary())
        assert measured.clients_see >= 0.95 and measured.flows_same == len(FLOWS), (name, measured.summary())
