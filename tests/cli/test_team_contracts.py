"""`--contracts DIR` / the `contracts` config key: a team's folder joins the bundled vendors and overrides a
bundled vendor of the same name, for one command only; a bad folder is one line, exit 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.contracts import BUNDLED_DIR, contract_path, list_vendors

BUNDLED = {"cofe-cms", "ctrlhub", "eduframe", "goodstack", "tesla-ce"}


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project outside the checkout: team-contracts/ with a new vendor and an override of goodstack."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APICONFORM_CONTRACTS", raising=False)
    root = tmp_path / "team-contracts"
    shutil.copytree(BUNDLED_DIR / "ctrlhub", root / "acme")
    acme = root / "acme" / "openapi.yaml"
    acme.write_text(acme.read_text(encoding="utf-8").replace("vendor: ctrlhub", "vendor: acme", 1), encoding="utf-8")
    shutil.copytree(BUNDLED_DIR / "goodstack", root / "goodstack")
    own = root / "goodstack" / "openapi.yaml"
    text = own.read_text(encoding="utf-8")
    own.write_text(text.replace("title: ", "title: TEAM COPY ", 1), encoding="utf-8")
    return root


def _listed(result_output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in result_output.splitlines() if line.strip()}


def test_team_folder_joins_and_overrides_bundled(team: Path) -> None:
    result = CliRunner().invoke(main, ["contracts", "list", "--contracts", str(team)])
    assert result.exit_code == 0, result.output
    listed = _listed(result.output)
    assert set(listed) == BUNDLED | {"acme"}
    assert "TEAM COPY" in listed["goodstack"] and "TEAM COPY" not in listed["ctrlhub"]
    # for that command only: afterwards the bundled vendors alone again
    assert set(list_vendors()) == BUNDLED
    assert contract_path("goodstack") == BUNDLED_DIR / "goodstack" / "openapi.yaml"


def test_config_key_relative_to_the_config_file(team: Path) -> None:
    (team.parent / "apiconform.toml").write_text('contracts = "team-contracts"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "check", "acme"])
    assert result.exit_code == 0 and result.output.startswith("acme: ok"), result.output
    result = CliRunner().invoke(main, ["run", "acme", "--max-examples", "2", "--no-allure", "--no-progress"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["contracts", "list"], ["contracts", "check"], ["run", "goodstack"], ["mock", "goodstack"]])
def test_bad_folder_is_one_line_exit_2(team: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--contracts", "no-such-dir"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == ("apiconform: error: --contracts: no-such-dir: not a directory "
                                     "(expected a folder of VENDOR/openapi.yaml)")


def test_bad_config_key_names_the_file(team: Path) -> None:
    (team.parent / "apiconform.toml").write_text('contracts = "missing"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "list"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"apiconform: error: {team.parent / 'apiconform.toml'}: contracts: ")
    (team.parent / "apiconform.toml").write_text("contracts = 3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "list"])
    assert result.exit_code == 2 and "contracts: expected the path of a contracts folder" in result.stderr
