"""The real TeSLA CE fixture itself: up, seeded through the vendor's models, reachable with the provider's login."""

from __future__ import annotations

import httpx

from .tesla_server import TeslaServer

LISTS = ("enrolment/", "notification/", "request/")


def test_seeded_lists_are_not_empty(tesla_real: TeslaServer) -> None:
    token = tesla_real.login()
    headers = {"Authorization": f"JWT {token}"}
    base = f"{tesla_real.base_url}/api/v2/provider/{tesla_real.credentials['provider_id']}/"
    for path in LISTS:
        answer = httpx.get(base + path, headers=headers, timeout=20)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
        assert answer.json()["count"] > 0, path
    learner = tesla_real.seeded["learners"][0]
    samples = httpx.get(f"{base}enrolment/{learner}/sample/", headers=headers, timeout=20).json()
    assert samples["count"] > 0
    sample = samples["results"][0]["id"]
    validations = httpx.get(f"{base}enrolment/{learner}/sample/{sample}/validation/", headers=headers, timeout=20)
    assert validations.json()["count"] > 0
