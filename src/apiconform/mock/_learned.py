"""What the mock learned from recordings of the real vendor: a reviewable data file beside the contract.

`apiconform learn VENDOR RECORDING...` writes it (apiconform.traffic derives it); the contract opts in with a
top-level `x-apiconform-learned: learned.yaml` (or a command passes a file: `--learned FILE`). The generic mock
executes it; nothing here knows a vendor:

- `records`: seed data, per resource, each record under the scope (parent ids in the path) it was read at -
  the records a client expects to exist, with their parents (referential integrity is checked on load);
- `lifetimes`: seconds the tokens of an operation's answer live, by JSON pointer (`/token/access_token`);
- `answers`: an operation's answer as the vendor gives it (a login answer's members), redacted;
- `open`: the observed structure of objects the contract leaves open, by operation and pointer (`*` = any
  list index), filled in where the mock would answer `{}` or null;
- `accepted`: request values the vendor accepts although the contract's format refuses them (by operation,
  location and name), so the mock accepts them too;
- `members`: per operation and object pointer, the members the vendor answers (`seen`) and always answers
  (`always`, with an example): the mock leaves out the others (unless the request sent them) and adds those;
- `errors`: an operation's error body per status, as the vendor answered it (redacted);
- `absent`: the status the vendor answers a read of a record that no longer exists (403 where it hides it).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiconform.errors import ContractError

KEY = "x-apiconform-learned"


@dataclass
class Learned:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    lifetimes: dict[str, dict[str, int]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    open: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, dict[Any, Any]] = field(default_factory=dict)
    absent: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> Learned:
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ContractError(f"{path}: learned data unreadable ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict):
            raise ContractError(f"{path}: learned data must be a mapping")
        learned = cls(source=str(path))
        for name in ("records", "lifetimes", "answers", "open", "accepted", "members", "errors", "absent"):
            value = data.get(name) or {}
            if not isinstance(value, dict):
                raise ContractError(f"{path}: `{name}` must be a mapping")
            setattr(learned, name, value)
        for resource, items in learned.records.items():
            if not isinstance(items, list) or not all(isinstance(i, dict) and "record" in i for i in items):
                raise ContractError(f"{path}: records.{resource} must be a list of {{scope, id, record}}")
        return learned

    @classmethod
    def for_contract(cls, contract: Any, explicit: Path | None = None) -> Learned:
        """The file passed, else the one the contract names (`x-apiconform-learned`), else nothing learned."""
        if explicit is not None:
            return cls.load(explicit)
        name = contract.document.get(KEY) if isinstance(contract.document, dict) else None
        if not name:
            return cls()
        path = Path(contract.path).parent / str(name)
        if not path.is_file():
            raise ContractError(f"{contract.path}: {KEY} names {name}, which does not exist beside it")
        return cls.load(path)

    def __bool__(self) -> bool:
        return any((self.records, self.lifetimes, self.answers, self.open, self.accepted, self.members, self.errors,
                    self.absent))

    def lifetime(self, operation: str, pointer: str, default: int) -> int:
        value = (self.lifetimes.get(operation) or {}).get(pointer)
        return int(value) if isinstance(value, (int, float)) and value > 0 else default

    def answer(self, operation: str) -> Any:
        value = self.answers.get(operation)
        return copy.deepcopy(value) if value is not None else None

    def error(self, operation: str, status: int) -> Any:
        """The vendor's error body for this operation and status (`errors`), redacted."""
        answers = self.errors.get(operation) or {}
        value = answers.get(status, answers.get(str(status)))
        return copy.deepcopy(value) if value is not None else None

    def absent_status(self, operation: str) -> int | None:
        """How the vendor answers a read of a record that does not exist (`absent`: e.g. 403, hiding it)."""
        value = self.absent.get(operation)
        return int(value) if isinstance(value, int) else None

    def accepts(self, operation: str, location: str, name: str, message: str) -> bool:
        """A format violation the vendor was seen to accept (`'…' is not a 'date-time'`)."""
        if "is not a '" not in message:
            return False
        return any(a.get("location") == location and a.get("name") == name and f"'{a.get('format')}'" in message
                   for a in self.accepted.get(operation) or [])

    def fill_open(self, operation: str, body: Any) -> Any:
        """The observed structure of open objects, where the mock's answer has an empty object or null there."""
        patterns = self.open.get(operation)
        if not patterns or not isinstance(body, (dict, list)):
            return body
        from apiconform.contracts import split, walk

        body = copy.deepcopy(body)  # the answer may be the stored record itself: the structure is the answer's only
        if (body == {} or body is None) and isinstance(patterns.get(""), dict):
            return copy.deepcopy(patterns[""])  # the whole answer is an open object
        for ptr, value in list(walk(body)):
            if (value == {} or value is None) and ptr:
                structure = patterns.get(re.sub(r"/\d+(?=/|$)", "/*", ptr))
                if not isinstance(structure, dict) or not structure:
                    continue
                *parents, last = split(ptr)
                node: Any = body
                for token in parents:
                    node = node[int(token)] if isinstance(node, list) else node[token]
                if isinstance(node, dict):
                    node[last] = copy.deepcopy(structure)
                elif isinstance(node, list):
                    node[int(last)] = copy.deepcopy(structure)
        return body


    def fit_members(self, operation: str, body: Any, sent: Any = None) -> Any:
        """The vendor's members in each object of an answer (`members`): those it never answered there are left
        out (unless the request sent them there), those it always answers are added (their example value)."""
        patterns = self.members.get(operation)
        if not patterns or not isinstance(body, (dict, list)):
            return body
        from apiconform.contracts import resolve, walk

        body = copy.deepcopy(body)
        for ptr, node in walk(body):
            learned = patterns.get(re.sub(r"/\d+(?=/|$)", "/*", ptr)) if isinstance(node, dict) else None
            if not isinstance(learned, dict):
                continue
            mine = resolve(sent, ptr) if isinstance(sent, (dict, list)) else None
            kept = set(learned.get("seen") or ()) | (set(mine) if isinstance(mine, dict) else set())
            for key in [k for k in node if k not in kept]:
                del node[key]
            for key, value in (learned.get("always") or {}).items():
                node.setdefault(key, copy.deepcopy(value))
        return body


__all__ = ["KEY", "Learned"]
