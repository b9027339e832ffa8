"""Client traffic judged and recorded: the proxy (any client, here the vendor's own SDK and a plain script),
the httpx transport and the pytest fixture; each seen to fail on a vendor that breaks its contract."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from apiconform.contracts import load_contract
from apiconform.findings import Category
from apiconform.mock import MockServer, build_app
from apiconform.traffic import RecordingTransport, TrafficJudge, find_operation, proxy_server, read_cassette

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]


def _mock(drifts: tuple[str, ...] = ()) -> tuple[Any, dict[str, str]]:
    app = build_app(load_contract("tesla-ce"), drifts=drifts)
    return app, app.mock.behaviour.credentials()


def test_operations_are_found_by_method_and_path_behind_a_base_path() -> None:
    contract = load_contract("tesla-ce")
    assert find_operation(contract, "GET", "/api/v2/provider/3/notification/").operation_id == "list_provider_notifications"  # type: ignore[union-attr]
    assert find_operation(contract, "get", "/gateway/api/v2/provider/3/notification/9/").operation_id == "read_provider_notification"  # type: ignore[union-attr]
    assert find_operation(contract, "PATCH", "/api/v2/auth/approle") is None
    assert find_operation(contract, "GET", "/nowhere") is None


def test_the_vendor_sdk_through_the_proxy_is_judged_and_recorded_redacted(tmp_path: Path) -> None:
    pytest.importorskip("tesla_ce_client")
    from tests.support.tesla_client_flow import EXPECTED, provider_flow

    app, creds = _mock()
    judge = TrafficJudge("tesla-ce")
    with MockServer(app) as vendor, proxy_server(judge, vendor) as proxy:
        summary = provider_flow(proxy, creds["role_id"], creds["secret_id"], str(uuid.uuid4()))
    assert {k: summary[k] for k in EXPECTED} == EXPECTED  # the client cannot tell the proxy from the vendor
    assert not judge.findings and not judge.unmatched, judge.failures() if hasattr(judge, "failures") else judge.findings
    ops = {e.get("_operation") for e in judge.entries}
    assert {"login_approle", "read_provider", "unlock_provider_enrolment", "get_provider_enrolment_available_samples",
            "create_provider_notification", "delete_provider_notification"} <= ops
    har = tmp_path / "sdk.har"
    judge.write(har=har, reports_dir=tmp_path / "reports")
    text = har.read_text()
    assert creds["secret_id"] not in text and creds["role_id"] not in text and "eyJ" not in text
    vendor_name, entries = read_cassette(har)
    assert vendor_name == "tesla-ce" and len(entries) == len(judge.entries) >= 15
    run = json.loads((tmp_path / "reports" / "run.json").read_text())
    assert {c["operation"] for c in run["cases"]} >= {"login_approle", "read_provider"}
    assert (tmp_path / "reports" / "junit.xml").is_file() and (tmp_path / "reports" / "matrix.html").is_file()


def test_the_proxy_reports_a_vendor_that_drifted_from_its_contract(tmp_path: Path) -> None:
    app, creds = _mock(("field-type-changed",))
    judge = TrafficJudge("tesla-ce")
    with MockServer(app) as vendor, proxy_server(judge, vendor) as proxy:
        token = httpx.post(f"{proxy}/api/v2/auth/approle", json=creds, timeout=60).json()["token"]["access_token"]
        provider = httpx.get(f"{proxy}/api/v2/provider/1001/", headers={"Authorization": f"JWT {token}"}, timeout=60)
        anonymous = httpx.get(f"{proxy}/api/v2/provider/1001/", timeout=60)
        unknown = httpx.get(f"{proxy}/api/v9/elsewhere", timeout=60)
    assert provider.status_code == 200 and anonymous.status_code == 403 and unknown.status_code == 404
    assert any(f.category is Category.FIELD_TYPE and f.operation == "read_provider" for f in judge.findings), judge.findings
    assert judge.unmatched == [f"GET {vendor}/api/v9/elsewhere"]
    written = judge.write(reports_dir=tmp_path)
    assert "field-type" in (tmp_path / "matrix.md").read_text() and tmp_path / "junit.xml" in written


def test_the_httpx_transport_judges_a_teams_client_without_a_port() -> None:
    app, creds = _mock(("required-field-dropped",))
    from apiconform.engine._transports import SyncASGITransport

    judge = TrafficJudge("tesla-ce")
    with httpx.Client(base_url="http://tesla.test", transport=RecordingTransport(judge, SyncASGITransport(app))) as client:
        token = client.post("/api/v2/auth/approle", json=creds).json()["token"]["access_token"]
        client.headers["Authorization"] = f"JWT {token}"
        assert client.get("/api/v2/provider/1001/notification/").status_code == 200
        client.get("/api/v2/provider/1001/enrolment/")
    assert [e["_operation"] for e in judge.entries] == ["login_approle", "list_provider_notifications", "list_provider_enrolments"]
    assert any(f.category is Category.REQUIRED_FIELD for f in judge.findings), judge.findings


def test_the_proxy_command_runs_a_client_command_and_gates_on_its_traffic(tmp_path: Path) -> None:
    app, creds = _mock()
    script = ("import os, httpx; url = os.environ['APICONFORM_PROXY_URL']; "
              f"print(httpx.post(url + '/api/v2/auth/approle', json={json.dumps(creds)}, timeout=60).status_code)")
    with MockServer(app) as vendor:
        done = subprocess.run([sys.executable, "-m", "apiconform", "proxy", "tesla-ce", "--target", vendor,
                               "--port", "0", "--record", str(tmp_path / "x.har"), "--reports-dir", str(tmp_path / "r"),
                               "--", sys.executable, "-c", script],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("200") and "tesla-ce: 1 exchanges, 1 operations, 0 findings" in done.stdout
    assert creds["secret_id"] not in (tmp_path / "x.har").read_text()
    assert (tmp_path / "r" / "run.json").is_file()
    bad = subprocess.run([sys.executable, "-m", "apiconform", "proxy", "tesla-ce", "--target", "ftp://x"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr and "Traceback" not in bad.stderr


def test_the_example_with_the_pytest_fixture_passes_and_records(pytester: pytest.Pytester) -> None:
    """examples/client-traffic as a team runs it; then the same client against a drifted vendor fails."""
    example = REPO / "examples" / "client-traffic"
    for name in ("conftest.py", "provider_client.py", "test_provider_client.py"):
        pytester.makefile(".py", **{name[:-3]: (example / name).read_text()})
    result = pytester.runpytest_inprocess("--traffic-dir", "har", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    recording = pytester.path / "har" / "test_the_client_notifies_and_forgets-tesla-ce.har"
    assert [e["_operation"] for e in json.loads(recording.read_text())["log"]["entries"]][:2] == ["login_approle", "read_provider"]
    test = (example / "test_provider_client.py").read_text().replace('mock_app("tesla-ce")', 'mock_app("tesla-ce", drifts=["content-type-changed"])')
    pytester.makefile(".py", test_provider_client=test)
    failed = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*finding(s) in the client's traffic*", "*[[]content-type[]]*"])
