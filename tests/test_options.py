"""One options model: every run parameter is declared once (`apiconform._options`, on `EngineOptions` and the gate's
`RunOptions`), and `apiconform run`'s click options, the pytest plugin's options and `apiconform.run()`'s keywords
are derived from it. These tests compare each surface with the declarations, and show that the comparison fails
when one surface drifts (a default changed, an option missing, a keyword renamed)."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest

import apiconform
from apiconform._options import Declared, declared, values_from
from apiconform.cli._run import run as run_command
from apiconform.engine import EngineOptions, item_seed
from apiconform.errors import UsageError
from apiconform.gate._options import RunOptions
from apiconform.pytest import plugin

pytest_plugins = ["pytester"]


def _cli_problems(command: click.Command) -> list[str]:
    """Where a click command differs from the declarations: an option missing, another flag or help, or a default
    that does not give the model's default."""
    problems = []
    params = {p.name: p for p in command.params}
    for item in declared(RunOptions, "cli"):
        param = params.get(item.name)
        if param is None:
            problems.append(f"cli: {item.name} missing")
            continue
        if not item.spec.argument and item.flag not in param.opts:
            problems.append(f"cli: {item.name} is spelled {param.opts}, declared {item.flag}")
        if not item.spec.argument and getattr(param, "help", None) != item.spec.help:
            problems.append(f"cli: {item.name}'s help differs from its declaration")
    parsed = command.make_context(command.name or "run", [], resilient_parsing=True).params
    problems += _default_problems("cli", values_from(RunOptions, "cli", parsed))
    return problems


class _Options:
    """What a pytest_addoption hook declares (a stand-in for pytest's parser), parsed as pytest would."""

    def __init__(self, addoption: Callable[[Any], None]) -> None:
        self.options: list[tuple[tuple[str, ...], dict[str, Any]]] = []
        addoption(self)

    def getgroup(self, name: str, description: str = "") -> _Options:
        return self

    def addoption(self, *names: str, **attrs: Any) -> None:
        self.options.append((names, attrs))

    def defaults(self) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        for names, attrs in self.options:
            parser.add_argument(*names, **attrs)
        return parser.parse_args([])


def _pytest_problems(options: _Options) -> list[str]:
    flags = {name for names, _ in options.options for name in names}
    problems = [f"pytest: {item.flag} missing" for item in declared(RunOptions, "pytest") if item.flag not in flags]
    namespace = options.defaults()
    given = {item.name: getattr(namespace, plugin._dest(item.name), None) for item in declared(RunOptions, "pytest")}
    return problems + _default_problems("pytest", values_from(RunOptions, "pytest", given))


def _default_problems(surface: str, values: dict[str, Any]) -> list[str]:
    """An empty command line must leave every field at the model's default."""
    model = RunOptions()
    got = RunOptions(**values)
    return [f"{surface}: {item.name} defaults to {getattr(got, item.name)!r}, declared {item.default!r}"
            for item in declared(RunOptions) if getattr(got, item.name) != getattr(model, item.name)]


def _api_problems(function: Callable[..., Any]) -> list[str]:
    parameters = inspect.signature(function).parameters
    problems = []
    for item in declared(EngineOptions, "api"):
        parameter = parameters.get(item.name)
        if parameter is None:
            problems.append(f"api: {item.name} missing")
        elif parameter.default != item.default:
            problems.append(f"api: {item.name} defaults to {parameter.default!r}, declared {item.default!r}")
    return problems


def test_every_surface_shows_every_declared_option_with_its_default() -> None:
    assert _cli_problems(run_command) == []
    assert _pytest_problems(_Options(plugin.pytest_addoption)) == []
    assert _api_problems(apiconform.run) == []
    # every surface's options are run parameters, and every run parameter has a surface
    assert all(item.spec.surfaces for item in declared(RunOptions))
    assert {item.name for item in declared(RunOptions, "api")} <= {f.name for f in dataclasses.fields(EngineOptions)}


def test_upgrade_shares_the_runs_declarations() -> None:
    """`apiconform upgrade` shows the run options it shares exactly as `apiconform run` does."""
    from apiconform.cli._upgrade import SHARED, upgrade

    def shown(command: click.Command) -> dict[str, tuple[Any, ...]]:
        return {p.name: (tuple(p.opts), p.default, getattr(p, "help", None), p.multiple) for p in command.params
                if p.name in SHARED}

    assert len(shown(upgrade)) == len(SHARED) and shown(upgrade) == shown(run_command)


def test_a_surface_that_drifts_is_caught() -> None:
    """The comparison fails on a click option with another default or missing, a pytest option missing or with
    another default, and an API keyword with another default or missing."""
    drifted = click.Command("run", params=[p for p in run_command.params if p.name != "rate"])
    assert _cli_problems(drifted) == ["cli: rate missing"]
    seed = click.Option(["--seed"], type=int, default=7, help=next(i for i in declared(RunOptions) if i.name == "seed").spec.help)
    seed.name = "seed"
    drifted = click.Command("run", params=[seed if p.name == "seed" else p for p in run_command.params])
    assert _cli_problems(drifted) == ["cli: seed defaults to 7, declared 20261123"]

    options = _Options(plugin.pytest_addoption)
    options.options = [(names, attrs) for names, attrs in options.options if "--live" not in names]
    assert _pytest_problems(options) == ["pytest: --live missing"]
    options = _Options(plugin.pytest_addoption)
    next(attrs for names, attrs in options.options if "--max-examples" in names)["default"] = 3
    problems = _pytest_problems(options)
    assert problems == ["pytest: max_examples defaults to 3, declared None"], problems

    def api(vendors: list[str] | None = None, *, seed: int = 1, **rest: Any) -> None: ...

    problems = _api_problems(api)
    assert "api: seed defaults to 1, declared 20261123" in problems and "api: workers missing" in problems


def test_the_gate_hands_the_engine_every_engine_option() -> None:
    """Every engine field a gate run sets reaches the engine (no field copied by hand and forgotten)."""
    from apiconform.gate._run import engine_options

    changed = {"suites": ["negative"], "operations": ["op"], "shard": "1/2", "max_examples": 3, "seed": 5, "workers": 2,
               "targets": {"eduframe": None}, "live": True, "drifts": ["d"], "faults": ["f"], "allow_writes": True,
               "writes": "sandbox", "max_requests": 9, "rate": 2.0, "partial": True, "cache": False,
               "contracts": Path("team"), "ledger_dir": "/tmp/ledger", "argv": ["run", "x"]}
    engine_fields = {f.name for f in dataclasses.fields(EngineOptions)}
    assert {i.name for i in declared(EngineOptions)} - {"vendors"} <= set(changed)
    options = engine_options(RunOptions(**changed), ["eduframe"], {"k": "t"})
    assert type(options) is EngineOptions
    for name, value in changed.items():
        assert getattr(options, name) == value, name
    assert options.vendors == ["eduframe"] and options.history == {"k": "t"} and options.config_dir == Path.cwd()
    assert set(changed) <= engine_fields


def test_the_pytest_options_reach_the_engine_and_the_seed_is_the_engines(pytester: pytest.Pytester) -> None:
    """pytest's options become the engine's through the same declarations; a test's seed is `item_seed`'s."""
    pytester.makeconftest("")
    config = pytester.parseconfig("--vendor=goodstack", "--seed=9", "--max-examples=4", "--drift=a,b", "--rate=3",
                                  "--max-requests=7", "--writes=own", "--target=goodstack=http://127.0.0.1:9",
                                  "--operation=x")
    options = plugin.engine_options(config)
    assert (options.vendors, options.seed, options.max_examples, options.drifts, options.rate, options.max_requests,
            options.writes, options.allow_writes, options.targets, options.operations) == (
        ["goodstack"], 9, 4, ["a", "b"], 3.0, 7, "own", True, {"goodstack": "http://127.0.0.1:9"}, ["x"])
    assert plugin.run_seed(pytester.parseconfig()) == EngineOptions().seed == RunOptions().seed
    pytester.makepyfile(test_seeded=f"""
def test_seeded(seed, request):
    from apiconform.engine import item_seed
    assert seed == item_seed(9, request.node.name) == {item_seed(9, "test_seeded")}
""")
    pytester.runpytest_inprocess("--seed=9", "-q").assert_outcomes(passed=1)


def test_bad_values_are_one_usage_line() -> None:
    with pytest.raises(UsageError, match=r"--suite: empty value ''"):
        values_from(RunOptions, "cli", {"suites": ("",)})
    with pytest.raises(UsageError, match="--target expects VENDOR or VENDOR=https://"):
        values_from(RunOptions, "cli", {"targets": ("eduframe=ftp://x",)})
    with pytest.raises(UsageError, match="apiconform.run: unknown keyword 'max_example'"):
        apiconform.run(["goodstack"], max_example=2)
    with pytest.raises(UsageError, match="unknown suite 'nope'"):  # None is the default (all suites), a name is checked
        apiconform.run(["goodstack"], suites=["nope"], targets=None, workers=None)


def test_no_cache_travels_in_the_options_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--no-cache` is `RunOptions.cache`: switched off for the run in the processes that run it, and the
    environment (which `APICONFORM_CACHE=off` still sets as user configuration) is left alone."""
    import os

    from apiconform import _cache

    monkeypatch.delenv("APICONFORM_CACHE", raising=False)
    assert values_from(RunOptions, "cli", {"cache": True}) == {"cache": False}  # the flag given
    assert values_from(RunOptions, "cli", {"cache": False}) == {}
    with _cache.switched(False):
        assert not _cache.enabled() and "APICONFORM_CACHE" not in os.environ
    assert _cache.enabled()
    monkeypatch.setenv("APICONFORM_CACHE", "off")
    with _cache.switched(True):
        assert not _cache.enabled()  # the environment's say stands


def test_declarations_are_read_once() -> None:
    """`declared` reads the dataclass fields: a spec is data, not code, and the defaults are the fields'."""
    items = {i.name: i for i in declared(RunOptions)}
    assert isinstance(items["seed"], Declared) and items["seed"].default == EngineOptions().seed
    assert items["suites"].default == EngineOptions().suites and items["reports_dir"].default == Path("reports")


def test_no_run_parameter_travels_through_the_environment() -> None:
    """The package never writes the process environment (a worker is handed its run's options: the ledger
    directory, --no-cache, the contracts folder); a child process it starts is given an explicit `env=`."""
    import re

    source = Path(apiconform.__file__).parent
    writes = re.compile(r"os\.environ\[[^]]+\]\s*=|os\.environ\.(setdefault|update|pop)\(|os\.putenv\(|os\.unsetenv\(")
    found = [f"{path.relative_to(source)}:{n}" for path in sorted(source.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if writes.search(line)]
    assert found == []
    assert writes.search('os.environ["APICONFORM_CACHE"] = "off"') and writes.search("os.environ.pop(ENV, None)")


def test_the_ledger_and_the_contracts_folder_reach_each_target_through_the_options(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live target's ledger is the run's directory named in its options; the contracts folder is the options',
    for the run only."""
    monkeypatch.setenv("APICONFORM_GOODSTACK_API_KEY", "key")
    from apiconform.contracts import contract_roots
    from apiconform.engine import Sessions
    from apiconform.engine._session import Session

    options = EngineOptions(targets={"goodstack": "http://127.0.0.1:9"}, ledger_dir=str(tmp_path), config_dir=tmp_path)
    target = Sessions(options).build_target("goodstack")
    assert target.ledger_dir == str(tmp_path)
    session = Session(target)
    try:
        assert session.ledger is not None and session.ledger.path is not None
        assert session.ledger.path.parent == tmp_path
    finally:
        session.close()
    team = tmp_path / "team"
    team.mkdir()
    from apiconform.contracts import team_contracts

    before = contract_roots()
    with team_contracts(team):
        assert contract_roots()[0] == team.resolve()
    assert contract_roots() == before
