"""Two provider workers written with the vendor's own client (`tesla-ce-client`, unmodified) the way a
provider integration uses it: a worker is handed ids in its task message (a learner, samples and their
validations, verification requests) and works through the provider API. Each returns what the worker saw
(statuses, shapes, state it reads back; no values), to compare the real server with the mock.

- `enrolment_worker`: validates the learner's new samples (reads each sample and its validations, reports the
  validation result and its status), then builds the model: lock, read the available samples, save the model
  (upload to the model URL the lock answer hands out, then the model's record), unlock, read it back.
- `verification_worker`: reads each verification request it is handed, reports its result, reads it back
  (not its status: vendor 1.0.10 answers the status action with 500, a known deviation); upserts a notification
  for the next run, reads and deletes it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.support.tesla_client_flow import _shape  # the same shape summary as the provider flow's


def _outcome(call: Any) -> Any:
    from tesla_ce_client.exception import TeslaException

    try:
        return call()
    except TeslaException as exc:
        return type(exc).__name__


def enrolment_worker(api_url: str, role_id: str, secret_id: str, learner_id: str, samples: list[dict[str, int]]) -> dict[str, Any]:
    from tesla_ce_client import Client

    client = Client(api_url=api_url, role_id=role_id, secret_id=secret_id, verify_ssl=True)
    pid = client._connector.get_provider_id()
    enrolment = client.provider.enrolment
    out: dict[str, Any] = {}
    for n, item in enumerate(samples):
        sample = enrolment.get_sample(pid, learner_id, item["sample"])
        out[f"sample_{n}"] = _shape(sample)
        listed = enrolment.get_sample_validation_list(pid, learner_id, item["sample"])
        out[f"validations_{n}"] = sorted(listed) if isinstance(listed, dict) else type(listed).__name__
        validation = enrolment.get_sample_validation(pid, learner_id, item["sample"], item["validation"])
        out[f"validation_{n}_before"] = validation.get("status")
        result = {"status": 1, "validation_info": {"quality": 0.9, "faces": 1}, "contribution": 0.5}
        saved = enrolment.set_sample_validation(pid, learner_id, item["sample"], item["validation"], result)
        out[f"validation_{n}_saved"] = (saved.get("status"), saved.get("contribution"))
        after = _outcome(lambda: enrolment._connector.post(
            f"/api/v2/provider/{pid}/enrolment/{learner_id}/sample/{item['sample']}/validation/{item['validation']}/status/",
            body={"status": 1}))
        out[f"validation_{n}_status"] = after.get("status") if isinstance(after, dict) else after
    task = str(uuid.uuid4())
    model = enrolment.get_model_lock(pid, learner_id, task)
    out["locked"] = model is not None and model.get("is_locked")
    out["upload_url"] = sorted(model.get("model_upload_url") or {}) if model else None
    available = enrolment.get_available_samples(pid, learner_id)
    out["available"] = sorted(available)
    ids = [s["id"] for s in available.get("results", [])]
    model.update(model={"features": [0.1, 0.2], "samples": ids}, percentage=0.5, can_analyse=True, used_samples=ids)
    saved_model = _outcome(lambda: enrolment.save_model(pid, learner_id, task, model))
    out["saved"] = _shape(saved_model) if isinstance(saved_model, dict) else saved_model
    out["unlock_after_save"] = _outcome(lambda: enrolment.unlock_model(pid, learner_id, task))  # saving unlocks
    final = enrolment.get_model(pid, learner_id)
    out["after"] = (final["is_locked"], final["percentage"], final["can_analyse"])
    out["used"] = sorted(enrolment.get_model_samples(pid, learner_id))
    return out


def verification_worker(api_url: str, role_id: str, secret_id: str, request_ids: list[int]) -> dict[str, Any]:
    from tesla_ce_client import Client

    client = Client(api_url=api_url, role_id=role_id, secret_id=secret_id, verify_ssl=True)
    pid = client._connector.get_provider_id()
    verification = client.provider.verification
    out: dict[str, Any] = {}
    for n, request_id in enumerate(request_ids):
        before = verification.get_provider_request_result(pid, request_id)
        out[f"request_{n}"] = _shape(before)
        out[f"request_{n}_addressed"] = before["request"]["id"] == request_id
        saved = verification.set_provider_request_result(pid, request_id, {"result": 0.87, "code": 1, "audit": {"frames": 3}})
        out[f"request_{n}_saved"] = (saved.get("result"), saved.get("code"))
        out[f"request_{n}_after"] = verification.get_provider_request_result(pid, request_id).get("status")
    notifications = client.provider.notification
    key = f"worker-{uuid.uuid4().hex[:8]}"
    when = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.timezone.utc)
    first = notifications.update_or_create(pid, key, when, info={"requests": len(request_ids)})
    second = notifications.update_or_create(pid, key, when + dt.timedelta(hours=1), info={"done": True})
    out["notification_upserted"] = first["id"] == second["id"]
    out["notification_info"] = notifications.get(pid, second["id"])["info"]
    notifications.delete(pid, second["id"])
    out["notification_after_delete"] = _outcome(lambda: notifications.get(pid, second["id"]))
    return out
