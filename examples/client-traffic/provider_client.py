"""A team's own (tiny) TeSLA CE provider client, written with httpx as a provider integration would be.

Nothing in it knows apiconform: the test hands it a transport, and that is all it takes.
"""

from __future__ import annotations

from typing import Any

import httpx


class ProviderClient:
    def __init__(self, base_url: str, role_id: str, secret_id: str, transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=30)
        answer = self.http.post("/api/v2/auth/approle", json={"role_id": role_id, "secret_id": secret_id})
        answer.raise_for_status()
        login = answer.json()
        self.provider_id = login["provider_id"]
        self.http.headers["Authorization"] = f"JWT {login['token']['access_token']}"

    def provider(self) -> Any:
        return self._get(f"/api/v2/provider/{self.provider_id}/")

    def notifications(self) -> list[Any]:
        return list(self._get(f"/api/v2/provider/{self.provider_id}/notification/")["results"])

    def notify(self, key: str, when: str, info: dict[str, Any]) -> Any:
        answer = self.http.post(f"/api/v2/provider/{self.provider_id}/notification/",
                                json={"key": key, "when": when, "info": info})
        answer.raise_for_status()
        return answer.json()

    def forget(self, notification_id: int) -> None:
        self.http.delete(f"/api/v2/provider/{self.provider_id}/notification/{notification_id}/").raise_for_status()

    def _get(self, path: str) -> Any:
        answer = self.http.get(path)
        answer.raise_for_status()
        return answer.json()
