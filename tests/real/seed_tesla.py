"""Seed the real TeSLA CE server with realistic provider data, through the vendor's own Django models.

Run by tests/real/tesla_server.py with the SERVER's interpreter, in its run directory (where
tesla_local_settings.py and tesla-ce.cfg live), after start.sh has bootstrapped it. Prints one JSON
object: the ids the tests and the gate can use (learner uuids, sample/validation/request/notification ids).
Idempotent: a second run on the same database adds nothing.
"""
import json

import seed_common  # noqa: E402  (sets Django up: imported before any model)
from django.core.files.base import ContentFile  # noqa: E402
from django.utils import timezone  # noqa: E402
from tesla_ce.models import (  # noqa: E402
    Enrolment, EnrolmentSample, EnrolmentSampleValidation, Institution, Provider,
    ProviderNotification, Request, RequestProviderResult,
)

provider = Provider.objects.get(acronym="tfr")
institution = Institution.objects.get(pk=1)
LEARNERS = [("ada.lovelace", "Ada", "Lovelace"), ("alan.turing", "Alan", "Turing"),
            ("grace.hopper", "Grace", "Hopper"), ("edsger.dijkstra", "Edsger", "Dijkstra")]
# fixed uuids so a re-seed (and a baseline that names ids) stays stable
learners = [seed_common.learner(institution, uid, first, last, "6f1d6a0e-2a55-4c3e-9a51-7d1c0b7c1e00")
            for uid, first, last in LEARNERS]

samples, validations, requests, notifications = [], [], [], []
for n, learner in enumerate(learners):
    # enrolment model of the first three learners (the fourth has samples but no model yet)
    if n < 3 and not Enrolment.objects.filter(learner=learner, provider=provider).exists():
        model = Enrolment.objects.create(learner=learner, provider=provider,
                                         percentage=[1.0, 0.6, 0.25][n], can_analyse=n < 2)
        model.model.save(f"enrolment/{learner.learner_id}/model.json", ContentFile(b'{"features": []}'))
    for k in range(2):
        sample = EnrolmentSample.objects.filter(learner=learner, data__contains=f"sample_{k}.json").first()
        if sample is None:
            sample = seed_common.new_sample(learner, provider, f"sample_{k}")
        samples.append(sample)
        validation, created = EnrolmentSampleValidation.objects.get_or_create(
            sample=sample, provider=provider,
            defaults={"status": 1 if k == 0 else 0, "contribution": 0.5 if k == 0 else None})
        if created:
            validation.info.save(f"samples/{learner.learner_id}/sample_{k}.validation.json",
                                 ContentFile(b'{"valid": true}'))
        validations.append(validation)
        if k == 0 and n < 3:
            enrolment = Enrolment.objects.get(learner=learner, provider=provider)
            enrolment.model_samples.add(sample)
    request = Request.objects.filter(learner=learner).first()
    if request is None:
        request = Request(learner=learner, status=1)
        request.data.save(f"requests/{learner.learner_id}/request.json",
                          ContentFile(b'{"data": "data:image/png;base64,iVBORw0KGgo="}'), save=False)
        request.save()
        request.instruments.add(provider.instrument)
    result, created = RequestProviderResult.objects.get_or_create(
        request=request, provider=provider, defaults={"status": 0, "result": 0.0, "code": 0})  # pending: what a provider processes
    if created:
        result.audit.save(f"requests/{learner.learner_id}/request.json__audit.json", ContentFile(b"{}"))
    requests.append(result)

for key, info in (("pending_models", {"learners": [str(lr.learner_id) for lr in learners[:2]]}),
                  ("retrain", {"reason": "new samples"})):
    notification, _ = ProviderNotification.objects.get_or_create(
        provider=provider, key=key, defaults={"info": json.dumps(info), "when": timezone.now()})
    notifications.append(notification)

print(json.dumps({
    "provider_id": provider.id,
    "request_ids": [r.request_id for r in requests],
    "learners": [str(lr.learner_id) for lr in learners],
    "samples": [s.id for s in samples],
    "validations": [v.id for v in validations],
    "requests": [r.id for r in requests],
    "notifications": [x.id for x in notifications],
}))
