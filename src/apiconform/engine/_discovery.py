"""Discovery: the path values a request addresses — real ids read from the target's list operations, values
fixed by the target's configuration or the caller's identity, and under the write policy "own" the path of a
record the run created — so generated requests hit records; and the real values a write body refers to
(`realistic`, engine._realistic)."""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import unquote

import httpx

from apiconform.auth import fixed_path_values
from apiconform.contracts import Contract, Operation, record_id
from apiconform.engine._generate import valid_request
from apiconform.engine._realistic import carries, realistic
from apiconform.engine._request import USER_AGENT
from apiconform.engine._session import NOT_JSON, BudgetExhausted, Session, Unsendable
from apiconform.engine._writes import Created, addressed, create_operation, record_template

PARENTS_TRIED = 5  # parents a create looks at for one that holds none of its records yet
LISTS_READ = 3  # list operations read to find real values of one member name


class Discovery:
    """Real ids per resource, read from the target's list operations, so generated requests hit records."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.contract = session.target.contract
        self._ids: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
        self._listed: set[tuple[str, tuple[str, ...]]] = set()  # (list operation, scope) read for `list_carrying`
        self._making: set[tuple[str, tuple[str, ...]]] = set()  # (resource, scope) a record was made for (`_made`)
        self._made_live: dict[tuple[str, tuple[str, ...]], Created] = {}  # a live target's made records (`_made`)

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
            self._forget_gone(resource, scope)
            ids = self.ids(resource, scope) or self._made(op, name, resource, scope, values)
            if not ids:
                break
            values[name] = str(self._parent_for(op, resource, scope, ids))
            scope = scope + (values[name],)
        return values

    def _made(self, op: Operation, name: str, resource: str, scope: tuple[str, ...],
              values: dict[str, str]) -> list[Any]:
        """Where the target lists no record `op` could address through parameter `name` (the collection has no list
        operation, or its list answers none), one made through the collection's create: its id from the create's
        answer (`Location`, else the body's id member). Once per collection and scope (a mock is rewound, and its
        Discovery made afresh, per test). The operation that is itself that create gets nothing (it is what would make
        it). Only where the target's write policy lets the create run (a live target: `--allow-writes`); there the
        record is the run's own (the Session's Ownership tracks it, the run's clean-up deletes it), and one another
        test deleted is made again when next addressed (`_forget_gone`: a made Prefect deployment deleted by the
        delete test was addressed again, 404s its description does not document)."""
        template = record_template(tuple(s for s in op.path.split("/") if s)[:_position(op.path, name) + 1])
        key = (resource, scope)
        if key in self._making:
            return []
        self._making.add(key)  # never twice, never recursively (a create whose own path needs one)
        create = create_operation(self.contract, template)
        if create is None or create.label == op.label or not self.session.safety.allows(create.label, create.method):
            return []
        parents = {k: v for k, v in values.items() if k in create.path_params()}
        request = valid_request(self.session, create, zlib.crc32(create.label.encode()), self,
                                path_values={**self.path_values(create), **parents})
        if request is None:
            return []
        try:
            exchange = self.session.send(create, request)
        except (BudgetExhausted, Unsendable):
            return []
        made = _created_id(self.contract, create, exchange)
        if made is None:
            return []
        ownership = self.session.ownership
        if ownership is not None:  # a live target: only a record the run owns (and will delete) is used
            created = next((c for c in reversed(ownership.created) if c.operation == create.label and not c.gone
                            and c.id == str(made)), None)
            if created is None:
                return []
            self._made_live[key] = created
        self.remember(resource, scope, made)
        return [made]

    def _forget_gone(self, resource: str, scope: tuple[str, ...]) -> None:
        """A record made for (`resource`, `scope`) on a live target that a test has since deleted is forgotten with
        the ids read beside it, so the next request addressing the collection reads its list again or makes another."""
        key = (resource, scope)
        made = self._made_live.get(key)
        if made is not None and made.gone:
            del self._made_live[key]
            self._ids.pop(key, None)
            self._making.discard(key)

    def _parent_for(self, op: Operation, parent: str, scope: tuple[str, ...], ids: list[Any]) -> Any:
        """The parent a create goes under: the first (of a few) listed parents that holds no record of the created
        resource yet, where the target lists them (a resource one per parent refuses a second), else the first."""
        if op.action != "create" or not op.resource or parent == op.resource or op.is_safe or \
                not self.session.safety.allows(op.label, op.method) or len(scope) + 1 != len(op.path_params()):
            return ids[0]
        for candidate in ids[:PARENTS_TRIED]:
            if self.lister(op.resource, len(scope) + 1) is None:
                break
            if not self.ids(op.resource, scope + (str(candidate),)):
                return candidate
        return ids[0]

    def lister(self, resource: str, depth: int | None = None) -> Operation | None:
        """The list operation of `resource` (with `depth` path parameters, when given)."""
        found = [o for o in self.contract if o.resource == resource and o.action == "list" and o.method == "get"
                 and (depth is None or len(o.path_params()) == depth)]
        return min(found, key=lambda o: len(o.path_params())) if found else None  # the widest list first

    def realistic(self, op: Operation, request: httpx.Request) -> httpx.Request:
        """`request` with the references of its write body set to real values (engine._realistic)."""
        try:
            return realistic(self, op, request)
        except (BudgetExhausted, Unsendable):
            return request

    def list_carrying(self, name: str) -> None:
        """Read, once each, the list operations whose answers carry member `name` and whose path values are known:
        what they answer joins `Session.observed` (every answer does). At most `LISTS_READ` per member name, the
        widest (fewest path parameters) first."""
        listers = sorted((o for o in self.contract if o.action == "list" and o.method == "get"
                          and carries(self.contract, o, name)), key=lambda o: len(o.path_params()))
        for lister in listers[:LISTS_READ]:
            values = self.path_values(lister)
            if any(n not in values for n in lister.path_params()):
                continue
            scope = tuple(values[n] for n in lister.path_params())
            if (lister.label, scope) in self._listed:
                continue
            self._listed.add((lister.label, scope))
            if lister.resource:
                self.ids(lister.resource, scope)  # read through `ids`, so the list is read once
            else:
                self._get(lister, scope)

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
        body = self._get(lister, scope)
        if body is NOT_JSON:
            return []
        items = body.get(lister.envelope_names.results, body.get("data")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            return []
        item_reader = next((o for o in self.contract if o.resource == resource and o.action == "read"), None)
        id_field = item_reader.id_field if item_reader else "id"
        return [v for v in (record_id(item, id_field) for item in items) if v is not None]

    def _get(self, lister: Operation, scope: tuple[str, ...]) -> Any:
        """One GET of a list operation under `scope`: its JSON answer, NOT_JSON when there is none to read."""
        self._listed.add((lister.label, scope))
        path = lister.fill_path(dict(zip(lister.path_params(), scope)))
        request = httpx.Request("GET", self.session.target.base_url + path, headers={"User-Agent": USER_AGENT})
        try:
            exchange = self.session.send(lister, request)
        except (BudgetExhausted, Unsendable):
            return NOT_JSON
        body = exchange.json()
        if exchange.status is None or not 200 <= exchange.status < 300:
            return NOT_JSON
        return body


def _position(path: str, name: str) -> int:
    """The index of path parameter `name` among the path's segments."""
    segments = [s for s in path.split("/") if s]
    return segments.index("{" + name + "}")


def _created_id(contract: Contract, create: Operation, exchange: Any) -> Any:
    """The id of the record a create answered with 2xx: the last segment of its `Location`, else its body's id
    member (the field the collection's read operation names), None when the answer says neither."""
    if exchange.status is None or not 200 <= exchange.status < 300 or exchange.response is None:
        return None
    location = exchange.response.headers.get("location")
    if location:
        segment = httpx.URL(location).path.rstrip("/").rsplit("/", 1)[-1]
        if segment:
            return unquote(segment)
    body = exchange.json()
    if not isinstance(body, dict):
        return None
    template = [s for s in create.path.split("/") if s]
    reader = next((o for o in contract if o.method == "get" and [s for s in o.path.split("/") if s][:-1] == template
                   and o.path.endswith("}")), None)
    value = record_id(body, reader.id_field if reader is not None else "id")
    value = value if value is not None else record_id(body, "id")
    return None if value is None or isinstance(value, (dict, list, bool)) else value
