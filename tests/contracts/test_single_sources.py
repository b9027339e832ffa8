"""One implementation each (issue 28): path templates are filled by `contracts.fill_path` / `Operation.fill_path`
(percent-encoded per the parameter's `style`), `[VENDOR:]NAME` is parsed by `engine.vendor_items`, and
`x-apiconform-auth` is read by `auth._common.auth_config` / `contract_auth_config`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apiconform.auth._common import contract_auth_config
from apiconform.contracts import Contract, fill_path, path_value
from apiconform.engine import per_vendor, vendor_items

#: values a path segment must carry intact: reserved characters, a space, dot segments, non-ASCII, a percent sign
AWKWARD = ["a/b", "x y", "..", ".", "50%", "ünï", "a?b#c", "1;2,3=4", "v:1@h"]


@pytest.mark.parametrize("value", AWKWARD)
def test_every_operation_path_round_trips_through_the_mock_router(value: str, contracts: dict[str, Contract]) -> None:
    """What fill_path sends is what the mock's router (Operation.match_path) reads back, for every operation of
    every bundled contract: a `/` or `?` in a value never changes the path's shape."""
    checked = 0
    for contract in contracts.values():
        for op in contract:
            names = op.path_params()
            if not names:
                continue
            values = {name: f"{value}{i}" if len(names) > 1 else value for i, name in enumerate(names)}
            path = op.fill_path(values)
            assert "?" not in path and "#" not in path and " " not in path, path
            assert op.match_path(path) == values, (op.label, path)
            checked += 1
    assert checked > 50


def test_styles_and_wire_form() -> None:
    assert path_value("a/b") == "a%2Fb" and path_value("..") == "%2E%2E" and path_value(7) == "7"
    assert path_value(True) == "true"
    assert path_value("a b", "label") == ".a%20b"
    assert path_value("a b", "matrix", "id") == ";id=a%20b"
    assert fill_path("/x/{id}/y/{k}", {"id": "a/b", "k": 3}, {"k": "label"}) == "/x/a%2Fb/y/.3"
    # a replayed case's generated values are already in their wire form: left as they are
    assert fill_path("/x/{id}", {"id": "a%2Fb"}, encoded=True) == "/x/a%2Fb"
    with pytest.raises(KeyError, match="'id'"):
        fill_path("/x/{id}", {})


def test_vendor_prefixed_names_have_one_parser() -> None:
    values = ["eduframe:status-code-changed,field-type-changed", "tesla-ce:latency:2", " ", "timeout:5"]
    assert vendor_items(values, ["eduframe", "tesla-ce"]) == [
        ("eduframe", "status-code-changed"), (None, "field-type-changed"), ("tesla-ce", "latency:2"), (None, "timeout:5")]
    assert per_vendor(values, "eduframe") == ("status-code-changed", "field-type-changed", "timeout:5")
    assert per_vendor(values, "goodstack") == ("field-type-changed", "timeout:5")


def test_contract_auth_config_is_the_first_declaring_scheme(contracts: dict[str, Contract]) -> None:
    assert contract_auth_config(contracts["tesla-ce"])["identity"]  # the jwt-login scheme's identity declaration
    # two schemes declare one: the first wins
    assert contract_auth_config(contracts["ctrlhub"]) == {"flow": "api-key"}


def test_the_mock_example_call_reads_the_same_identity(mock_session: Any) -> None:
    """`apiconform mock`'s example call finds the caller's own id through the same reader as the mock."""
    from apiconform.cli._mock import _example_request

    session = mock_session("tesla-ce")
    identity = session.target.app.mock.ctx.identity()
    op, path, _ = _example_request(session.target.contract, identity)
    assert identity is not None and op.match_path(path) == {op.path_params()[0]: str(identity)}, path
    answer = session.send(op, httpx.Request("GET", session.target.base_url + path))
    assert answer.status == 200, answer.status
