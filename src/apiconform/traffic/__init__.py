"""Client traffic: record any client's exchanges with a vendor, judge them, replay them against the mock.

Above the engine and the mock (it imports both; neither imports it):

- `TrafficJudge` judges each exchange of a client's traffic against the contract (the run's own checks and
  reports) and keeps it as a redacted HAR entry;
- `ProxyApp` / `proxy_server` / `serve_proxy`: the recording, validating reverse proxy (`apiconform proxy`);
- `RecordingTransport` / `AsyncRecordingTransport`: the same inside a team's own httpx client (and the pytest
  fixture `apiconform_traffic`);
- `record` / `verify`: `apiconform record`'s safe sequence against a live target, and its replay against the mock;
- HAR files: `har_entry`, `read_cassette`, `write_cassette`.
"""

from apiconform.traffic._cassette import (
    DEFAULT_PROBES,
    Difference,
    Fidelity,
    auth_operations,
    plan,
    record,
    shape,
    verify,
)
from apiconform.traffic._fixture import ClientTraffic
from apiconform.traffic._har import har_entry, read_cassette, write_cassette
from apiconform.traffic._judge import SUITE, TrafficJudge, find_operation
from apiconform.traffic._proxy import ProxyApp, proxy_server, serve_proxy
from apiconform.traffic._replay import Chain, ExchangeResult, FlowResult, Replay, replay, shape_differences
from apiconform.traffic._transport import AsyncRecordingTransport, RecordingTransport

__all__ = [
    "DEFAULT_PROBES",
    "SUITE",
    "AsyncRecordingTransport",
    "Chain",
    "ClientTraffic",
    "Difference",
    "ExchangeResult",
    "Fidelity",
    "FlowResult",
    "ProxyApp",
    "RecordingTransport",
    "Replay",
    "TrafficJudge",
    "auth_operations",
    "find_operation",
    "har_entry",
    "plan",
    "proxy_server",
    "read_cassette",
    "record",
    "replay",
    "serve_proxy",
    "shape",
    "shape_differences",
    "verify",
    "write_cassette",
]
