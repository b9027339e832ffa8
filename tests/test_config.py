"""The configuration model: every key reaches what it configures, defaults live in one place, errors are
one line naming the file and the key, and the environment never configures anything."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from apiconform._defaults import LIVE_DEFAULTS, RUN_DEFAULTS
from apiconform.config import DEFAULT_TARGET, TargetSettings, load_config
from apiconform.engine._targets import target_from_config
from apiconform.errors import ConfigError

EVERY_KEY = """\
[targets.eduframe]
base_url = "https://edu.example/api/v1"
credentials = { token = "CFG_TEST_TOKEN" }
max_requests = 17
rate = 2.5
allow_writes = true
allowed_writes = ["create_account"]
writes = "sandbox"
expendable = ["/accounts/42", "scratch-*"]
connect_timeout = 1.5
read_timeout = 7
request_deadline = 9
max_retry_after = 0.5
max_body_mb = 2
redact = ["X-Tenant"]
probe = "list_accounts"
path_params = { course_id = 42 }
other_credentials = { token = "CFG_TEST_OTHER_TOKEN" }
"""


def test_every_target_key_reaches_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CFG_TEST_TOKEN", "secret-token-value")
    monkeypatch.setenv("CFG_TEST_OTHER_TOKEN", "other-token-value")
    (tmp_path / "apiconform.toml").write_text(EVERY_KEY, encoding="utf-8")
    target = target_from_config("eduframe", load_config(tmp_path))
    safety = target.safety
    applied = {
        "base_url": target.base_url == "https://edu.example/api/v1",
        "credentials": target.credentials == {"token": "secret-token-value"},
        "max_requests": safety.max_requests == 17,
        "rate": safety.rate == 2.5,
        "allow_writes": not safety.read_only,
        "allowed_writes": safety.allowed_writes == frozenset({"create_account"}),
        "writes": safety.writes == "sandbox",
        "expendable": safety.expendable == ("/accounts/42", "scratch-*"),
        "connect_timeout": safety.connect_timeout == 1.5,
        "read_timeout": safety.read_timeout == 7.0,
        "request_deadline": safety.deadline == 9.0,
        "max_retry_after": safety.max_retry_after == 0.5,
        "max_body_mb": safety.max_body_bytes == 2 * 1024 * 1024,
        "redact": target.extra_secret_names == ("X-Tenant",),
        "probe": target.probe == "list_accounts",
        "path_params": target.path_params == {"course_id": "42"},
        "other_credentials": target.other_credentials == {"token": "other-token-value"},
    }
    assert set(applied) == set(TargetSettings.model_fields), "a key of the model that this test does not prove applied"
    assert [key for key, ok in applied.items() if not ok] == []
    # the command line wins, and is held to the same rules
    overridden = target_from_config("eduframe", load_config(tmp_path), max_requests=3, rate=1.0)
    assert overridden.safety.max_requests == 3 and overridden.safety.rate == 1.0
    assert overridden.safety.connect_timeout == 1.5  # the rest of the configured table is kept
    with pytest.raises(ConfigError, match=r"^--max-requests: 0 is out of range"):
        target_from_config("eduframe", load_config(tmp_path), max_requests=0)


def test_defaults_are_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from apiconform.engine import EngineOptions
    from apiconform.engine._targets import Safety
    from apiconform.gate._run import RunOptions

    monkeypatch.setenv("APICONFORM_COFE_CMS_API_ID", "id")
    monkeypatch.setenv("APICONFORM_COFE_CMS_API_KEY", "key")
    assert Safety.for_live() == Safety.of(DEFAULT_TARGET) == target_from_config(
        "cofe-cms", load_config(Path("/nonexistent")), base_url="http://127.0.0.1:9").safety
    assert Safety().connect_timeout == LIVE_DEFAULTS.connect_timeout and Safety().max_requests is None  # mocks: no budget
    options = EngineOptions()
    assert (options.examples, options.run_seed, options.workers) == (RUN_DEFAULTS.max_examples, RUN_DEFAULTS.seed,
                                                                     RUN_DEFAULTS.workers)
    assert RunOptions().workers == RUN_DEFAULTS.workers
    # every default a configuration key has is the plain dataclass' (the engine reads it without pydantic)
    fields = dataclasses.fields(LIVE_DEFAULTS)
    assert fields and all(name in TargetSettings.model_fields for name in (f.name for f in fields))
    for f in fields:
        configured = getattr(DEFAULT_TARGET, f.name)
        assert (tuple(configured) if isinstance(configured, list) else configured) == getattr(LIVE_DEFAULTS, f.name), f.name


def test_the_engine_starts_without_pydantic_or_the_report_writers() -> None:
    """A worker's start-up: engine, session, suites, targets load neither pydantic (no configuration file is
    read there), nor schemathesis/hypothesis (a replayed case needs neither), nor jsonschema (it only explains an
    invalid instance), nor the HTML/JUnit writers, nor PyJWT (only the jwt-login flow uses it) nor httpx's own
    command-line client (rich, pygments: `_lazy.defer_httpx_cli`)."""
    import subprocess
    import sys

    code = ("import sys; from apiconform.engine._session import Session; from apiconform.engine._suites import "
            "run_properties; from apiconform.engine._targets import http_target; "
            "print(sorted(m for m in ('pydantic', 'schemathesis', 'hypothesis', 'yaml', 'asyncio', 'jsonschema', "
            "'apiconform.report._html', 'apiconform.report._junit', 'apiconform.config', 'jwt', 'rich', 'pygments') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name, text, line", [
    ("apiconform.toml", '[targets.eduframe]\nrate = "fast"\n', "apiconform.toml: targets.eduframe.rate: expected a number, got 'fast'"),
    ("apiconform.toml", "fail_on = [\"enumz\"]\n", "apiconform.toml: fail_on: unknown category 'enumz'"),
    ("apiconform.toml", "targets = 3\n", "apiconform.toml: targets: expected a table of vendors"),
    ("apiconform.toml", "baseline = 3\n", "apiconform.toml: baseline: expected the path of a waiver file"),
    ("apiconform.toml", "fails_on = []\n", "apiconform.toml: unknown key(s) fails_on (known: baseline, contracts, fail_on, targets"),
    ("pyproject.toml", "[tool.apiconform]\nworkers = 2\n", "pyproject.toml: tool.apiconform: unknown key(s) workers"),
    ("apiconform.toml", "_cli_parse_args = true\n", "apiconform.toml: unknown key(s) _cli_parse_args"),
    ("pyproject.toml", "[tool.apiconform.targets.eduframe]\nmax_body_mb = 0\n",
     "pyproject.toml: tool.apiconform.targets.eduframe.max_body_mb: 0 is out of range (0.0625 to 1024 MiB"),
    ("pyproject.toml", "[tool.apiconform.targets.eduframe]\nbase_url = \"https://user:hunter2@/x\"\n",
     "pyproject.toml: tool.apiconform.targets.eduframe.base_url: "),
])
def test_each_error_is_one_line_naming_the_file_and_the_key(tmp_path: Path, name: str, text: str, line: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(tmp_path / line.split(":")[0])), message
    assert line in message and "hunter2" not in message, message


def test_the_environment_never_configures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is the only source: variables named like the keys change nothing."""
    for name in ("FAIL_ON", "fail_on", "BASELINE", "TARGETS", "CONTRACTS", "APICONFORM_FAIL_ON"):
        monkeypatch.setenv(name, '["enum"]' if "FAIL" in name.upper() else '{"eduframe": {"rate": 1}}')
    (tmp_path / "apiconform.toml").write_text("", encoding="utf-8")
    settings = load_config(tmp_path)
    assert settings.fail_on == [] and settings.baseline is None and settings.targets == {} and settings.contracts is None


def test_unknown_credential_and_path_param_keys_are_named_not_ignored(tmp_path: Path) -> None:
    """A misspelt credential field or a `path_params` name no path has stops the run with one line naming it,
    and `contracts check` lists every such key of the project's configuration in one run."""
    import contextlib

    from click.testing import CliRunner

    from apiconform.cli import main
    from apiconform.config import load_config
    from apiconform.engine._targets import target_from_config
    from apiconform.errors import ConfigError

    (tmp_path / "apiconform.toml").write_text(
        '[targets.eduframe]\nbase_url = "https://api.example.test"\n'
        'credentials = { tokn = "EDU_TOKEN" }\npath_params = { acount_id = 1 }\n', encoding="utf-8")
    settings = load_config(tmp_path)
    with pytest.raises(ConfigError, match=r"targets\.eduframe\.credentials\.tokn: not a credential .*token"):
        target_from_config("eduframe", settings)
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["contracts", "check", "eduframe"])
    assert result.exit_code == 2
    assert "targets.eduframe.credentials.tokn" in result.output and "targets.eduframe.path_params.acount_id" in result.output


@pytest.mark.e2e
def test_a_run_without_a_configuration_file_imports_no_pydantic(tmp_path: Path) -> None:
    """`apiconform run` as a whole process, twice (the second on the first's caches, as a CI runner that keeps them):
    without a configuration file neither run imports pydantic (the models are only for reading a file) nor PyYAML
    on the second (no baseline file, the contract's parse cached); with an apiconform.toml the models are used."""
    import subprocess
    import sys

    code = ("import atexit, runpy, sys; atexit.register(lambda: print('LOADED', sorted(m for m in ('pydantic', 'yaml') "
            "if m in sys.modules))); sys.argv = ['apiconform', 'run', 'eduframe', '--suite', 'properties', '--operation', "
            "'list_accounts', '--max-examples', '1', '--no-progress', '--no-allure', '--reports-dir', 'reports']; "
            "runpy.run_module('apiconform', run_name='__main__')")
    env = {**os.environ, "APICONFORM_CACHE_DIR": str(tmp_path / "cache")}

    def loaded() -> str:
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        return next(line for line in out.stdout.splitlines() if line.startswith("LOADED"))

    assert "pydantic" not in loaded()
    assert loaded() == "LOADED []"
    (tmp_path / "apiconform.toml").write_text('[targets.eduframe]\nrate = 2\n', encoding="utf-8")
    assert "pydantic" in loaded()


def test_a_contract_that_fails_its_check_still_has_its_target_keys_checked_in_the_same_run(tmp_path: Path) -> None:
    """Every problem in one run: a contract with a lint problem (a schema of a type JSON Schema lacks) AND a project
    configuration with a misspelt credential and path_params key gets all three lines from one `contracts check`
    (the target keys were reported only on a second run, once the document was fixed)."""
    import contextlib
    import shutil

    import yaml
    from click.testing import CliRunner

    from apiconform.cli import main
    from apiconform.contracts import BUNDLED_DIR

    folder = tmp_path / "contracts" / "goodstack"
    shutil.copytree(BUNDLED_DIR / "goodstack", folder)
    spec = folder / "openapi.yaml"
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    name = next(iter(document["components"]["schemas"]))
    document["components"]["schemas"][name]["type"] = "strnig"  # the lint refuses an unknown type
    spec.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    (tmp_path / "apiconform.toml").write_text(
        '[targets.goodstack]\nbase_url = "https://api.example.test"\n'
        'credentials = { tokn = "X" }\npath_params = { acount_id = 1 }\n', encoding="utf-8")
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(main, ["contracts", "check", str(spec)])
    assert result.exit_code == 2, result.output
    assert "strnig" in result.output, result.output  # the lint's problem
    assert "targets.goodstack.credentials.tokn" in result.output, result.output
    assert "targets.goodstack.path_params.acount_id" in result.output, result.output
