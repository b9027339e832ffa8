"""What a run's start skips must change nothing: a `#/...` reference followed without referencing finds what
referencing finds, a remembered loaded document is the load itself and is dropped once a file it came from changes,
a remembered folder digest is dropped once a file changes, and the versions read from `*.dist-info` folders are
importlib.metadata's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from apiconform.contracts import contract_path, list_vendors, load_contract
from apiconform.contracts._model import _NOT_LOCAL, Contract
from apiconform.contracts._pointer import objects
from apiconform.errors import ContractError


def test_every_local_reference_of_every_bundled_contract_is_what_referencing_finds() -> None:
    followed = 0
    for vendor in list_vendors():
        contract = load_contract(vendor)
        resolver = contract.registry.resolver(contract.base_uri)
        for ptr, node in objects(contract.document):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                local = contract._local(ref)
                assert local is not _NOT_LOCAL, (vendor, ptr, ref)
                assert local is resolver.lookup(ref).contents, (vendor, ptr, ref)
                followed += 1
    assert followed > 1000


def _contract(document: dict[str, object]) -> Contract:
    return Contract(vendor="t", path=Path("/nowhere/openapi.yaml"), document=document,
                    base_uri="file:///nowhere/openapi.yaml")


def test_escaped_encoded_and_indexed_tokens_follow_as_referencing_does_and_the_rest_goes_to_it() -> None:
    document: dict[str, object] = {
        "openapi": "3.1.0",
        "components": {"schemas": {"a/b": {"type": "string"}, "t~x": {"type": "integer"}, "c~1d": {"minimum": 1}, "sp ace": {"type": "null"},
                                   "list": {"allOf": [{"type": "number"}, {"$ref": "#/components/schemas/a~1b"}]},
                                   "ided": {"$id": "https://example.com/other", "properties": {"x": {"type": "boolean"}}}}},
    }
    contract = _contract(document)
    resolver = contract.registry.resolver(contract.base_uri)
    schemas = document["components"]["schemas"]  # type: ignore[index]
    for ref, expected in [("#/components/schemas/a~1b", schemas["a/b"]), ("#/components/schemas/t~0x", schemas["t~x"]),
                          ("#/components/schemas/c~01d", schemas["c~1d"]),
                          ("#/components/schemas/sp%20ace", schemas["sp ace"]),
                          ("#/components/schemas/list/allOf/0", schemas["list"]["allOf"][0])]:
        assert contract._local(ref) is expected is resolver.lookup(ref).contents, ref
    assert contract.resolve({"$ref": "#/components/schemas/list/allOf/1"}) is schemas["a/b"]  # a chain
    # an object holding $id on the way changes the base of what follows: referencing decides
    assert contract._local("#/components/schemas/ided/properties/x") is _NOT_LOCAL
    assert contract.resolve({"$ref": "#/components/schemas/ided/properties/x"}) == {"type": "boolean"}
    for other in ("#foo", "#", "other.yaml#/x", "#/components/schemas/missing", "#/components/schemas/list/allOf/9",
                  "#/components/schemas/list/allOf/x", 7):
        assert contract._local(other) is _NOT_LOCAL, other
    with pytest.raises(ContractError, match="unresolvable"):
        contract.resolve({"$ref": "#/components/schemas/missing"})
    declared = _contract({"$schema": "http://json-schema.org/draft-04/schema#", "components": {"x": {}}})
    assert declared._local("#/components/x") is _NOT_LOCAL  # its dialect decides what an id is
    assert declared.resolve({"$ref": "#/components/x"}) == {}


def test_a_remembered_load_is_the_load_and_any_change_to_its_files_loads_again(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.contracts import _loader

    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "goodstack"
    shutil.copytree(contract_path("goodstack").parent, folder)
    path = (folder / "openapi.yaml").resolve()
    _loader._load.cache_clear()
    first = _loader._load(path)
    assert _loader._remembered_load(path) == first.document  # kept on disk ...
    _loader._load.cache_clear()
    again = _loader._load(path)
    assert again.document == first.document and list(again.operations) == list(first.operations)
    entry = next((tmp_path / "cache" / "loaded").glob("*.json"))
    stored = json.loads(entry.read_text())
    stored["document"]["info"]["title"] = "from the cache"
    entry.write_text(json.dumps(stored))
    _loader._load.cache_clear()
    assert _loader._load(path).title == "from the cache"  # ... and really read from there
    example = next(f for f in (folder / "examples").rglob("*.json"))
    name = str(example.relative_to(folder))
    example.write_text(json.dumps({"edited": True}))  # an example file changed: loaded again from the files
    _loader._load.cache_clear()
    reloaded = _loader._load(path)
    assert reloaded.title != "from the cache"
    values = [node["value"] for _, node in objects(reloaded.document) if node.get("x-apiconform-file") == name]
    assert values and all(v == {"edited": True} for v in values)
    monkeypatch.setenv("APICONFORM_CACHE", "off")
    entry.unlink()
    _loader._load.cache_clear()
    _loader._load(path)
    assert not list((tmp_path / "cache" / "loaded").glob("*.json"))  # the cache switched off: nothing kept
    _loader._load.cache_clear()


def test_a_remembered_folder_digest_holds_only_while_no_file_changes(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.contracts import _stamp

    monkeypatch.setenv("APICONFORM_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "goodstack"
    shutil.copytree(contract_path("goodstack").parent, folder)
    digest = _stamp.folder_digest(folder)
    assert digest == _stamp._folder_digest(folder) and list((tmp_path / "cache" / "digests").glob("*.json"))
    for entry in (tmp_path / "cache" / "digests").glob("*.json"):
        entry.write_text("0" * 64)
    assert _stamp.folder_digest(folder) == "0" * 64  # remembered under the files' stats
    spec = folder / "openapi.yaml"
    spec.write_text(spec.read_text() + "\n# edited\n")
    assert _stamp.folder_digest(folder) == _stamp._folder_digest(folder) != digest


def test_versions_read_from_dist_info_folders_are_importlib_metadatas() -> None:
    from importlib import metadata

    from apiconform._cache import dist_version

    names = {dist.metadata["Name"] for dist in metadata.distributions()}
    assert len(names) > 20
    for name in names:
        assert dist_version(name) == metadata.version(name), name
    assert dist_version("PyYAML") == dist_version("pyyaml") == metadata.version("pyyaml")
    assert dist_version("no-such-distribution-here") is None
