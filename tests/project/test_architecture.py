"""Arrows point down: the import-linter contracts in pyproject.toml (`[tool.importlinter]`, also run by `make lint`)
hold for apiconform's import graph, and they are not vacuous — an upward arrow or a cycle added to the graph
breaks them (the two cycles issue 28 removed among them)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
KINDS: dict[str, type[Contract]] = {"layers": LayersContract, "acyclic_siblings": AcyclicSiblingsContract}


@pytest.fixture(scope="module")
def options() -> Any:
    configuration.configure()  # what `lint-imports` does first: the readers of pyproject.toml
    return read_user_options(str(PYPROJECT))


@pytest.fixture(scope="module")
def graph(options: Any) -> grimp.ImportGraph:
    session = options.session_options
    return grimp.build_graph(*session["root_packages"], cache_dir=None,
                             exclude_type_checking_imports=bool(session.get("exclude_type_checking_imports")))


def broken(options: Any, graph: grimp.ImportGraph) -> dict[str, Any]:
    """The contracts the graph breaks: id -> the check (its metadata says where)."""
    found = {}
    for spec in options.contracts_options:
        contract = KINDS[spec["type"]](name=spec["name"], session_options=options.session_options, contract_options=spec)
        check = contract.check(copy.deepcopy(graph), verbose=False)  # a check may change the graph
        if not check.kept:
            found[spec["id"]] = check
    return found


def test_contracts_cover_every_package(options: Any) -> None:
    """Each top-level module of apiconform sits in a layer: a new package must be placed, not left unchecked."""
    layers = next(c for c in options.contracts_options if c["type"] == "layers")
    placed = {name.strip() for layer in layers["layers"] for name in layer.replace(":", "|").split("|")}
    src = PYPROJECT.parent / "src" / "apiconform"
    present = {p.stem for p in src.iterdir() if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert present - placed == set(), "place these in [tool.importlinter] layers"
    assert {c["type"] for c in options.contracts_options} == set(KINDS)


def test_the_import_graph_keeps_every_contract(options: Any, graph: grimp.ImportGraph) -> None:
    assert broken(options, graph) == {}


@pytest.mark.parametrize(("importer", "imported", "breaks"), [
    # the two cycles issue 28 broke, put back
    ("apiconform.gate._run", "apiconform.cli._report", {"layers", "acyclic"}),
    ("apiconform.mock.drifts", "apiconform.engine.checks", {"layers", "acyclic"}),
    ("apiconform.config", "apiconform.engine._targets", {"layers", "acyclic"}),
    ("apiconform.contracts._validate", "apiconform.engine._session", {"layers", "acyclic"}),
    # an upward arrow without a cycle
    ("apiconform.auth.bearer", "apiconform.report._html", {"layers"}),
    # a cycle inside one package
    ("apiconform.engine._ledger", "apiconform.engine._session", {"acyclic"}),
])
def test_an_upward_arrow_or_a_cycle_breaks_a_contract(options: Any, graph: grimp.ImportGraph, importer: str,
                                                       imported: str, breaks: set[str]) -> None:
    assert not graph.direct_import_exists(importer=importer, imported=imported)
    changed = copy.deepcopy(graph)
    changed.add_import(importer=importer, imported=imported)
    assert set(broken(options, changed)) == breaks


def test_the_report_demo_lives_outside_the_wheel_and_still_renders(tmp_path: Path) -> None:
    """report/_demo.py was a development fixture shipped in the wheel: it is tests/support/demo_report.py now
    (scripts/screenshot_matrix.sh runs it), and still writes the run record and every report."""
    from tests.support.demo_report import main

    assert not (PYPROJECT.parent / "src" / "apiconform" / "report" / "_demo.py").exists()
    assert main([str(tmp_path)]) == 0
    assert {"run.json", "junit.xml", "matrix.json", "matrix.md", "matrix.html"} <= {p.name for p in tmp_path.iterdir()}


def private_imports(graph: grimp.ImportGraph, package: str) -> set[tuple[str, str]]:
    """Imports from `package`'s modules of a module private to another package (a `_`-prefixed part)."""
    found = set()
    for module in graph.find_descendants(package):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("apiconform.") and not imported.startswith(package + ".") \
                    and any(part.startswith("_") and part != "__main__" for part in imported.split(".")[1:]):
                found.add((module, imported))
    return found


def test_the_shipped_suites_import_public_names_only(graph: grimp.ImportGraph) -> None:
    assert private_imports(graph, "apiconform.suites") == set()
    changed = copy.deepcopy(graph)
    changed.add_import(importer="apiconform.suites.test_examples", imported="apiconform.engine._suites")
    assert private_imports(changed, "apiconform.suites") == {("apiconform.suites.test_examples", "apiconform.engine._suites")}


#: the imports of another package's private module still left (each a candidate for that package's `__init__`):
#: the CLI's and the plugin's of gate internals, the team-contracts folder, lifecycle path filling; nothing may join them
PRIVATE_LEFT = {
    ("apiconform._api", "apiconform.contracts._loader"),
    ("apiconform.cli._run", "apiconform.gate._options"),
    ("apiconform.engine._compiled", "apiconform.contracts._content"),
    ("apiconform.engine._compiled", "apiconform.contracts._pointer"),
    ("apiconform.cli._upgrade", "apiconform.gate._options"),
    ("apiconform.cli._contracts_opt", "apiconform.contracts._loader"),
    ("apiconform.pytest.plugin", "apiconform.gate._options"),
    ("apiconform.cli._fidelity", "apiconform.traffic._learn"),
    ("apiconform.cli._init", "apiconform.contracts._import"),
    ("apiconform.cli._proxy", "apiconform.gate._run"),
    ("apiconform.cli._report", "apiconform.gate._verdict"),
    ("apiconform.cli._run", "apiconform.gate._export"),
    ("apiconform.cli._run", "apiconform.gate._run"),
    ("apiconform.cli._upgrade", "apiconform.gate._run"),
    ("apiconform.cli._upgrade", "apiconform.gate.diff._render"),
    ("apiconform.gate._run", "apiconform.contracts._stamp"),
    ("apiconform.gate._run", "apiconform.engine._ledger"),
    ("apiconform.gate.diff._model", "apiconform.contracts._pointer"),
    ("apiconform.gate.diff._source", "apiconform.contracts._pointer"),
    ("apiconform.pytest.plugin", "apiconform.engine._ledger"),
    ("apiconform.traffic._cassette", "apiconform.engine._stateful"),
    ("apiconform.traffic._replay", "apiconform.engine._stateful"),
}


def cross_package_private(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    """Every import of a module private to another package (the root's shared `_defaults`, `_cache`, `_lazy` aside)."""
    found = set()
    for top in {m.split(".")[1] for m in graph.modules if m.count(".") >= 1}:
        package = f"apiconform.{top}"
        for module in graph.find_descendants(package) | {package} if graph.find_children(package) else {package}:
            found |= {(module, imported) for module, imported in private_imports_of(graph, module, package)}
    return found


def private_imports_of(graph: grimp.ImportGraph, module: str, package: str) -> set[tuple[str, str]]:
    return {(module, imported) for imported in graph.find_modules_directly_imported_by(module)
            if imported.startswith("apiconform.") and not imported.startswith(package + ".") and imported.count(".") >= 2
            and any(part.startswith("_") for part in imported.split(".")[2:])}


def test_packages_use_each_others_public_names(graph: grimp.ImportGraph) -> None:
    """Public names go through each package's `__init__`: no new import of another package's private module."""
    assert cross_package_private(graph) - PRIVATE_LEFT == set()
    changed = copy.deepcopy(graph)
    changed.add_import(importer="apiconform.report._html", imported="apiconform.engine._session")
    assert cross_package_private(changed) - PRIVATE_LEFT == {("apiconform.report._html", "apiconform.engine._session")}
