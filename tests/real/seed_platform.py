"""Realistic platform data the gate's real server holds BEFORE seed_tesla.py runs (run by tests/real/conftest.py with the
SERVER's interpreter in its run directory): verification requests of the platform this provider never sees, so the
provider's result ids are not the request ids it is addressed by (as on a shared platform; a tool that mixes the two
up gets 404s). Prints one JSON object. Idempotent.
"""
import json

import seed_common  # noqa: E402  (sets Django up: imported before any model)
from django.core.files.base import ContentFile  # noqa: E402
from tesla_ce.models import Institution, Request  # noqa: E402

institution = Institution.objects.get(pk=1)
learner = seed_common.learner(institution, "platform.other", "Platform", "Other",
                             "6f1d6a0e-2a55-4c3e-9a51-7d1c0b7c1e02")
made = []
for k in range(3):
    if not Request.objects.filter(data__contains=f"platform/other_{k}.json").exists():
        other = Request(learner=learner, status=1)
        other.data.save(f"requests/platform/other_{k}.json", ContentFile(b"{}"), save=False)
        other.save()
        made.append(other.id)
print(json.dumps({"platform_requests": made}))
