"""The vendors' own clients, unmodified, against `apiconform mock VENDOR` served over real HTTP.

pycofecms (PyPI, the Church of England CMS client the vendor lists) signs every request itself; the
mock must verify its signatures wherever the parameters travel (query string or form body) and answer
what the contract says. Installed by `make test` through the `vendor-clients` optional dependencies.

Workarounds for the client's own bugs live here only, each with its note:
- PyPI 0.1.1 cannot be imported: its `__init__` runs `import cofecms.api`, a name the wheel does not
  install (the package is installed as `pycofecms`). The unmodified `pycofecms/api.py` is loaded from
  the installed file instead.
- It has no POST method (`do_request` always GETs; the contract's only operation is a POST): a subclass
  sends the client's own signed parameter dict with the client's own requests session by POST, as the
  query string or as a form body. Parameter building and signing stay the client's.
- PyPI 0.1.1 reads `X-Rate-Limit`/`X-Rate-Limit-Remaining` with `headers[...]` (KeyError when absent);
  the repository renamed them to `X-RateLimit-Limit`/`X-RateLimit-Remaining` in 152a23e, which the
  contract follows. A session hook gives 0.1.1 the old names, copied from the new ones.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import httpx
import pytest

from apiconform.contracts import load_contract
from apiconform.mock.behaviour import load_behaviour
from apiconform.mock._server import free_port


def _pycofecms_api() -> ModuleType:
    spec = importlib.util.find_spec("pycofecms")
    if spec is None or not spec.submodule_search_locations:
        if os.environ.get("CI"):
            pytest.fail("pycofecms is not installed (make test installs the vendor-clients extra)")
        pytest.skip("pycofecms is not installed: pip install -e '.[vendor-clients]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "api.py"
    module_spec = importlib.util.spec_from_file_location("pycofecms_api_unmodified", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cofe_mock() -> Iterator[str]:
    """`apiconform mock cofe-cms` as its own process on a free loopback port."""
    port = free_port()
    exe = Path(sys.executable).with_name("apiconform")
    proc = subprocess.Popen([str(exe), "mock", "cofe-cms", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("apiconform mock cofe-cms did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _client(api: ModuleType, creds: dict[str, str], body: str, diocese_id: int = 12) -> Any:
    class PostingCofeCMS(api.CofeCMS):  # type: ignore[misc,name-defined]
        """The client as published; only the HTTP verb is added (see the module docstring)."""

        def do_request(self, endpoint_url: str, request_params: Any) -> Any:
            session = self._get_session()
            where = {"params": request_params} if body == "query" else {"data": request_params}
            result = session.post(endpoint_url, **where)
            result.raise_for_status()
            return result

    client = PostingCofeCMS(creds["api_id"], creds["api_key"], diocese_id=diocese_id)
    session = client._get_session()

    def old_rate_names(response: Any, *args: Any, **kwargs: Any) -> None:
        for old, new in (("X-Rate-Limit", "X-RateLimit-Limit"), ("X-Rate-Limit-Remaining", "X-RateLimit-Remaining")):
            if new in response.headers and old not in response.headers:
                response.headers[old] = response.headers[new]

    session.hooks["response"].append(old_rate_names)
    return client


@pytest.mark.parametrize("body", ["query", "form"])
def test_pycofecms_signs_and_the_mock_verifies_and_answers_the_contract(cofe_mock: str, body: str) -> None:
    import requests

    api = _pycofecms_api()
    contract = load_contract("cofe-cms")
    creds = load_behaviour(contract).credentials()
    op = contract.operation("create_contact_course")
    schema = contract.deref_pointer(op.responses["200"].content["application/json"].schema_pointer or "")
    url = f"{cofe_mock}/v2/contacts/5/courses"

    client = _client(api, creds, body)
    result = client.get(url, course_id=3, booked_at="2024-03-01", qualification_id=7)
    assert len(result) == 1 and not contract.validate(schema, result[0]), result
    record = result[0]
    assert (record["contact_id"], record["course_id"], record["qualification_id"], record["booked_at"]) == (5, 3, 7, "2024-03-01")
    assert record["attended_at"] is None and record["completed_at"] is None
    assert result.response.status_code == 200 and result.rate_limit == 1000
    assert 0 <= result.rate_limit_remaining < 1000
    minimal = client.get(url, course_id=4)[0]
    assert minimal["course_id"] == 4 and minimal["qualification_id"] is None and minimal["qualification_name"] is None

    # the signature really is checked: the client's own signing with the wrong key is refused...
    with pytest.raises(requests.HTTPError) as refused:
        _client(api, {**creds, "api_key": "not-the-secret"}, body).get(url, course_id=3)
    assert refused.value.response.status_code == 401 and isinstance(refused.value.response.json(), dict)
    # ...and so is a parameter changed after signing
    params = client.generate_request_params(None, None, course_id=3)
    params["course_id"] = 9
    sent = {"params": params} if body == "query" else {"data": params}
    assert requests.post(url, **sent, timeout=10).status_code == 401

    # documented failures, reached through the client
    with pytest.raises(requests.HTTPError) as unknown:
        client.get(f"{cofe_mock}/v2/contacts/5000/courses", course_id=3)
    assert unknown.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as invalid:
        client.get(url, diocese_id="twelve", course_id=3)
    assert invalid.value.response.status_code == 400
    errors = invalid.value.response.json()
    assert list(errors["errors"]) == ["data"] and not contract.validate(
        contract.deref_pointer(op.responses["400"].content["application/json"].schema_pointer or ""), errors)
