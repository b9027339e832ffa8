"""Bad input from the user: one clear line naming the file/field and what to do, exit code 2, never
a traceback — for contracts, configuration, names and options. Nothing is sent anywhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli import main

ROOT = Path(__file__).resolve().parents[2]
VENDOR = "cofe-cms"  # the smallest contract: checks are fast


def _one_line_exit_2(args: list[str], *expect: str) -> str:
    result = CliRunner().invoke(main, ["run", *args, "--no-allure", "--no-progress"])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(lines) == 1 and lines[0].startswith("apiconform: error: "), result.stderr
    assert "Traceback" not in result.output and "internal error" not in lines[0]
    for text in expect:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------ names and options


@pytest.mark.parametrize("args, expect", [
    (["nosuchvendor"], ["unknown vendor 'nosuchvendor'", "known vendors"]),
    ([VENDOR, "--drift", "no-such-drift"], ["no-such-drift"]),
    ([VENDOR, "--fault", "no-such-fault"], ["unknown fault 'no-such-fault'", "known"]),
    ([VENDOR, "--fault", "latency:soon"], ["fault 'latency'", "'soon'"]),
    ([VENDOR, "--shard", "3/2"], ["--shard expects I/N"]),
    ([VENDOR, "--shard", "first"], ["--shard expects I/N"]),
    ([VENDOR, "--fail-on", "nonsense"], ["nonsense"]),
    ([VENDOR, "--suite", "nosuite"], ["unknown suite 'nosuite'"]),
    ([VENDOR, "--suite", ""], ["--suite: empty value ''"]),  # ran every suite, as if no option were given
    ([VENDOR, "--suite", " , "], ["--suite: empty value"]),
    ([VENDOR, "--operation", ""], ["--operation: empty value"]),
    ([VENDOR, "--fail-on", ""], ["--fail-on: empty value"]),
    ([VENDOR, "--workers", "10000"], ["--workers 10000: between 1 and 32"]),  # was accepted
    ([VENDOR, "--workers", "0"], ["--workers 0: between 1 and 32"]),
    ([VENDOR, "--target", f"{VENDOR}=ftp://x"], ["--target expects VENDOR or VENDOR=https://"]),
    # `--target VENDOR` = its configured (here: documented) URL; no credentials anywhere: the default env var is named
    ([VENDOR, "--target", VENDOR], ["expects environment variable APICONFORM_"]),
    ([VENDOR, "--target", "nosuch=http://127.0.0.1:9"], ["--target names unknown vendor 'nosuch'"]),
    ([VENDOR, "--baseline", "missing-baseline.yaml"], ["missing-baseline.yaml"]),
])
def test_bad_names_and_options(workdir: Path, args: list[str], expect: list[str]) -> None:
    _one_line_exit_2(args, *expect)


def test_click_level_option_errors_exit_2_without_traceback(workdir: Path) -> None:
    result = CliRunner().invoke(main, ["run", VENDOR, "--max-examples", "0"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "--max-examples" in result.stderr


# ------------------------------------------------------------------ configuration


def _config(workdir: Path, text: str) -> None:
    (workdir / "apiconform.toml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text, expect", [
    ("[targets.cofe-cms\nbase_url = 1\n", ["apiconform.toml", "invalid TOML"]),
    ('[targets.cofe-cms]\nbase_url = "https://x.example"\nbogus_key = 1\n', ["targets.cofe-cms", "unknown key(s) bogus_key"]),
    ('[targets.cofe-cms]\nbase_url = "ftp://x.example"\n', ["targets.cofe-cms.base_url", "http(s) URL"]),
    ('[targets.cofe-cms]\nrate = -1\n', ["targets.cofe-cms.rate", "out of range"]),
    ('[targets.cofe-cms]\ncredentials = ["API_ID"]\n', ["targets.cofe-cms.credentials", "ENV_VAR_NAME"]),
    ('[targets.nosuch]\nbase_url = "https://x.example"\n', ["targets.nosuch", "unknown vendor"]),
])
def test_invalid_configuration(workdir: Path, text: str, expect: list[str]) -> None:
    _config(workdir, text)
    _one_line_exit_2([VENDOR], *expect)


def test_bad_pyproject_section_is_reported_too(workdir: Path) -> None:
    (workdir / "pyproject.toml").write_text('[tool.apiconform.targets.cofe-cms]\nmax_requests = "lots"\n')
    _one_line_exit_2([VENDOR], "pyproject.toml", "tool.apiconform.targets.cofe-cms.max_requests")


def test_missing_credentials_variable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APICONFORM_TEST_UNSET_ID", raising=False)
    _config(workdir, '[targets.cofe-cms]\ncredentials = { api_id = "APICONFORM_TEST_UNSET_ID", api_key = "X" }\n')
    line = _one_line_exit_2([VENDOR, "--target", f"{VENDOR}=http://127.0.0.1:9"],
                            "APICONFORM_TEST_UNSET_ID", "not set", "api_id")
    assert "unreachable" not in line  # configuration is checked before the network


# ------------------------------------------------------------------ contracts


@pytest.fixture
def contracts(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = workdir / "contracts"
    shutil.copytree(ROOT / "contracts" / VENDOR, root / VENDOR)
    monkeypatch.setenv("APICONFORM_CONTRACTS", str(root))
    return root / VENDOR / "openapi.yaml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_broken_yaml(contracts: Path) -> None:
    contracts.write_text(contracts.read_text(encoding="utf-8") + "\n  broken: [unclosed\n", encoding="utf-8")
    _one_line_exit_2([VENDOR], "openapi.yaml")


def test_broken_json_contract(contracts: Path) -> None:
    json_file = contracts.with_suffix(".json")
    json_file.write_text('{"openapi": "3.1.0", "info": ', encoding="utf-8")
    contracts.unlink()
    result = CliRunner().invoke(main, ["contracts", "check", str(json_file)])
    assert result.exit_code == 2 and "Traceback" not in result.output and "openapi.json" in result.stderr


def test_unresolvable_ref(contracts: Path) -> None:
    text = contracts.read_text(encoding="utf-8")
    ref = next(line.split("$ref:")[1].strip().strip("'\"") for line in text.splitlines() if "$ref: '#/components/schemas/" in line
               or '$ref: "#/components/schemas/' in line or "$ref: #/components/schemas/" in line)
    _edit(contracts, ref, ref + "Missing")
    _one_line_exit_2([VENDOR], "contract cofe-cms is invalid", "Missing", "apiconform contracts check")


def test_not_an_openapi_document(contracts: Path) -> None:
    _edit(contracts, "openapi: 3.1.0", "openapi: 2.0.0")
    _one_line_exit_2([VENDOR], "openapi")


def test_missing_contract(contracts: Path) -> None:
    contracts.unlink()
    _one_line_exit_2([VENDOR], f"unknown vendor '{VENDOR}'")


def test_missing_example_file(contracts: Path) -> None:
    shutil.copytree(ROOT / "contracts" / "tesla-ce", contracts.parents[1] / "tesla-ce")
    examples = sorted((contracts.parents[1] / "tesla-ce" / "examples").rglob("*.json"))
    examples[0].unlink()
    _one_line_exit_2(["tesla-ce"], "contract tesla-ce is invalid", examples[0].name)


# ------------------------------------------------------------------ the real executable


def test_real_executable_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "apiconform"
    (tmp_path / "apiconform.toml").write_text("[targets.eduframe\n", encoding="utf-8")
    for args in (["run", VENDOR, "--no-allure"],):  # bad TOML in the working directory
        proc = subprocess.run([str(exe), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout and len(lines) == 1, proc.stderr


# ------------------------------------------------------------------ typos: close matches, before anything is loaded


@pytest.mark.parametrize("args, expect", [
    (["goodstak"], ["unknown vendor 'goodstak'", "did you mean goodstack?"]),
    ([VENDOR, "--suite", "propertes"], ["unknown suite 'propertes'", "did you mean properties?"]),
    ([VENDOR, "--fail-on", "feild-type"], ["unknown category 'feild-type'", "did you mean field-type?"]),
    ([VENDOR, "--target", "goodstak=http://127.0.0.1:9"], ["unknown vendor 'goodstak'", "did you mean goodstack?"]),
    (["eduframe", "--operation", "list_acounts"],
     ["--operation 'list_acounts'", "eduframe", "did you mean list_accounts", "165 in all"]),
])
def test_typos_name_close_matches(workdir: Path, args: list[str], expect: list[str]) -> None:
    _one_line_exit_2(args, *expect)


def test_operation_typo_fails_before_any_contract_is_loaded_or_linted(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import apiconform.gate._run as run_module

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the contract was linted/loaded before the --operation typo was reported")

    monkeypatch.setattr(run_module, "_checked", forbidden)
    monkeypatch.setattr(run_module, "load_contract", forbidden)
    _one_line_exit_2(["eduframe", "tesla-ce", "--operation", "list_acount"], "did you mean list_accounts")
    # a correct operationId of any selected vendor passes this check (and reaches the lint)
    with pytest.raises(AssertionError, match="linted/loaded"):
        run_module.validate_options(run_module.RunOptions(vendors=["eduframe"], operations=["list_accounts"]))


@pytest.mark.e2e  # whole pytest runs in subprocesses: `make test-e2e` (CI runs it)
def test_plain_pytest_live_target_without_credentials_is_one_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("APICONFORM_GOODSTACK")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "--vendor", "goodstack", "-q", "-p", "no:cacheprovider",
                           "--target", "goodstack=http://127.0.0.1:9"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "APICONFORM_GOODSTACK_API_KEY" in proc.stderr and "not set" in proc.stderr, proc.stderr
    assert "failed" not in proc.stdout and "error" not in proc.stdout.lower(), proc.stdout[-2000:]


# ------------------------------------------------------------------ issue 23: more bad inputs, one line each


def test_contracts_check_names_an_operation_without_responses(tmp_path: Path) -> None:
    """OpenAPI 3.1 lets `responses` be left out; `contracts check` passed such an operation."""
    path = tmp_path / "openapi.yaml"
    path.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
                    "  /things:\n    get:\n      operationId: listThings\n      responses:\n        '200': {description: ok}\n"
                    "  /other:\n    get:\n      operationId: getOther\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["contracts", "check", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    problems = [line for line in lines if not line.startswith("warning: ")]
    assert problems == [f"{path}:10: /paths/~1other/get: operation getOther documents no responses "
                        f"(add at least the success response, e.g. '200')"], result.stderr
    assert "Traceback" not in result.output


def test_compare_of_non_utf8_files_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """It ended in "internal error: UnicodeDecodeError"."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(b"\xff\xfe{\x00\"\x00")
    b.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = CliRunner().invoke(main, ["compare", str(a), str(b)])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert lines == [f"apiconform: error: {a}: not an apiconform run record (not UTF-8 text: byte 0xff at offset 0)"]
    assert "internal error" not in result.output and "Traceback" not in result.output
