"""Mock behaviour the vendors' docs and public sources describe, beyond what the schemas say."""

from __future__ import annotations

from typing import Any

import httpx

from apiconform.auth import auth_for
from apiconform.contracts import load_contract
from apiconform.mock import build_app
from apiconform.engine._transports import SyncASGITransport


def _goodstack() -> tuple[Any, httpx.Client]:
    contract = load_contract("goodstack")
    app = build_app(contract)
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test",
                        auth=auth_for(contract, app.behaviour.credentials()))
    return app, http


def _valid(app: Any, response: httpx.Response) -> None:
    op = app.contract.operation("create_eligibility_subscription")
    assert response.status_code == 200, response.text
    assert not app.contract.validate(app.ctx.response_schema(op, 200), response.json())


def test_goodstack_subscription_status_follows_what_it_was_created_with() -> None:
    """SOURCE.md (the vendor's status meanings): created "with a validation request" is
    `pending_validation_request`; for an organisation it is `pending` until Goodstack classifies it."""
    app, http = _goodstack()
    by_request = http.post("/v1/eligibility-subscriptions", json={"validationRequestId": "validationrequest_abc"})
    _valid(app, by_request)
    assert by_request.json()["data"]["status"] == "pending_validation_request"
    by_org = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_abc"})
    _valid(app, by_org)
    assert by_org.json()["data"]["status"] == "pending"


def test_goodstack_ids_the_caller_did_not_send_stay_null() -> None:
    app, http = _goodstack()
    by_org = http.post("/v1/eligibility-subscriptions", json={"organisationId": "organisation_abc"}).json()["data"]
    assert by_org["organisationId"] == "organisation_abc" and by_org["validationRequestId"] is None
    assert by_org["suggestedActivitySubTags"] is None
    assert by_org["results"] == {"eligibilityStatus": None, "confirmedActivitySubTags": None, "rejectedActivitySubTags": None}
    by_request = http.post("/v1/eligibility-subscriptions", json={
        "validationRequestId": "validationrequest_abc", "suggestedActivitySubTags": ["activitysubtag_one", "activitysubtag_two"],
    })
    _valid(app, by_request)
    data = by_request.json()["data"]
    assert data["validationRequestId"] == "validationrequest_abc"
    assert data["organisationId"] is None and data["organisationName"] is None
    assert [t["id"] for t in data["suggestedActivitySubTags"]] == ["activitysubtag_one", "activitysubtag_two"]
    assert data["id"].startswith("eligibilitysubscription_")


def test_ctrlhub_takes_what_its_sdks_send() -> None:
    """sdk.ts authenticates with an OAuth2 bearer token, both SDKs post `application/json` (SOURCE.md)."""
    import json
    from pathlib import Path

    contract = load_contract("ctrlhub")
    app = build_app(contract)
    creds = app.behaviour.credentials()
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test")
    body = (Path(contract.path).parent / "examples/create_qualification_award/request.json").read_text()
    op = contract.operation("create_qualification_award")
    for auth in ({"Authorization": f"Bearer {creds['token']}"}, {"X-Session-Token": creds["api_key"]}):
        for media in ("application/json", "application/vnd.api+json"):
            answer = http.post("/v3/qualification-awards", content=body, headers={**auth, "Content-Type": media})
            assert answer.status_code == 201, answer.text
            assert not contract.validate(app.ctx.response_schema(op, 201), answer.json())
    refused = http.post("/v3/qualification-awards", content=body,
                        headers={"Authorization": "Bearer not-a-token", "Content-Type": "application/json"})
    assert refused.status_code == 401 and refused.json()["errors"][0]["status"] == "401"
    other = http.post("/v3/qualification-awards", content=json.dumps(json.loads(body)),
                      headers={"X-Session-Token": creds["api_key"], "Content-Type": "text/plain"})
    assert other.status_code in (400, 415, 422)


def test_eduframe_updates_by_patch_as_the_later_spec_documents() -> None:
    contract = load_contract("eduframe")
    app = build_app(contract)
    http = httpx.Client(transport=SyncASGITransport(app), base_url="http://mock.test",
                        auth=auth_for(contract, app.behaviour.credentials()))
    label = http.post("/labels", json={"name": "first", "model_type": "Lead"})
    assert label.status_code == 201, label.text
    item = label.json()["id"]
    patched = http.patch(f"/labels/{item}", json={"name": "renamed"})
    assert patched.status_code == 200 and patched.json()["name"] == "renamed", patched.text
    assert http.get("/labels").status_code == 200
    assert any(r["name"] == "renamed" for r in http.get("/labels", params={"per_page": 100}).json())
