"""The full provider flow of the vendor's own Python client (`tesla-ce-client`, unmodified), as a
provider module runs it: log in, read its provider, lock a learner's enrolment model, read it and its
samples, meet the lock, unlock it, and upsert notifications. Runs against the mock and the real server;
the summary it returns (statuses, shapes, state effects, no values) must be the same for both.

Harness notes (the client's own bugs, worked around here only):
- `Enrolment.get_model_lock` swallows a non-lock BadRequestException and returns None; we call it only
  where the answer is known to be a lock or a success.
- the lock answer itself is not compared: the real server (filesystem storage) answers 500 after
  taking the lock (see `lock_answer`); what the lock did is compared through the reads that follow.
- `Connector._get_token` refreshes whenever the token expires within 5 minutes, i.e. on every request
  against a server with short-lived tokens; harmless, but it means the refresh is exercised constantly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items()) if k not in ("model_upload_url",)}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def provider_flow(api_url: str, role_id: str, secret_id: str, learner_id: str) -> dict[str, Any]:
    from tesla_ce_client import Client
    from tesla_ce_client.exception import LockedResourceException, TeslaException

    out: dict[str, Any] = {}
    client = Client(api_url=api_url, role_id=role_id, secret_id=secret_id, verify_ssl=True)
    provider_id = client._connector.get_provider_id()
    out["login_has_provider_id"] = isinstance(provider_id, int)
    provider = client.provider.get()
    out["provider_is_mine"] = provider["id"] == provider_id
    enrolment = client.provider.enrolment
    task, other_task = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        locked = enrolment.get_model_lock(provider_id, learner_id, task)
        out["lock_answer"] = "model" if locked is not None and locked["is_locked"] else repr(locked)
    except TeslaException as exc:
        # vendor 1.0.10 with filesystem storage: the lock is taken and saved, then building
        # model_upload_url (an S3 presigned POST) fails with 500 (a vendor defect, in the baseline)
        out["lock_answer"] = str(exc)
    out["read_locked"] = enrolment.get_model(provider_id, learner_id)["is_locked"]
    try:
        enrolment.get_model_lock(provider_id, learner_id, other_task)
        out["second_lock"] = "granted"
    except LockedResourceException:
        out["second_lock"] = "locked"
    available = enrolment.get_available_samples(provider_id, learner_id)
    used = enrolment.get_model_samples(provider_id, learner_id)
    out["samples_shape"] = sorted(available) == sorted(used) and sorted(k for k in available if k != "results")
    try:
        enrolment.unlock_model(provider_id, learner_id, other_task)
        out["unlock_with_wrong_task"] = "unlocked"
    except TeslaException as exc:
        out["unlock_with_wrong_task"] = type(exc).__name__
    enrolment.unlock_model(provider_id, learner_id, task)
    out["read_unlocked"] = enrolment.get_model(provider_id, learner_id)["is_locked"]
    try:
        enrolment.unlock_model(provider_id, learner_id, task)
        out["unlock_again"] = "unlocked"
    except TeslaException as exc:
        out["unlock_again"] = type(exc).__name__
    notifications = client.provider.notification
    key = f"apiconform-{uuid.uuid4().hex[:8]}"
    when = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc)
    first = notifications.update_or_create(provider_id, key, when, info={"a": 1})
    second = notifications.update_or_create(provider_id, key, when + dt.timedelta(days=1), info={"b": 2})
    out["notification_upserted"] = first["id"] == second["id"]
    out["notification_info"] = notifications.get(provider_id, second["id"])["info"]
    out["notification_shape"] = _shape(second)
    notifications.delete(provider_id, second["id"])
    try:
        notifications.get(provider_id, second["id"])
        out["notification_after_delete"] = "found"
    except TeslaException as exc:
        out["notification_after_delete"] = type(exc).__name__
    return out


EXPECTED = {
    "login_has_provider_id": True,
    "provider_is_mine": True,
    "read_locked": True,
    "second_lock": "locked",
    "unlock_with_wrong_task": "InternalException",  # 403 Invalid unlock token
    "read_unlocked": False,
    "unlock_again": "InternalException",  # 406 Model is not locked
    "notification_upserted": True,
    "notification_info": {"a": 1, "b": 2},
    "notification_after_delete": "ObjectNotFoundException",
}
