"""Realistic platform data the gate's real server holds BEFORE seed_tesla.py runs (run by tests/real/conftest.py with the
SERVER's interpreter in its run directory): verification requests of the platform this provider never sees, so the
provider's result ids are not the request ids it is addressed by (as on a shared platform; a tool that mixes the two
up gets 404s). Prints one JSON object. Idempotent.
"""
import json
import os
import sys
import uuid

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tesla_local_settings")
os.environ.setdefault("DJANGO_CONFIGURATION", "Local")
import tesla_ce  # noqa: E402,F401  (imported before configurations.setup(), as the vendor seed.py does)
import configurations  # noqa: E402

configurations.setup()
from django.core.files.base import ContentFile  # noqa: E402
from tesla_ce.models import Institution, Learner, Request  # noqa: E402

institution = Institution.objects.get(pk=1)
NS = uuid.UUID("6f1d6a0e-2a55-4c3e-9a51-7d1c0b7c1e02")
learner, _ = Learner.objects.get_or_create(
    uid="platform.other@tesla-ce.local", institution=institution,
    defaults={"email": "platform.other@tesla-ce.local", "username": "platform.other@tesla-ce.local",
              "first_name": "Platform", "last_name": "Other", "learner_id": uuid.uuid5(NS, "platform.other")})
made = []
for k in range(3):
    if not Request.objects.filter(data__contains=f"platform/other_{k}.json").exists():
        other = Request(learner=learner, status=1)
        other.data.save(f"requests/platform/other_{k}.json", ContentFile(b"{}"), save=False)
        other.save()
        made.append(other.id)
print(json.dumps({"platform_requests": made}))
