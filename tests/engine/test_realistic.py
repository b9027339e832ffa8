"""Realistic request data (issue 26 item 4): writes name records the target really holds.

Each test fails without the fix it guards: a valid case sent to a random id next to a discovered one (404), a
write body sending the docs' placeholder references (`course_id: 0`, a made-up learner uuid), a create keyed by a
member taking an existing record's key, a child created under a parent that already holds its one child.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from apiconform.contracts import load_contract
from apiconform.engine._discovery import Discovery
from apiconform.engine._observed import Observed
from apiconform.engine._realistic import reference_stem, resource_named
from apiconform.engine._session import Session
from apiconform.engine._stateful import run_lifecycle
from apiconform.engine._suites import run_examples, run_properties
from tests.support.traced import Sent, traced

SEED = 1234
PLACEHOLDER_LEARNER = "2df776db-09df-4cb9-a2af-db56cada6cb7"  # the docs' example learner_id (tesla-ce)


def _traced(vendor: str) -> tuple[Session, Discovery, Sent]:
    return traced(vendor, SEED)


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


def test_observed_keeps_scalar_members_newest_first() -> None:
    observed = Observed()
    observed.see({"results": [{"id": 1, "learner_id": "a", "ok": True, "note": None}, {"id": 2, "learner_id": "b"}]})
    observed.see({"id": 3, "nested": {"learner_id": "c"}})
    assert observed.values("learner_id") == ["c", "a", "b"]
    assert observed.values("id") == [3, 1, 2]
    assert observed.values("ok") == [] and observed.values("note") == [] and observed.values("missing") == []
    observed.see({"record": {"label_ids": [5, 7, True, None]}})  # a list of scalars: each under the list's name
    assert observed.values("label_ids") == [5, 7]


def test_reference_names_and_the_resources_they_name(contracts: Any) -> None:
    assert [reference_stem(n) for n in ("learner_id", "courseId", "id", "name", "task_uuid")] == [
        "learner", "course", None, None, "task"]
    eduframe = contracts["eduframe"]
    assert resource_named(eduframe, "course") == "courses"
    assert resource_named(eduframe, "planned_course") == "planned_courses"
    assert resource_named(eduframe, "edition") == "program_editions"  # a qualified name
    assert resource_named(eduframe, "nothing_like_it") is None


def test_the_first_valid_case_addresses_a_discovered_record() -> None:
    """main sent every valid case of a write to an id made up in the id style next to the discovered one: 404."""
    session, discovery, sent = _traced("eduframe")
    op = session.target.contract.operations["patch_course"]
    run_properties(session, op, 3, SEED, discovery)
    listed = [item["id"] for request, _, body in sent if request.method == "GET" for item in body]
    patches = [(request, status) for request, status, _ in sent if request.method == "PATCH"]
    assert patches[0][0].url.path == f"/courses/{listed[0]}" and patches[0][1] == 200, patches


def test_example_write_bodies_take_real_references_not_the_docs_placeholders() -> None:
    """The docs' example body of create_program_element refers to course 0, edition 0, planned course 0."""
    session, discovery, sent = _traced("eduframe")
    op = session.target.contract.operations["create_program_element"]
    run_examples(session, op, SEED, discovery)
    posted = [_body(request) for request, _, _ in sent if request.method == "POST"]
    listed = {request.url.path: [item["id"] for item in body] for request, _, body in sent if request.method == "GET"}
    assert posted and all(body["course_id"] in listed["/courses"] for body in posted), (posted, listed)
    assert all(body["planned_course_id"] in listed["/planned_courses"] for body in posted)
    assert all(body["edition_id"] in listed["/program/editions"] for body in posted)


def test_write_bodies_never_send_the_docs_placeholder_string() -> None:
    """The docs' example bodies fill text members with "string" (Eduframe create_program: name, slug, conditions,
    avatar; tesla-ce notifications: key, a unique key on the real server). Those members take a fresh value naming
    the member, the same on every run against the mock; the request stays valid (judged)."""
    for vendor, label, members in (("eduframe", "create_program", ("name", "slug", "conditions", "avatar")),
                                   ("tesla-ce", "create_provider_notification", ("key",))):
        bodies = []
        for _ in range(2):
            session, discovery, sent = _traced(vendor)
            run_examples(session, session.target.contract.operations[label], SEED, discovery)
            bodies.append([_body(request) for request, _, _ in sent if request.method == "POST"])
        assert bodies[0] and bodies[0] == bodies[1], bodies  # deterministic against the mock
        for body in bodies[0]:
            assert "string" not in body.values(), body
            assert all(str(body[m]).startswith(f"{m}-") for m in members if m in body), body


def test_a_create_keyed_by_a_member_takes_a_real_value_no_record_holds_yet() -> None:
    """tesla-ce enrolments are keyed by the learner: the docs' placeholder learner does not exist on a real server
    (400 Invalid learner), and a learner who has an enrolment already would make the create an update of it."""
    session, discovery, sent = _traced("tesla-ce")
    recorder = run_lifecycle(session, discovery, "enrolments", SEED)
    creates = [(_body(request), status) for request, status, _ in sent if request.method == "POST"]
    assert creates and creates[0][1] == 201, creates
    learner = creates[0][0]["learner_id"]
    enrolled = {item["learner_id"] for request, _, body in sent if request.method == "GET"
                and request.url.path.endswith("/enrolment/") and isinstance(body, dict)
                for item in body["results"]}
    seen = {item.get("learner_id") for _, _, body in sent if isinstance(body, dict)
            for item in body.get("results", [])}
    assert learner != PLACEHOLDER_LEARNER and learner in seen, (learner, seen)
    assert learner not in enrolled - {learner} or len(enrolled) == 0
    assert not recorder.findings


def test_a_child_is_created_under_a_parent_that_holds_none_yet() -> None:
    """A validation is one per sample (a second create: 400); of the listed samples the one without is chosen."""
    session, discovery, sent = _traced("tesla-ce")
    store = session.target.app.mock.ctx.store
    contract = session.target.contract
    create = contract.operations["create_provider_enrolment_sample_validation"]
    values = discovery.path_values(contract.operations["list_provider_enrolment_sample_validations"])
    provider, learner, first = (values[n] for n in create.path_params())
    samples = discovery.ids("samples", (provider, learner))
    assert len(samples) >= 2
    free = str(samples[1])
    for record in store.list("validations", (provider, learner, free)):  # the second sample: no validation yet
        store.delete("validations", (provider, learner, free), str(record["id"]))
    fresh = Discovery(session)
    chosen = fresh.path_values(create)
    assert chosen[create.path_params()[-1]] == free, (chosen, first, free)


def test_an_action_on_the_runs_own_record_sends_what_the_create_answers_link_declares(served_mock: Any) -> None:
    """tesla-ce unlock: the model is unlocked only with the task_id that locked it (create's body); the create
    answer's link declares `requestBody: {token: $request.body#/task_id}`. Without it the token is drawn: 403."""
    from apiconform.engine._generate import valid_request
    from apiconform.engine._targets import Safety, http_target

    session = Session(http_target("tesla-ce", served_mock("tesla-ce"), safety=Safety(writes="own"),
                                  credentials={"role_id": "mock-tesla-ce-role", "secret_id": "mock-tesla-ce-secret"}))
    discovery = Discovery(session)
    unlock = session.target.contract.operations["unlock_provider_enrolment"]
    request = valid_request(session, unlock, SEED, discovery)  # creates the run's own enrolment first (locked)
    assert request is not None
    created = session.ownership.created[-1]  # type: ignore[union-attr]
    assert created.operation == "create_provider_enrolment" and created.sent["task_id"]
    assert _body(request) == {"token": created.sent["task_id"]}
    assert session.send(unlock, request).status == 200
    session.cleanup()


def _places(body: Any) -> list[tuple[str, Any]]:
    """Every scalar place of a body below its top level, by JSON pointer."""
    from apiconform.contracts import split, walk

    return [(ptr, node) for ptr, node in walk(body) if len(split(ptr)) > 1 and not isinstance(node, (dict, list))]


def test_nested_placeholders_take_real_or_fresh_values() -> None:
    """Eduframe's documented bodies nest the docs' placeholders (the only bundled contract whose examples do: 186
    places in 20 operations): `courses_leads_attributes[0].course_id: 0`, `label_ids: [0]`,
    `address_attributes.city: "string"`. Each reference takes an id the target listed, each "string" a fresh value
    naming the member; the request stays valid and the mock creates the record (201)."""
    for label in ("create_lead", "create_meeting", "create_invoice"):
        session, discovery, sent = _traced("eduframe")
        op = session.target.contract.operations[label]
        run_examples(session, op, SEED, discovery)
        posts = [(request, status) for request, status, _ in sent if request.method == "POST"]
        listed: dict[str, list[Any]] = {}
        lists = [o for o in session.target.contract if o.action == "list" and o.method == "get"]
        for request, _, body in sent:
            lister = next((o for o in lists if o.match_path(request.url.path) is not None), None)
            if request.method == "GET" and isinstance(body, list) and lister is not None and lister.resource:
                listed.setdefault(lister.resource, []).extend(
                    item["id"] for item in body if isinstance(item, dict) and "id" in item)
        assert posts, label
        for request, status in posts:
            assert status == 201, (label, status, _body(request))
            places = dict(_places(_body(request)))
            assert "string" not in places.values(), (label, places)
            for ptr, value in places.items():
                name = ptr.split("/")[-2] if ptr.split("/")[-1].isdigit() else ptr.split("/")[-1]
                for member, resource in (("course_id", "courses"), ("planned_course_id", "planned_courses"),
                                         ("label_ids", "labels"), ("course_ids", "courses"), ("material_ids", "materials"),
                                         ("teacher_id", "teachers"),
                                         ("teacher_ids", "teachers"), ("material_id", "materials"),
                                         ("catalog_variant_id", "catalog_variants"),
                                         ("invoice_vat_id", "invoice_vats")):
                    if name == member:
                        assert value in listed.get(resource, []), (label, ptr, value, listed.get(resource))


def test_nested_members_reuse_values_the_target_answered() -> None:
    """A nested reference with no list of its own (Eduframe `course_tab_contents_attributes[0].course_tab_id`: the
    contract has no course tab list) takes a value an earlier answer carried under that name (Session.observed),
    not the docs' 0; so do a nested 0 whose member the target answered (`units`) and an element of a list of
    references answered as a list (`planning_meeting_location_ids`); the nested record's own `id` never borrows
    another record's."""
    session, discovery, sent = _traced("eduframe")
    contract = session.target.contract
    session.observed.see({"course_tab_id": 4242, "id": 777, "units": 3,  # what earlier answers named
                          "planning_meeting_location_ids": [31, 32]})
    for label in ("create_program", "create_invoice", "create_meeting"):
        run_examples(session, contract.operations[label], SEED, discovery)
    posts = {request.url.path: (_body(request), status) for request, status, _ in sent if request.method == "POST"}
    tabs, status = posts["/program/programs"]
    assert status == 201 and tabs["course_tab_contents_attributes"] == [
        {**tabs["course_tab_contents_attributes"][0], "course_tab_id": 4242, "id": 0}], tabs
    items, status = posts["/invoices"]
    assert status == 201 and items["invoice_items_attributes"][0]["units"] == 3, items
    meeting, status = posts["/meetings"]
    assert status == 201 and meeting["planning_meeting_location_ids"] == [31], meeting


def test_a_live_target_with_writes_gets_a_record_no_list_shows_made_through_its_create(served_mock: Any) -> None:
    """Eduframe grades have no list: a read by id had only a made-up id to ask for (404). Against a target reached
    over HTTP with writes allowed, one grade is made through create_grade first, owned by the run (the clean-up
    accounts for it: no delete is documented, so it is listed as left behind); one deleted meanwhile is made again;
    read-only, nothing is created."""
    from apiconform.auth import mock_credentials
    from apiconform.engine._targets import Safety, http_target

    url = served_mock("eduframe")
    credentials = mock_credentials(load_contract("eduframe"), "eduframe")
    read_only = Session(http_target("eduframe", url, credentials=credentials))
    assert "id" not in Discovery(read_only).path_values(read_only.target.contract.operations["get_grade"])
    assert read_only.ownership is not None and not read_only.ownership.created

    session = Session(http_target("eduframe", url, credentials=credentials, safety=Safety(writes="own")))
    discovery = Discovery(session)
    get_grade = session.target.contract.operations["get_grade"]
    made = discovery.path_values(get_grade)["id"]
    assert session.ownership is not None
    owned = [c for c in session.ownership.created if c.operation == "create_grade"]
    assert [c.id for c in owned] == [made], owned
    request = httpx.Request("GET", f"{url}{get_grade.fill_path({'id': made})}")
    assert session.send(get_grade, request).status == 200
    assert discovery.path_values(get_grade)["id"] == made  # made once, not per request
    owned[0].gone = True  # what the Session's Ownership records when a test deletes it
    again = discovery.path_values(get_grade)["id"]
    assert again != made and [c.id for c in session.ownership.created if not c.gone] == [again]
    report = session.cleanup()  # the contract documents no delete for a grade: listed, with why
    assert report is not None and [(left.operation, left.id) for left in report.left_behind] == [("create_grade", again)]
    session.close()
    read_only.close()


def test_a_second_docs_generator_placeholder_nested_in_a_json_api_document() -> None:
    """Ctrl-Hub's docs (Mintlify) fill the example with `"<string>"`, nested three levels deep in a JSON:API document
    (`/data/type`, `/data/attributes/status`, `/data/relationships/user/data/type`): each takes a fresh value naming
    its member, the same on every run against the mock; the request stays valid (201) and the type the document was
    sent as is echoed (no finding)."""
    bodies = []
    for _ in range(2):
        session, discovery, sent = _traced("ctrlhub")
        recorder = run_examples(session, session.target.contract.operations["create_qualification_award"], SEED,
                                discovery)
        bodies.append([(_body(request), status) for request, status, _ in sent if request.method == "POST"])
        assert not recorder.findings, recorder.findings
    assert bodies[0] and bodies[0] == bodies[1], bodies
    for body, status in bodies[0]:
        places = dict(_places(body))
        assert status == 201 and not [v for v in places.values() if str(v).strip().lower() in ("string", "<string>")]
        assert str(places["/data/attributes/status"]).startswith("status-"), places
        assert places["/data/relationships/user/data/type"] != places["/data/relationships/organisation/data/type"]
