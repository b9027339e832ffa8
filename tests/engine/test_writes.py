"""The write policy (issue 23): with writes allowed, a live target's records are written only when this run
created them (or the configuration names them expendable); everything created is cleaned up, and what could not
be is listed. Against the TeSLA mock served over real HTTP, posing as a live vendor with records of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from apiconform.redact import Redactor

from apiconform.contracts import load_contract
from apiconform.engine._session import Session, WriteRefused
from apiconform.engine._targets import Safety, http_target
from apiconform.engine._writes import Ownership, addressed
from apiconform.mock import MockServer, mock_app

ROLE, SECRET = "mock-tesla-ce-role", "mock-tesla-ce-secret"
APICONFORM = str(Path(sys.executable).with_name("apiconform"))
BASE = "http://vendor.test"


def tesla() -> Any:
    return load_contract("tesla-ce")


def ownership(policy: str = "own", expendable: tuple[str, ...] = ()) -> Ownership:
    return Ownership("tesla-ce", tesla(), BASE, policy, expendable)


def test_requests_are_classified_from_the_contract_paths() -> None:
    contract = tesla()
    kinds = {op.operation_id: addressed(contract, op)[0] for op in contract if not op.is_safe}
    assert kinds["create_provider_enrolment"] == "create"
    assert kinds["update_provider_enrolment"] == kinds["delete_provider_enrolment"] == "record"
    assert kinds["unlock_provider_enrolment"] == "record"  # an action POST on an existing record
    assert kinds["status_provider_request"] == "record"
    assert kinds["login_approle"] == "call"  # addresses no record


def test_own_policy_refuses_writes_on_records_the_run_did_not_create() -> None:
    contract, own = tesla(), ownership()
    put = contract.operations["update_provider_request"]
    refusal = own.check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/7/"))
    assert refusal and refusal.startswith("not a record of this run: PUT update_provider_request on /api/v2/provider/1001/request/7")
    # an id that cannot exist (does not fit `type: integer`) harms nothing
    assert own.check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/not-an-id/")) is None
    # creates, reads and calls that address no record go out
    create = contract.operations["create_provider_notification"]
    assert own.check(create, httpx.Request("POST", f"{BASE}/api/v2/provider/1001/notification/")) is None
    # sandbox: the whole target is expendable; expendable patterns: those records only
    assert ownership("sandbox").check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/7/")) is None
    listed = ownership(expendable=("/api/v2/provider/1001/request/7", "9*"))
    assert listed.check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/7/")) is None
    assert listed.check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/93/")) is None
    assert listed.check(put, httpx.Request("PUT", f"{BASE}/api/v2/provider/1001/request/8/")) is not None


class _Answer:
    """What `Ownership.observe` reads of a sent request (the Session's Exchange)."""

    def __init__(self, request: httpx.Request, status: int, body: Any) -> None:
        self.request, self.status, self.body = request, status, body
        self.response = httpx.Response(status, json=body, request=request)

    def json(self) -> Any:
        return self.body


def test_a_create_whose_answer_names_no_record_does_not_make_the_collection_the_runs() -> None:
    """A create answered 201 without an id or Location is the run's record (listed as left behind), but the run
    does not own the collection it went into: the vendor's other records there stay refused."""
    contract, own = tesla(), ownership()
    create = contract.operations["create_provider_notification"]
    collection = f"{BASE}/api/v2/provider/1001/notification/"
    own.observe(create, _Answer(httpx.Request("POST", collection), 201, {"created": True}))
    assert own.report.created == 1 and own.pending()[0].id is None
    put = contract.operations["update_provider_notification"]
    delete = contract.operations["delete_provider_notification"]
    assert own.check(put, httpx.Request("PUT", f"{collection}7/")) is not None
    assert own.check(delete, httpx.Request("DELETE", f"{collection}7/")) is not None
    # a create that names its record makes that record (and only it) the run's
    own.observe(create, _Answer(httpx.Request("POST", collection), 201, {"id": 42}))
    assert own.check(put, httpx.Request("PUT", f"{collection}42/")) is None
    assert own.check(put, httpx.Request("PUT", f"{collection}7/")) is not None


@pytest.fixture
def served() -> Any:
    app = mock_app("tesla-ce")
    server = MockServer(app)
    url = server.start()
    yield url
    server.stop()


def session_for(url: str, **safety: Any) -> Session:
    return Session(http_target("tesla-ce", url, credentials={"role_id": ROLE, "secret_id": SECRET},
                               safety=Safety(**{"writes": "own", **safety})))


def test_session_tracks_creates_from_the_answer_and_cleans_them_up_newest_first(served: str) -> None:
    session = session_for(served)
    contract = session.target.contract
    create = contract.operations["create_provider_notification"]
    put = contract.operations["update_provider_notification"]
    collection = f"{served}/api/v2/provider/1001/notification/"
    made = [session.send(create, httpx.Request("POST", collection, json={"key": f"apiconform-m{i}", "when": "2030-01-01T00:00:00Z"}))
            for i in range(2)]
    assert [m.status for m in made] == [201, 201]
    ids = [str(m.json()["id"]) for m in made]
    # the run's own record may be written; a record found in the list may not
    own = session.send(put, httpx.Request("PUT", f"{collection}{ids[0]}/", json={"key": "apiconform-x", "when": "2030-01-01T00:00:00Z"}))
    assert own.status == 200
    listed = httpx.Client(auth=session.client().auth).get(collection).json()["results"]
    foreign = next(str(r["id"]) for r in listed if str(r["id"]) not in ids)
    with pytest.raises(WriteRefused, match="not a record of this run"):
        session.send(put, httpx.Request("PUT", f"{collection}{foreign}/", json={"key": "apiconform-x", "when": "2030-01-01T00:00:00Z"}))
    deleted: list[str] = []
    original = session.send

    def spy(op: Any, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        deleted.append(request.url.path)
        return original(op, request, *args, **kwargs)

    session.send = spy  # type: ignore[method-assign]
    report = session.cleanup()
    assert report is not None and report.created == 2 and report.deleted == 2 and not report.left_behind
    assert deleted == [f"/api/v2/provider/1001/notification/{ids[1]}/", f"/api/v2/provider/1001/notification/{ids[0]}/"]
    assert report.refused_requests == 1 and "update_provider_notification" in report.refused
    after = {str(r["id"]) for r in httpx.Client(auth=session.client().auth).get(collection).json()["results"]}
    assert not set(ids) & after and foreign in after
    session.close()


def test_what_cannot_be_deleted_is_left_behind_with_its_id_and_the_budget_keeps_room_for_the_clean_up(served: str) -> None:
    session = session_for(served, max_requests=4)
    contract = session.target.contract
    create = contract.operations["create_provider_notification"]
    collection = f"{served}/api/v2/provider/1001/notification/"
    sent = 0
    with pytest.raises(Exception, match="budget"):
        for i in range(10):
            session.send(create, httpx.Request("POST", collection, json={"key": f"apiconform-m{i}", "when": "2030-01-01T00:00:00Z"}))
            sent += 1
    assert sent == 2  # 4 requests: 2 creates, and 2 kept for their deletes (the login is the auth flow's own)
    report = session.cleanup()
    assert report is not None and report.deleted == 2 and not report.left_behind
    # a record whose delete fails (here: credentials the vendor refuses by then) is listed, enough to remove it by hand
    kept = session_for(served)
    made = kept.send(create, httpx.Request("POST", collection, json={"key": "apiconform-kept", "when": "2030-01-01T00:00:00Z"}))
    record = str(made.json()["id"])
    locked_out = Session(http_target("tesla-ce", served, credentials={"role_id": ROLE, "secret_id": "revoked"},
                                     safety=Safety(writes="sandbox")))
    assert kept.ownership is not None
    def send_locked_out(op: Any, request: httpx.Request) -> tuple[int | None, str]:
        answer = locked_out.send(op, request, cleanup=True)
        return answer.status, f"{op.label}: {answer.error}"

    left = kept.ownership.cleanup(send_locked_out, locked_out.redactor).left_behind
    assert [(e.vendor, e.operation, e.id, e.url) for e in left] == [
        ("tesla-ce", "create_provider_notification", record, f"{collection}{record}")]
    assert left[0].reason.startswith("delete_provider_notification")
    session.close()
    kept.close()
    locked_out.close()


def snapshot(url: str) -> dict[str, list[str]]:
    token = httpx.post(f"{url}/api/v2/auth/approle", json={"role_id": ROLE, "secret_id": SECRET}).json()["token"]["access_token"]
    lists = {}
    for op in tesla():
        if op.action == "list" and op.path.count("{") == 1 and op.method == "get":
            path = op.path.replace("{parent_lookup_provider_id}", "1001")
            answer = httpx.get(url + path, headers={"Authorization": f"JWT {token}"}, params={"limit": 1000})
            lists[path] = sorted(json.dumps(r, sort_keys=True) for r in answer.json()["results"])
    return lists


@pytest.mark.e2e
@pytest.mark.parametrize("policy", ["own", "sandbox"])
def test_a_writes_run_leaves_the_vendors_records_as_they_were(served: str, tmp_path: Path, policy: str) -> None:
    """Every list before and after `apiconform run --allow-writes`: equal under the default policy; with
    `--writes sandbox` the run does change records it did not create (the check can fail)."""
    before = snapshot(served)
    env = {**os.environ, "APICONFORM_TESLA_CE_ROLE_ID": ROLE, "APICONFORM_TESLA_CE_SECRET_ID": SECRET}
    switch = ["--allow-writes"] if policy == "own" else ["--writes", "sandbox"]
    ops = ["list_provider_notifications", "create_provider_notification", "update_provider_notification",
           "delete_provider_notification", "list_provider_requests", "update_provider_request",
           "list_provider_enrolments", "create_provider_enrolment", "unlock_provider_enrolment"]
    done = subprocess.run([APICONFORM, "run", "tesla-ce", "--target", f"tesla-ce={served}", *switch, "--max-examples", "2",
                           "--operation", ",".join(ops),
                           "--rate", "1000", "--max-requests", "5000", "--no-allure", "--no-progress",
                           "--reports-dir", str(tmp_path / "reports")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    run = json.loads((tmp_path / "reports" / "run.json").read_text())
    writes = run["writes"]["tesla-ce"]
    assert writes["policy"] == policy and writes["created"] >= 3 and writes["left_behind"] == [], done.stdout[-2000:]
    assert writes["deleted"] == writes["created"]
    assert f"writes on tesla-ce (policy {policy}): {writes['created']} records created" in done.stdout
    # an unlock of the run's own (locked) enrolment with a wrong token is the state's documented 403, not refused credentials
    assert not [f for c in run["cases"] for f in c["findings"] if f["category"] == "auth"], done.stdout[-2000:]
    after = snapshot(served)
    if policy == "own":
        assert after == before
        assert writes["refused_requests"] > 0 and "update_provider_request" in writes["refused"]
        skipped = {c["name"]: c["skipped"] for c in run["cases"]}
        assert skipped["properties[update_provider_request]"].startswith("not a record of this run: PUT update_provider_request")
    else:
        assert after != before


def test_a_stopped_run_still_cleans_up_within_the_grace_period(served: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's `finally` is the hook an interruption reaches: closing the stream of outcomes early (as a
    SIGINT/SIGTERM does) deletes what the run created so far, and reports it."""
    from apiconform.engine import EngineOptions, plan, run_items

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APICONFORM_TESLA_CE_ROLE_ID", ROLE)
    monkeypatch.setenv("APICONFORM_TESLA_CE_SECRET_ID", SECRET)
    before = snapshot(served)
    options = EngineOptions(vendors=["tesla-ce"], targets={"tesla-ce": served}, allow_writes=True, rate=1000,
                            max_examples=2, operations=["create_provider_notification", "list_provider_notifications"],
                            config_dir=tmp_path)
    items = [i for i in plan(["tesla-ce"], operations={"create_provider_notification", "list_provider_notifications"})
             if i.test in ("test_properties", "test_lifecycle")]
    writes: list[Any] = []
    stream = run_items(options, items, writes)
    finished = [next(stream) for _ in range(2)]
    stream.close()  # stopped mid-run
    assert len(finished) == 2 and len(writes) == 1
    report = writes[0]
    assert report.created > 0 and report.deleted == report.created and not report.left_behind
    assert snapshot(served) == before


def test_a_post_that_addresses_no_record_is_refused_unless_declared_a_query(tmp_path: Path) -> None:
    """A bulk action picks its records in the body (`POST /things/bulk_delete {}` deleted every record of a real
    vendor under policy own): it is refused; a POST declared `x-apiconform-safe: true` (a query) goes out, and so
    does a sign-in that needs no credentials (`security: []`)."""
    import copy

    doc = copy.deepcopy(tesla().document)
    doc["paths"]["/api/v2/things/bulk_delete"] = {"post": {
        "operationId": "bulk_delete_things", "x-apiconform-action": "action", "responses": {"204": {"description": "gone"}}}}
    doc["paths"]["/api/v2/things/filter"] = {"post": {
        "operationId": "filter_things", "x-apiconform-action": "action", "x-apiconform-safe": True,
        "responses": {"200": {"description": "the things"}}}}
    (tmp_path / "tesla-ce").mkdir()
    (tmp_path / "tesla-ce" / "openapi.json").write_text(json.dumps(doc))
    contract = load_contract(tmp_path / "tesla-ce" / "openapi.json")
    own = Ownership("tesla-ce", contract, BASE, "own", ())
    bulk, query = contract.operations["bulk_delete_things"], contract.operations["filter_things"]
    assert addressed(contract, bulk)[0] == "bulk" and addressed(contract, query)[0] == "call"
    refusal = own.check(bulk, httpx.Request("POST", f"{BASE}/api/v2/things/bulk_delete", json={}))
    assert refusal and "may change records this run did not create" in refusal
    assert own.check(query, httpx.Request("POST", f"{BASE}/api/v2/things/filter", json={})) is None
    login = contract.operations["login_approle"]
    assert own.check(login, httpx.Request("POST", f"{BASE}/api/v2/auth/approle", json={})) is None
    assert Ownership("tesla-ce", contract, BASE, "sandbox", ()).check(bulk, httpx.Request("POST", f"{BASE}/x")) is None


def test_a_post_whose_body_carries_requests_is_refused_whatever_its_path_says(tmp_path: Path) -> None:
    """A batch (`POST /batch {"requests": [{"method": "DELETE", "path": "/buckets/theirs"}]}`, Kinto's) addresses
    records in its body: refused under `own` even where the contract calls it a create into a collection or it needs
    no credentials (`security: []`, as Kinto's served description says of every operation); only a contract that
    declares it `x-apiconform-safe: true` lets it through."""
    import copy

    sub = {"type": "object", "properties": {"method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
                                            "path": {"type": "string"}, "body": {"type": "object"}}}
    body = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}}
    doc = copy.deepcopy(tesla().document)
    doc.setdefault("components", {}).setdefault("schemas", {})["Batch"] = {
        "type": "object", "properties": {"requests": {"type": "array", "items": sub}}}
    for name, extra in (("create_batch", {"x-apiconform-action": "create"}), ("open_batch", {"security": []}),
                        ("safe_batch", {"x-apiconform-safe": True})):
        doc["paths"][f"/api/v2/{name}"] = {"post": {"operationId": name, "requestBody": body, **extra,
                                                    "responses": {"201": {"description": "done"}}}}
    (tmp_path / "tesla-ce").mkdir()
    (tmp_path / "tesla-ce" / "openapi.json").write_text(json.dumps(doc))
    contract = load_contract(tmp_path / "tesla-ce" / "openapi.json")
    own = Ownership("tesla-ce", contract, BASE, "own", ())
    sent = {"requests": [{"method": "DELETE", "path": "/api/v2/provider/1"}]}
    for name in ("create_batch", "open_batch"):
        op = contract.operations[name]
        assert addressed(contract, op)[0] == "bulk", name
        refusal = own.check(op, httpx.Request("POST", f"{BASE}/api/v2/{name}", json=sent))
        assert refusal and "may change records this run did not create" in refusal, name
    safe = contract.operations["safe_batch"]
    assert own.check(safe, httpx.Request("POST", f"{BASE}/api/v2/safe_batch", json=sent)) is None


def test_a_declared_query_is_a_call_even_where_it_is_called_a_create(tmp_path: Path) -> None:
    """`POST /flows/paginate` imported as a create and declared `x-apiconform-safe`: its answers are pages, not records
    the run created (the clean-up listed them as left behind); the declaration wins."""
    import copy

    doc = copy.deepcopy(tesla().document)
    doc["paths"]["/api/v2/things/paginate"] = {"post": {
        "operationId": "paginate_things", "x-apiconform-action": "create", "x-apiconform-safe": True,
        "responses": {"201": {"description": "a page"}}}}
    (tmp_path / "tesla-ce").mkdir()
    (tmp_path / "tesla-ce" / "openapi.json").write_text(json.dumps(doc))
    contract = load_contract(tmp_path / "tesla-ce" / "openapi.json")
    op = contract.operations["paginate_things"]
    assert addressed(contract, op) == ("call", ())
    own = Ownership("tesla-ce", contract, BASE, "own", ())
    own.observe(op, _Answer(httpx.Request("POST", f"{BASE}/api/v2/things/paginate"), 201, {"id": 7}))
    assert own.created == []


def test_a_record_the_run_deleted_is_known_gone_with_what_lies_under_it() -> None:
    """After the run deletes its own record, requests that still address it (further examples of the same test,
    tests of what lay under it) are marked `record_gone`: the vendor's 403/404 then is about that record, never a
    refusal of valid credentials (issue 24: Kinto answers 403 for its own deleted bucket's collections)."""
    contract, own = tesla(), ownership()
    create = contract.operations["create_provider_notification"]
    own.observe(create, _Answer(httpx.Request("POST", f"{BASE}/api/v2/provider/1001/notification/"), 201, {"id": 5}))
    record = httpx.URL(f"{BASE}/api/v2/provider/1001/notification/5/")
    assert not own.deleted(record)
    delete = next(op for op in contract if op.method == "delete" and "notification" in op.path)
    own.observe(delete, _Answer(httpx.Request("DELETE", record), 204, None))
    assert own.deleted(record) and own.deleted(httpx.URL(f"{BASE}/api/v2/provider/1001/notification/5/x"))
    assert not own.deleted(httpx.URL(f"{BASE}/api/v2/provider/1001/notification/6/"))


def test_a_delete_answered_503_is_tried_again_after_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Prefect on SQLite answers a clean-up delete 503 while its own services hold the database: the record was
    listed as left behind; it is tried again a little later, and only a delete that stays 503 leaves it behind."""
    contract, own = tesla(), ownership()
    create = contract.operations["create_provider_notification"]
    for record in (5, 6):
        own.observe(create, _Answer(httpx.Request("POST", f"{BASE}/api/v2/provider/1001/notification/"), 201, {"id": record}))
    waits: list[float] = []
    monkeypatch.setattr("apiconform.engine._writes.time.sleep", waits.append)
    answers = {"5": [503, 204], "6": [503, 503, 503]}

    def send(op: Any, request: httpx.Request) -> tuple[int | None, str]:
        status = answers[request.url.path.rstrip("/").rsplit("/", 1)[1]].pop(0)
        own.observe(op, _Answer(request, status, None))
        return status, ""

    report = own.cleanup(send, Redactor(()))
    assert [r.id for r in report.left_behind] == ["6"] and "answered 503" in report.left_behind[0].reason
    assert waits == [2.0, 4.0] and answers == {"5": [], "6": []}
