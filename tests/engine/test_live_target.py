"""Live-target ergonomics (issue 11), against mocks served over real HTTP posing as live vendors.

Preflight probe chosen from what runs (a 403 after a good login is not "credentials refused"),
identities captured at login used as path parameters, fixed path parameters from config, id-style
path values for valid cases, default credential env vars (no config file), config spelling errors,
configured targets only when asked, budget-stopped runs incomplete, exact reproduce commands.
"""

from __future__ import annotations

import json
import random
import re
import shlex
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.config import default_env_name, load_config
from apiconform.errors import ConfigError
from apiconform.engine._session import Session
from apiconform.mock import MockServer, mock_app
from apiconform.engine._discovery import Discovery
from apiconform.engine._request import id_style_value
from apiconform.engine._suites import run_properties
from apiconform.engine._targets import mock_target

TESLA_ROLE, TESLA_SECRET = "mock-tesla-ce-role", "mock-tesla-ce-secret"


class Paths:
    """ASGI middleware recording every request path."""

    def __init__(self, app: Any) -> None:
        self.app, self.seen = app, []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@pytest.fixture
def tesla(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The TeSLA mock served over HTTP; credentials ONLY in the default env vars, no config file."""
    paths = Paths(mock_app("tesla-ce"))
    server = MockServer(paths)
    url = server.start()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APICONFORM_TESLA_CE_ROLE_ID", TESLA_ROLE)
    monkeypatch.setenv("APICONFORM_TESLA_CE_SECRET_ID", TESLA_SECRET)
    yield url, paths, tmp_path
    server.stop()


def run(tmp: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["run", *args, "--no-allure", "--no-progress", "--reports-dir", str(tmp / "reports")])


def record(tmp: Path) -> dict[str, Any]:
    return json.loads((tmp / "reports" / "run.json").read_text(encoding="utf-8"))


def test_default_credential_env_names_are_documented_and_derived() -> None:
    assert default_env_name("tesla-ce", "role_id") == "APICONFORM_TESLA_CE_ROLE_ID"
    assert default_env_name("eduframe", "token") == "APICONFORM_EDUFRAME_TOKEN"


def test_target_one_liner_works_without_config_and_uses_the_identity_from_login(tesla: Any) -> None:
    url, paths, tmp = tesla
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--max-examples", "3", "--rate", "1000",
                 "--operation", "list_provider_enrolments,read_provider,list_provider_notifications")
    assert result.exit_code == 0, result.output
    provider_paths = [p for _, p in paths.seen if p.startswith("/api/v2/provider/")]
    assert provider_paths, paths.seen
    # the mock's provider (id 1001, handed out at login) owns every path; no generated provider ids
    assert all(p.startswith("/api/v2/provider/1001/") for p in provider_paths), provider_paths


def test_preflight_403_after_a_good_login_is_not_credentials_refused(tesla: Any) -> None:
    url, paths, tmp = tesla
    # list_providers is forbidden to provider credentials (the vendor's ProviderPermission; the mock follows)
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--operation", "list_providers", "--max-examples", "2",
                 "--rate", "1000")
    assert result.exit_code == 0, result.output
    assert "credentials refused" not in result.output
    assert "login accepted, but list_providers answered 403" in result.output


def test_preflight_probe_is_chosen_from_the_operations_that_run(tesla: Any) -> None:
    url, paths, tmp = tesla
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--operation", "list_provider_requests", "--max-examples", "2",
                 "--rate", "1000")
    assert result.exit_code == 0, result.output
    first_get = next(p for m, p in paths.seen if m == "GET" and p.startswith("/api/v2/provider"))
    assert first_get == "/api/v2/provider/1001/request/"  # not GET /api/v2/provider/ (the old fixed probe)


def test_probe_and_path_params_can_be_set_in_config(tesla: Any) -> None:
    url, paths, tmp = tesla
    (tmp / "apiconform.toml").write_text(
        '[targets.tesla-ce]\nprobe = "read_provider"\npath_params = { parent_lookup_provider_id = "1001" }\n')
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--operation", "list_provider_notifications",
                 "--max-examples", "2", "--rate", "1000")
    assert result.exit_code == 0, result.output
    assert ("GET", "/api/v2/provider/1001/") in paths.seen  # the configured probe
    (tmp / "apiconform.toml").write_text('[targets.tesla-ce]\nprobe = "create_provider_notification"\n')
    bad = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}")
    assert bad.exit_code == 2 and "probe must be a safe" in bad.output and "Traceback" not in bad.output


def test_fixed_path_params_from_config_win_over_discovery() -> None:
    target = mock_target("eduframe")
    op = next(op for op in target.contract if op.action == "read" and op.path_params())
    name = op.path_params()[0]
    target.path_params = {name: "4242"}
    session = Session(target)
    values = Discovery(session).path_values(op)
    session.close()
    assert values[name] == "4242"


def test_valid_cases_get_ids_in_the_contracts_id_style() -> None:
    rng = random.Random(3)
    assert all(int(id_style_value({"type": "integer"}, rng)) >= 1 for _ in range(50))
    assert uuid.UUID(id_style_value({"type": "string", "format": "uuid"}, rng))
    assert re.fullmatch(r"[A-Z]{2}-\d{3}", id_style_value({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"}, rng))
    # end to end: an empty mock (nothing to discover) still gets uuid learner ids and the login's provider id
    target = mock_target("tesla-ce")
    paths = Paths(target.app)
    target.app = paths
    session = Session(target)
    op = target.contract.operations["list_provider_enrolment_samples"]
    run_properties(session, op, 15, 7, Discovery(session))
    session.close()
    sent = [p for _, p in paths.seen if "/sample/" in p]
    assert sent
    for path in sent:
        provider, learner = re.match(r"/api/v2/provider/([^/]+)/enrolment/([^/]+)/sample/", path).groups()
        assert provider == "1001" and uuid.UUID(learner), path


@pytest.mark.parametrize("name,text", [
    ("pyproject.toml", '[tool.apiconform.target.eduframe]\nbase_url = "https://x.test"\n'),
    ("pyproject.toml", '[tool.api-conform.targets.eduframe]\nbase_url = "https://x.test"\n'),
    ("pyproject.toml", '[apiconform.engine._targets.eduframe]\nbase_url = "https://x.test"\n'),
    ("apiconform.toml", '[tool.apiconform.targets.eduframe]\nbase_url = "https://x.test"\n'),
    ("apiconform.toml", '[target.eduframe]\nbase_url = "https://x.test"\n'),
])
def test_a_misspelt_config_table_is_an_error_never_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError):
        load_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run(tmp_path, "eduframe", "--operation", "list_accounts")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


def test_both_spellings_of_the_targets_table_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.apiconform.targets.eduframe]\nbase_url = "https://x.test"\n')
    assert load_config(tmp_path).targets["eduframe"].base_url == "https://x.test"
    (tmp_path / "apiconform.toml").write_text('[targets.eduframe]\nbase_url = "https://y.test"\n')
    assert load_config(tmp_path).targets["eduframe"].base_url == "https://y.test"


def test_a_configured_target_is_used_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APICONFORM_EDUFRAME_TOKEN", "t")
    (tmp_path / "apiconform.toml").write_text('[targets.eduframe]\nbase_url = "http://127.0.0.1:9"\n')  # nothing listens
    plain = run(tmp_path, "eduframe", "--operation", "list_accounts", "--max-examples", "2")
    assert plain.exit_code == 0, plain.output
    assert record(tmp_path)["targets"] == {"eduframe": "mock"}
    for asked in (["--live"], ["--target", "eduframe"]):
        live = run(tmp_path, "eduframe", "--operation", "list_accounts", *asked)
        assert live.exit_code == 3 and "unreachable" in live.output, live.output


def test_a_run_the_budget_stops_is_incomplete_and_fails(tesla: Any) -> None:
    url, paths, tmp = tesla
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--rate", "1000", "--max-requests", "4",
                 "--operation", "list_provider_enrolments,list_provider_notifications,list_provider_requests,read_provider")
    # a budget this small cannot give every test its first case: refused before any request, naming what it needs
    assert result.exit_code == 2 and "pass --max-requests" in result.output, result.output
    assert not [p for _, p in paths.seen if p.startswith("/api/v2/provider")]
    result = run(tmp, "tesla-ce", "--target", f"tesla-ce={url}", "--rate", "1000", "--max-requests", "4", "--partial",
                 "--operation", "list_provider_enrolments,list_provider_notifications,list_provider_requests,read_provider")
    assert result.exit_code == 1, result.output
    assert "incomplete" in result.output and "INCOMPLETE" in result.output and "PARTIAL" in result.output
    assert re.search(r"kept these from running: .*tesla-ce (list_provider|read_provider)\w* \(\w+\)", result.output), result.output


def test_reproduce_line_repeats_the_run_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["eduframe", "--suite", "properties", "--operation", "list_accounts,get_account", "--drift", "eduframe:field-type-changed",
            "--max-examples", "3", "--seed", "77"]
    first = run(tmp_path, *args)
    line = next(line for line in first.output.splitlines() if line.startswith("reproduce: "))
    command = shlex.split(line[len("reproduce: "):])
    assert command[:2] == ["apiconform", "run"]
    for expected in ("--suite=properties", "--operation=list_accounts", "--operation=get_account",
                     "--drift=eduframe:field-type-changed", "--max-examples=3", "--seed=77"):
        assert expected in command, command
    verdicts = sorted((c["operation"], c["suite"], tuple(f["fingerprint"] for f in c["findings"])) for c in record(tmp_path)["cases"])
    again = run(tmp_path, *command[2:])
    assert again.exit_code == first.exit_code
    assert sorted((c["operation"], c["suite"], tuple(f["fingerprint"] for f in c["findings"]))
                  for c in record(tmp_path)["cases"]) == verdicts


@pytest.mark.e2e  # whole pytest runs in subprocesses: `make test-e2e` (CI runs it)
def test_each_tests_rerun_command_carries_every_option_and_reproduces_it() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    args = ["suites/test_properties.py", "--vendor", "eduframe", "--operation", "list_accounts", "--drift",
            "field-type-changed", "--max-examples", "3", "--seed", "5", "-q", "-p", "no:xdist", "-p", "no:cacheprovider"]
    first = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=root, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stdout[-2000:]
    line = next(line.strip() for line in first.stdout.splitlines() if line.strip().startswith("rerun: pytest "))
    command = shlex.split(line[len("rerun: "):])
    for expected in ("--vendor=eduframe", "--operation=list_accounts", "--drift=field-type-changed",
                     "--max-examples=3", "--seed=5"):
        assert expected in command, command
    again = subprocess.run([sys.executable, "-m", *command, "-p", "no:xdist", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout[-2000:]
    findings = sorted(x for x in first.stdout.splitlines() if x.strip().startswith("["))
    assert findings == sorted(x for x in again.stdout.splitlines() if x.strip().startswith("[")) and findings
