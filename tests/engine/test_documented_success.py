"""Every operation gets its documented success on apiconform's own mocks (issue 26): the gate's coverage listed 6
Eduframe and 5 TeSLA operations never answered with it. Each test fails without the fix it guards:

- a record whose collection lists none (no list operation: Eduframe comments; grades) was
  addressed by an id made up in the id style (404): the run now makes one through the collection's create first;
- a resource read under two nestings (/courses/{id}/planned_courses/{id} beside /planned_courses/{id}) was seeded
  under one only (the nested read: 404 for every course);
- a resource unique per parent (one validation per sample and provider) was seeded with two per parent and every
  parent full (the create: 400 on every sample);
- the create answer's link to an action on the new record (unlock with the token the create locked it with) was
  never followed by a lifecycle;
- a second create answered for a record the run holds (a get-or-create that locks the model for its task) left the
  first create's body as the record's, and wrote its own over the newest other record's.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from apiconform.engine._discovery import Discovery
from apiconform.engine._session import Session
from apiconform.engine._stateful import run_lifecycle
from apiconform.engine._suites import run_properties
from apiconform.engine._writes import Ownership
from tests.support.traced import Sent, traced

SEED = 20261123
BASE = "http://vendor.test"


def _traced(vendor: str) -> tuple[Session, Discovery, Sent]:
    return traced(vendor, SEED)


def test_a_record_no_list_shows_is_made_through_its_create_before_it_is_addressed() -> None:
    """Eduframe comments have no list operation: patch_comment went to /comments/885441 (404) on every case."""
    for label, collection in (("patch_comment", "/comments"), ("patch_grade", "/grades")):
        session, discovery, sent = _traced("eduframe")
        run_properties(session, session.target.contract.operations[label], 3, SEED, discovery)
        created = [body["id"] for request, status, body in sent if request.method == "POST" and status == 201
                   and request.url.path == collection]
        patches = [(request.url.path, status) for request, status, _ in sent if request.method == "PATCH"]
        assert created and patches[0] == (f"{collection}/{created[0]}", 200), (label, created, patches)


def test_a_resource_read_under_a_parent_is_seeded_under_it_too() -> None:
    session, discovery, sent = _traced("eduframe")
    recorder = run_properties(session, session.target.contract.operations["get_course_planned_course"], 3, SEED,
                              discovery)
    reads = [status for request, status, _ in sent if "/planned_courses/" in request.url.path]
    assert reads and reads[0] == 200, sent
    assert not recorder.findings


def test_one_per_parent_resources_are_seeded_once_per_parent_and_a_parent_awaits_its_one() -> None:
    """TeSLA: one validation per (sample, provider), declared `x-apiconform-state.key` on the create."""
    session, discovery, sent = _traced("tesla-ce")
    store = session.target.app.mock.ctx.store
    per_sample = {scope: len(store.list("validations", scope)) for scope, _ in store.keys("samples")
                  for scope in [scope + (_,)]}
    assert per_sample and set(per_sample.values()) == {0, 1}, per_sample
    recorder = run_lifecycle(session, discovery, "validations", SEED)
    creates = [status for request, status, _ in sent if request.method == "POST"]
    assert creates and creates[0] == 201, sent
    assert not recorder.findings


def test_a_lifecycle_follows_the_create_answers_link_to_an_action_with_its_request_body() -> None:
    """TeSLA unlock: 406 on a listed (unlocked) model, 403 without the token; 200 with the create's task_id."""
    session, discovery, sent = _traced("tesla-ce")
    recorder = run_lifecycle(session, discovery, "enrolments", SEED)
    create = next(json.loads(request.content) for request, status, _ in sent if request.method == "POST"
                  and request.url.path.endswith("/enrolment/"))
    unlocks = [(json.loads(request.content), status) for request, status, _ in sent
               if request.url.path.endswith("/unlock/")]
    assert unlocks == [({"token": create["task_id"]}, 200)], unlocks
    assert not recorder.findings


class _Answer:
    def __init__(self, request: httpx.Request, body: Any) -> None:
        self.request = request
        self.response = httpx.Response(201, json=body)
        self.status = 201
        self._body = body

    def json(self) -> Any:
        return self._body


def test_a_record_created_again_keeps_the_newest_creates_body() -> None:
    """A get-or-create answered again for the run's own record: the record now holds the newest create's task."""
    from apiconform.contracts import load_contract

    contract = load_contract("tesla-ce")
    own = Ownership("tesla-ce", contract, BASE, "own", ())
    enrol, notify = (contract.operations[n] for n in ("create_provider_enrolment", "create_provider_notification"))
    learner = "5cb3b3f6-b139-5887-b9a2-c4a2fed7a3d8"

    def create(op: Any, path: str, sent: dict[str, Any], answer: dict[str, Any]) -> None:
        own.observe(op, _Answer(httpx.Request("POST", BASE + path, json=sent), answer))

    create(enrol, "/api/v2/provider/1/enrolment/", {"learner_id": learner, "task_id": "a"}, {"learner_id": learner})
    create(notify, "/api/v2/provider/1/notification/", {"key": "k"}, {"id": 7, "key": "k"})
    create(enrol, "/api/v2/provider/1/enrolment/", {"learner_id": learner, "task_id": "b"}, {"learner_id": learner})
    enrolment = own.creation_of(httpx.URL(f"{BASE}/api/v2/provider/1/enrolment/{learner}/unlock/"))
    notification = own.creation_of(httpx.URL(f"{BASE}/api/v2/provider/1/notification/7/"))
    assert enrolment is not None and enrolment.sent["task_id"] == "b"
    assert notification is not None and notification.sent == {"key": "k"}
    assert len(own.created) == 2
