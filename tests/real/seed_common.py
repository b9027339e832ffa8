"""What the TeSLA seed scripts share (copied beside them into the server's run directory by
tesla_server.seed_server and imported from there, with the SERVER's interpreter): Django set up as the vendor's
seed.py does it (importing this module does that), a learner of an institution, an enrolment sample holding an image.
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
from tesla_ce.models import EnrolmentSample, Learner  # noqa: E402

IMAGE = "data:image/png;base64,iVBORw0KGgo="


def learner(institution, name, first, last, namespace):
    """The learner `name`@tesla-ce.local of `institution`, made once with a uuid fixed by `namespace` and the name
    (a re-seed, and a baseline that names ids, stay stable)."""
    uid = f"{name}@tesla-ce.local"
    found, _ = Learner.objects.get_or_create(
        uid=uid, institution=institution,
        defaults={"email": uid, "username": uid, "first_name": first, "last_name": last,
                  "learner_id": uuid.uuid5(uuid.UUID(namespace), name)})
    return found


def new_sample(learner, provider, name):
    """A new enrolment sample of `learner` for `provider`'s instrument, its data an image in samples/LEARNER/NAME.json."""
    sample = EnrolmentSample(learner=learner, status=1)
    sample.data.save(f"samples/{learner.learner_id}/{name}.json",
                     ContentFile(json.dumps({"data": IMAGE, "context": {},
                                             "metadata": {"mimetype": "image/png"}}).encode()), save=False)
    sample.save()
    sample.instruments.add(provider.instrument)
    return sample
