"""Realistic pending work the gate's real server holds AFTER seed_tesla.py (run by tests/real/conftest.py with the
SERVER's interpreter in its run directory): a new sample of the first learner not validated yet, the provider's next
validation to create. Prints one JSON object. Idempotent.
"""
import json

import seed_common  # noqa: E402  (sets Django up: imported before any model)
from tesla_ce.models import EnrolmentSample, Learner, Provider  # noqa: E402

provider = Provider.objects.get(acronym="tfr")
learner = Learner.objects.get(uid="ada.lovelace@tesla-ce.local")
pending = EnrolmentSample.objects.filter(learner=learner, data__contains="sample_pending.json").first()
if pending is None:
    pending = seed_common.new_sample(learner, provider, "sample_pending")
print(json.dumps({"pending_sample": pending.id}))
