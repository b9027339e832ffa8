"""Realistic pending work the gate's real server holds AFTER seed_tesla.py (run by tests/real/conftest.py with the
SERVER's interpreter in its run directory): a new sample of the first learner not validated yet, the provider's next
validation to create. Prints one JSON object. Idempotent.
"""
import json
import os
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tesla_local_settings")
os.environ.setdefault("DJANGO_CONFIGURATION", "Local")
import tesla_ce  # noqa: E402,F401  (imported before configurations.setup(), as the vendor seed.py does)
import configurations  # noqa: E402

configurations.setup()
from django.core.files.base import ContentFile  # noqa: E402
from tesla_ce.models import EnrolmentSample, Learner, Provider  # noqa: E402

provider = Provider.objects.get(acronym="tfr")
learner = Learner.objects.get(uid="ada.lovelace@tesla-ce.local")
pending = EnrolmentSample.objects.filter(learner=learner, data__contains="sample_pending.json").first()
if pending is None:
    pending = EnrolmentSample(learner=learner, status=1)
    pending.data.save(f"samples/{learner.learner_id}/sample_pending.json",
                      ContentFile(json.dumps({"data": "data:image/png;base64,iVBORw0KGgo=", "context": {},
                                              "metadata": {"mimetype": "image/png"}}).encode()), save=False)
    pending.save()
    pending.instruments.add(provider.instrument)
print(json.dumps({"pending_sample": pending.id}))
