"""Vendor semantics declared in the contract (`x-apiconform-state`, `x-apiconform-auth.identity`,
`anonymous`, `refresh_body`) and executed by the generic mock: the TeSLA CE behaviours vendor 1.0.10 shows."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from apiconform.auth import auth_for
from apiconform.contracts import load_contract
from apiconform.mock import build_app
from apiconform.engine._transports import SyncASGITransport


@pytest.fixture()
def tesla() -> tuple[Any, httpx.Client, str]:
    contract = load_contract("tesla-ce")
    app = build_app(contract)
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test",
                        auth=auth_for(contract, app.behaviour.credentials()))
    return app, http, f"/api/v2/provider/{app.ctx.identity()}"


def test_login_answer_carries_the_provider_id_and_tokens_decode_as_the_vendors_do(tesla: Any) -> None:
    app, _, mine = tesla
    creds = app.behaviour.credentials()
    raw = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test")
    login = raw.post("/api/v2/auth/approle", json={"role_id": creds["role_id"], "secret_id": creds["secret_id"]}).json()
    assert login["provider_id"] == app.ctx.identity() and mine.endswith(f"/{login['provider_id']}")
    # the vendor's client reads `exp` with plain base64 (the vendor's tokens have padded segments)
    payload = json.loads(base64.b64decode(login["token"]["access_token"].split(".")[1]))
    assert payload["exp"] > payload["iat"]


def test_identity_scoped_access_and_anonymous_requests(tesla: Any) -> None:
    app, http, mine = tesla
    assert http.get(f"{mine}/").status_code == 200
    other = int(app.ctx.identity()) + 1
    for path in ("/api/v2/provider/", f"/api/v2/provider/{other}/", f"/api/v2/provider/{other}/enrolment/"):
        answer = http.get(path)
        assert answer.status_code == 403 and answer.json() == {"detail": "You do not have permission to perform this action."}
    anonymous = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test").get(f"{mine}/enrolment/")
    assert anonymous.status_code == 403
    forged = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test").get(
        f"{mine}/enrolment/", headers={"Authorization": "JWT not-a-token"})
    assert forged.status_code == 401


def test_free_form_objects_come_back_as_sent_and_notifications_upsert_by_key(tesla: Any) -> None:
    _, http, mine = tesla
    before = http.get(f"{mine}/notification/").json()["count"]
    first = http.post(f"{mine}/notification/", json={"key": "k1", "when": "2026-12-01T10:00:00Z", "info": {"a": 1}})
    assert first.status_code == 201 and first.json()["info"] == {"a": 1}
    again = http.post(f"{mine}/notification/", json={"key": "k1", "when": "2026-12-02T10:00:00Z", "info": {"b": 2}})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again.json()["info"] == {"a": 1, "b": 2} and again.json()["when"] == "2026-12-02T10:00:00Z"
    assert again.json()["provider"] == int(mine.rsplit("/", 1)[1])
    assert http.get(f"{mine}/notification/").json()["count"] == before + 1


def test_enrolment_lock_conflict_unlock_and_update(tesla: Any) -> None:
    _, http, mine = tesla
    learner, task, other_task = (str(uuid.uuid4()) for _ in range(3))
    base = f"{mine}/enrolment/"
    locked = http.post(base, json={"learner_id": learner, "task_id": task})
    assert locked.status_code == 201 and locked.json()["is_locked"] is True and "locked_by" not in locked.json()
    assert http.post(base, json={"learner_id": learner, "task_id": task}).status_code == 201  # same task: re-lock
    conflict = http.post(base, json={"learner_id": learner, "task_id": other_task})
    assert conflict.status_code == 400 and conflict.json() == {"non_field_errors": ["Model is locked"]}
    assert http.get(base).json()["count"] == len([r for r in http.get(base).json()["results"]])
    assert sum(r["learner_id"] == learner for r in http.get(base).json()["results"]) == 1
    item = f"{base}{learner}/"
    assert http.post(f"{item}unlock/", json={"token": other_task}).json() == {"detail": "Invalid unlock token"}
    unlocked = http.post(f"{item}unlock/", json={"token": task})
    assert unlocked.status_code == 200 and unlocked.json() == "Model unlocked"
    assert http.get(item).json()["is_locked"] is False
    assert http.post(f"{item}unlock/", json={"token": task}).status_code == 406
    # lock again, then save (PUT) with the lock's task id: saved and unlocked
    http.post(base, json={"learner_id": learner, "task_id": other_task})
    saved = http.put(item, json={"learner_id": learner, "task_id": other_task, "percentage": 0.75})
    assert saved.status_code == 200 and saved.json()["percentage"] == 0.75 and saved.json()["is_locked"] is False


def test_status_actions_change_the_stored_record(tesla: Any) -> None:
    _, http, mine = tesla
    result = http.get(f"{mine}/request/").json()["results"][0]
    path = f"{mine}/request/{result['request']['id']}/"
    target = 7 if result["status"] != 7 else 6
    if result["status"] == 1:
        refused = http.post(f"{path}status/", json={"status": target})
        assert refused.status_code == 400 and refused.json() == ["Cannot change processed results status."]
        return
    changed = http.post(f"{path}status/", json={"status": target})
    assert changed.status_code == 200 and changed.json()["status"] == target
    assert http.get(path).json()["status"] == target
    http.post(f"{path}status/", json={"status": 1})
    assert http.post(f"{path}status/", json={"status": 0}).status_code == 400


def test_transient_fields_and_actions_answering_another_resources_page(tesla: Any) -> None:
    """`transient: [model_upload_url]`: the upload form only in the create's answer, null in every later one;
    `answer: {list: samples}`: the learner's stored samples, paginated as the samples list (one page: no links)."""
    _, http, mine = tesla
    learner = http.get(f"{mine}/enrolment/").json()["results"][0]["learner_id"]
    created = http.post(f"{mine}/enrolment/", json={"learner_id": learner, "task_id": str(uuid.uuid4())})
    assert created.status_code == 201 and created.json()["model_upload_url"] is not None
    assert http.get(f"{mine}/enrolment/{learner}/").json()["model_upload_url"] is None
    stored = http.get(f"{mine}/enrolment/{learner}/sample/").json()
    assert stored["count"] >= 2  # the mock seeds children per parent
    for action in ("available_samples", "used_samples"):
        page = http.get(f"{mine}/enrolment/{learner}/{action}/").json()
        assert page["next"] is None and page["previous"] is None, (action, page)
        assert [s["id"] for s in page["results"]] == [s["id"] for s in stored["results"]]
        assert page["count"] == stored["count"]
