"""Extra realistic data for the client-fidelity flows, through the vendor's own models (run after seed_tesla.py,
with the SERVER's interpreter in its run directory): verification requests of other providers' instruments come
first, so this provider's result ids differ from the request ids it is addressed by (as on a shared platform),
and a learner with validated samples waits for a model. Prints one JSON object with the ids a worker is handed.
"""
import json

import seed_common  # noqa: E402  (sets Django up: imported before any model)
from django.core.files.base import ContentFile  # noqa: E402
from tesla_ce.models import (  # noqa: E402
    EnrolmentSampleValidation, Institution, Provider, Request, RequestProviderResult,
)

provider = Provider.objects.get(acronym="tfr")
institution = Institution.objects.get(pk=1)
learner = seed_common.learner(institution, "barbara.liskov", "Barbara", "Liskov",
                             "6f1d6a0e-2a55-4c3e-9a51-7d1c0b7c1e01")
for _ in range(3):  # requests this provider never sees: the platform's ids move on
    other = Request(learner=learner, status=1)
    other.data.save(f"requests/{learner.learner_id}/other.json", ContentFile(b"{}"), save=False)
    other.save()
requests = []
for k in range(2):
    request = Request(learner=learner, status=1)
    request.data.save(f"requests/{learner.learner_id}/request_{k}.json",
                      ContentFile(b'{"data": "data:image/png;base64,iVBORw0KGgo="}'), save=False)
    request.save()
    request.instruments.add(provider.instrument)
    result = RequestProviderResult.objects.create(request=request, provider=provider, status=0, result=0.0, code=0)
    result.audit.save(f"requests/{learner.learner_id}/request_{k}.audit.json", ContentFile(b"{}"))
    requests.append({"request": request.id, "result": result.id})
samples = []
for k in range(2):
    sample = seed_common.new_sample(learner, provider, f"sample_{k}")
    validation = EnrolmentSampleValidation.objects.create(sample=sample, provider=provider, status=0)
    validation.info.save(f"samples/{learner.learner_id}/sample_{k}.validation.json", ContentFile(b"{}"))
    samples.append({"sample": sample.id, "validation": validation.id})
print(json.dumps({"learner": str(learner.learner_id), "requests": requests, "samples": samples}))
