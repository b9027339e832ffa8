"""A Kinto client flow written with Kinto's own Python client (`kinto-http`, from PyPI, unmodified), the way an
application keeps its data in Kinto: read the server's capabilities, make a bucket and a collection of its own,
write records (create, replace, patch, delete), list them sorted, read a shared bucket's records, and delete what it made. It runs against the real Kinto server (through `apiconform proxy`) and against
the mock of the contract imported from Kinto's own served description; the summary it returns (statuses met,
shapes, state read back; no values that differ by nature: ids, timestamps) must be the same for both.
"""

from __future__ import annotations

import uuid
from typing import Any


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _outcome(call: Any) -> Any:
    from kinto_http.exceptions import KintoException

    try:
        return call()
    except KintoException as exc:
        response = getattr(exc, "response", None)
        return f"{type(exc).__name__} {getattr(response, 'status_code', '')}".strip()


def notes_flow(server_url: str, user: str, password: str, shared: tuple[str, str] | None = None) -> dict[str, Any]:
    """The flow; `server_url` is the API root (…/v1). `shared`: a (bucket, collection) the user may read."""
    from kinto_http import Client

    out: dict[str, Any] = {}
    bucket = f"fidelity-{uuid.uuid4().hex[:8]}"
    client = Client(server_url=server_url, auth=(user, password), bucket=bucket, collection="notes", retry=0)
    info = client.server_info()
    out["server_info"] = sorted(k for k in info if k in ("project_name", "http_api_version", "capabilities", "user"))
    out["bucket"] = _shape(client.create_bucket(id=bucket)["data"])
    try:
        out["collection"] = _shape(client.create_collection(id="notes")["data"])
        made = [client.create_record(data={"title": f"note {n}", "rank": n, "tags": ["a", "b"][: n % 3]})["data"]
                for n in range(3)]
        out["created"] = [_shape(r) for r in made]
        listed = client.get_records(_sort="-rank")
        out["listed"] = (len(listed), [r["rank"] for r in listed])
        first = made[0]["id"]
        out["read"] = _shape(client.get_record(id=first)["data"])
        replaced = client.update_record(id=first, data={"title": "replaced", "rank": 10})["data"]
        out["replaced"] = (replaced["title"], replaced["rank"], "tags" in replaced)
        patched = client.patch_record(id=first, data={"done": True})["data"]
        out["patched"] = (patched["title"], patched.get("done"))
        out["deleted"] = _shape(client.delete_record(id=made[1]["id"]))
        out["read_deleted"] = _outcome(lambda: client.get_record(id=made[1]["id"]))
        if shared is not None:
            records = client.get_records(bucket=shared[0], collection=shared[1])
            out["shared"] = (len(records) > 0, _shape(records[0]) if records else None)
    finally:
        out["bucket_deleted"] = _shape(_outcome(lambda: client.delete_bucket(id=bucket)))
    out["read_bucket_deleted"] = _outcome(lambda: client.get_bucket(id=bucket))
    return out
