"""Discovery: the path values a request addresses — real ids read from the target's list operations, values
fixed by the target's configuration or the caller's identity, and under the write policy "own" the path of a
record the run created — so generated requests hit records."""

from __future__ import annotations

import zlib
from typing import Any

import httpx

from apiconform.auth import fixed_path_values
from apiconform.contracts import Operation, record_id
from apiconform.engine._generate import valid_request
from apiconform.engine._request import USER_AGENT
from apiconform.engine._session import NOT_JSON, BudgetExhausted, Session, Unsendable
from apiconform.engine._writes import addressed, create_operation, record_template


class Discovery:
    """Real ids per resource, read from the target's list operations, so generated requests hit records."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.contract = session.target.contract
        self._ids: dict[tuple[str, tuple[str, ...]], list[Any]] = {}

    def path_values(self, op: Operation) -> dict[str, str]:
        """Known values for the path parameters of `op`, parents first (empty where none are known)."""
        resources = self.contract.path_param_resources(op)
        fixed = self.fixed_values(op)
        values: dict[str, str] = {}
        scope: tuple[str, ...] = ()
        for name in op.path_params():
            if name in fixed:
                values[name] = fixed[name]
                scope = scope + (values[name],)
                continue
            resource = resources.get(name)
            if resource is None:
                break
            ids = self.ids(resource, scope)
            if not ids:
                break
            values[name] = str(ids[0])
            scope = scope + (values[name],)
        return values

    def fixed_values(self, op: Operation) -> dict[str, str]:
        """Path parameters never generated: fixed in the target's config, or the caller's own identity; for a write
        on an existing record under the write policy "own", the path of a record this run created."""
        target = self.session.target
        fixed = fixed_path_values(self.contract, op, target.path_params, self.session.identities())
        return {**fixed, **self.own_values(op, fixed)}

    def own_values(self, op: Operation, fixed: dict[str, str]) -> dict[str, str]:
        """Path values addressing a record this run created, for a write that changes an existing record (a
        PUT/PATCH/DELETE, an action POST) under the write policy "own": the newest such record still there, else
        one created now through the collection's create operation. {} where no policy applies or none can be made."""
        ownership = self.session.ownership
        if ownership is None or ownership.policy != "own" or op.is_safe or not self.session.safety.allows(op.label, op.method):
            return {}
        kind, template = addressed(self.contract, op)
        template = record_template(template)
        if kind != "record" or not template:
            return {}
        values = ownership.own_values(template, fixed)
        if values is None and template not in ownership.unavailable:
            self._create_own(template, fixed)
            values = ownership.own_values(template, fixed)
        return values or {}

    def _create_own(self, template: tuple[str, ...], fixed: dict[str, str]) -> None:
        """Create one record of the collection `template` belongs to (what it answers is tracked by the Session)."""
        ownership = self.session.ownership
        assert ownership is not None
        create = create_operation(self.contract, template)
        why = ""
        if create is None:
            why = "the contract documents no create for it"
        elif not self.session.safety.allows(create.label, create.method):
            why = f"{create.label} may not run (read-only)"
        else:
            scope = {**self.path_values(create), **{k: v for k, v in fixed.items() if k in create.path_params()}}
            request = valid_request(self.session, create, zlib.crc32(create.label.encode()), self, path_values=scope)
            if request is None:
                why = f"no valid request could be built for {create.label}"
            else:
                try:
                    exchange = self.session.send(create, request)
                except (BudgetExhausted, Unsendable) as exc:
                    why = str(exc)
                else:
                    if ownership.own_values(template, fixed) is None:
                        why = f"{create.label} answered {exchange.status or exchange.error}"
        if why:
            ownership.unavailable[template] = why

    def ids(self, resource: str, scope: tuple[str, ...] = ()) -> list[Any]:
        key = (resource, scope)
        if key not in self._ids:
            self._ids[key] = self._fetch(resource, scope)
        return self._ids[key]

    def remember(self, resource: str, scope: tuple[str, ...], value: Any) -> None:
        self._ids.setdefault((resource, scope), []).insert(0, value)

    def _fetch(self, resource: str, scope: tuple[str, ...]) -> list[Any]:
        lister = next((o for o in self.contract if o.resource == resource and o.action == "list"
                       and len(o.path_params()) == len(scope)), None)
        if lister is None:
            return []
        path = lister.fill_path(dict(zip(lister.path_params(), scope)))
        request = httpx.Request("GET", self.session.target.base_url + path, headers={"User-Agent": USER_AGENT})
        try:
            exchange = self.session.send(lister, request)
        except (BudgetExhausted, Unsendable):
            return []
        body = exchange.json()
        if exchange.status is None or not 200 <= exchange.status < 300 or body is NOT_JSON:
            return []
        items = body.get(lister.envelope_names.results, body.get("data")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            return []
        item_reader = next((o for o in self.contract if o.resource == resource and o.action == "read"), None)
        id_field = item_reader.id_field if item_reader else "id"
        return [v for v in (record_id(item, id_field) for item in items) if v is not None]
