"""The gate: turn a run record into an exit code, honouring a baseline of expiring waivers.

Waivers exist so a known vendor bug does not block every build, and they expire so that
"known" never silently becomes "forever". Waived findings are still reported everywhere.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from apiconform.errors import EXIT_FINDINGS, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ApiconformError, ConfigError
from apiconform.findings import Category, Finding
from apiconform.runrecord import RunRecord, write_text_atomic

__all__ = [
    "BASELINE_FILE",
    "Baseline",
    "GateResult",
    "Waiver",
    "evaluate",
    "gating_categories",
    "load_baseline",
    "parse_fail_on",
    "run_mode",
    "write_baseline",
]

BASELINE_FILE = "apiconform-baseline.yaml"
_WAIVER_FIELDS = ("fingerprint", "code", "vendor", "operation", "category", "check", "mode", "reason", "expires")
MODES = ("read-only", "writes")  # a run's mode (`run_mode`): what a waiver is scoped to
_REQUIRED = ("reason", "expires")  # and a fingerprint (one finding) or a code (every finding of that kind)
MAX_SUMMARY_FINDINGS = 20


@dataclass(frozen=True)
class Waiver:
    """Accept one known finding (matched by fingerprint), or every finding of one kind (by failure `code`,
    narrowed by `vendor` / `operation` when given), until `expires` (inclusive)."""

    fingerprint: str
    reason: str
    expires: date
    vendor: str = ""
    operation: str = ""
    category: str = ""
    check: str = ""
    mode: str = ""  # "read-only" | "writes": the mode it was recorded in (only runs of that mode use it); "": any
    line: int = 0  # where it was declared, for messages
    code: str = ""

    def matches(self, finding: Finding) -> bool:
        """A fingerprint waiver matches its finding; a code waiver every finding with that code (and vendor,
        operation where the waiver names them)."""
        if self.fingerprint:
            return finding.fingerprint == self.fingerprint
        return finding.code == self.code and self.vendor in ("", finding.vendor) and \
            self.operation in ("", finding.operation)

    def applies_to(self, mode: str) -> bool:
        return not self.mode or self.mode == mode

    def expired(self, today: date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        what = " ".join(p for p in (self.vendor, self.operation, self.category) if p) or "?"
        return f"{self.fingerprint or self.code} ({what}) expired {self.expires.isoformat()}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **({"fingerprint": self.fingerprint} if self.fingerprint else {"code": self.code}),
            "vendor": self.vendor,
            "operation": self.operation,
            "category": self.category,
            "check": self.check,
            **({"mode": self.mode} if self.mode else {}),
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


@dataclass
class Baseline:
    """A parsed `apiconform-baseline.yaml`."""

    path: Path | None = None
    waivers: list[Waiver] = field(default_factory=list)

    def by_fingerprint(self, mode: str | None = None) -> dict[str, Waiver]:
        """The waiver of each finding (`mode`: only those scoped to that mode or to any)."""
        out: dict[str, Waiver] = {}
        for w in self.waivers:
            if not w.fingerprint or (mode is not None and not w.applies_to(mode)):
                continue
            # two waivers for one finding: the one that lasts longer wins (the other is noise)
            if w.fingerprint not in out or w.expires > out[w.fingerprint].expires:
                out[w.fingerprint] = w
        return out


@dataclass
class GateResult:
    """What the gate decided, and everything needed to explain it in one screen."""

    exit_code: int
    failing: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    expired: list[Waiver] = field(default_factory=list)
    ignored: list[Finding] = field(default_factory=list)  # outside fail_on: reported, not gating
    unused: list[Waiver] = field(default_factory=list)  # active waivers no finding matched
    summary: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # "vendor operation (suite)" the request budget kept from running
    deferred: list[str] = field(default_factory=list)  # the same, in a rolling run: left to the next slices
    nothing_tested: bool = False  # no case ran at all: never a pass

    @property
    def waived_reasons(self) -> dict[str, str]:
        """fingerprint -> reason: the `waived` argument of the report writers."""
        return {f.fingerprint: f"{w.reason}, until {w.expires.isoformat()}" for f, w in self.waived}


# --------------------------------------------------------------------------- loading


@functools.cache
def _loader() -> Any:
    """SafeLoader that leaves dates as text: we parse them, so a bad date gets file:line. Built on first use: a run
    without a baseline file never imports PyYAML (~20 ms of every start)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def _line(node: Any) -> int:
    return node.start_mark.line + 1 if node is not None and getattr(node, "start_mark", None) else 0


def _value_node(mapping: Any, key: str) -> Any:
    import yaml

    if isinstance(mapping, yaml.MappingNode):
        for k, v in mapping.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def load_baseline(path: str | os.PathLike[str], missing_ok: bool = False) -> Baseline:
    """Parse and validate a baseline; every problem is one ConfigError line `file:line: ...`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return Baseline(path=p)
        raise ConfigError(f"{p}: baseline file not found (create it with `apiconform baseline update`)") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read baseline: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: baseline is not UTF-8 text (byte {exc.start}: {exc.reason})") from None

    import yaml

    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()

    if data is None:
        return Baseline(path=p)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}:{_line(node)}: baseline must be a mapping with 'version' and 'waivers'")
    unknown = sorted(set(map(str, data)) - {"version", "waivers"})
    if unknown:
        raise ConfigError(f"{p}:{_line(_value_node(node, unknown[0]))}: unknown top-level field {unknown[0]!r}")
    if data.get("version") != 1:
        raise ConfigError(
            f"{p}:{_line(_value_node(node, 'version')) or 1}: field 'version' must be 1 (got {data.get('version')!r})"
        )
    raw = data.get("waivers") or []
    seq_node = _value_node(node, "waivers")
    if not isinstance(raw, list):
        raise ConfigError(f"{p}:{_line(seq_node)}: field 'waivers' must be a list")
    items = seq_node.value if isinstance(seq_node, yaml.SequenceNode) else [None] * len(raw)
    return Baseline(path=p, waivers=[_waiver(p, i, item, n) for i, (item, n) in enumerate(zip(raw, items), 1)])


def _waiver(path: Path, index: int, item: Any, node: Any) -> Waiver:
    where = f"{path}:{_line(node)}: waiver {index}"
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: must be a mapping with {', '.join(_REQUIRED)}")
    unknown = sorted(set(map(str, item)) - set(_WAIVER_FIELDS))
    if unknown:
        raise ConfigError(
            f"{path}:{_line(_value_node(node, unknown[0])) or _line(node)}: waiver {index}: unknown field {unknown[0]!r}"
            f" (known: {', '.join(_WAIVER_FIELDS)})"
        )
    for name in _REQUIRED:
        value = item.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ConfigError(f"{where}: missing field '{name}'")
    if not str(item.get("fingerprint") or "").strip() and not str(item.get("code") or "").strip():
        raise ConfigError(f"{where}: missing field 'fingerprint' (one finding) or 'code' (every finding of a kind)")
    code = str(item.get("code") or "").strip().upper()
    if code:
        from apiconform.codes import explain

        try:
            explain(code)
        except ApiconformError as exc:
            raise ConfigError(f"{path}:{_line(_value_node(node, 'code')) or _line(node)}: waiver {index}: {exc}") from None

    def at(name: str) -> str:
        return f"{path}:{_line(_value_node(node, name)) or _line(node)}: waiver {index}"

    expires = item["expires"]
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires.strip())
        except ValueError:
            raise ConfigError(f"{at('expires')}: field 'expires' must be a date YYYY-MM-DD (got {expires!r})") from None
    if not isinstance(expires, date):
        raise ConfigError(f"{at('expires')}: field 'expires' must be a date YYYY-MM-DD (got {expires!r})")
    category = str(item.get("category") or "")
    if category and category not in {c.value for c in Category}:
        raise ConfigError(f"{at('category')}: field 'category' is not a known category: {category!r}")
    mode = str(item.get("mode") or "")
    if mode and mode not in MODES:
        raise ConfigError(f"{at('mode')}: field 'mode' must be one of {', '.join(MODES)} (got {mode!r})")
    return Waiver(
        fingerprint=str(item.get("fingerprint") or "").strip(),
        code=code,
        reason=str(item["reason"]).strip(),
        expires=expires,
        vendor=str(item.get("vendor") or ""),
        operation=str(item.get("operation") or ""),
        category=category,
        check=str(item.get("check") or ""),
        mode=mode,
        line=_line(node),
    )


# --------------------------------------------------------------------------- evaluation


def _by_category(findings: Iterable[Finding]) -> str:
    counts = Counter(f.category.value for f in findings)
    return ", ".join(f"{n} {c}" for c, n in counts.most_common())


def parse_fail_on(values: Iterable[str]) -> set[Category | str]:
    """`--fail-on` / `fail_on` values: categories (any accepted spelling) and failure codes (AC602)."""
    from apiconform.codes import explain, is_code

    out: set[Category | str] = set()
    for value in values:
        for token in (t.strip() for t in str(value).split(",") if t.strip()):
            out.add(explain(token).code if is_code(token) else Category.parse(token))
    return out


def gating_categories(fail_on: Collection[Category | str] | None) -> set[Category] | None:
    """The categories a fail-on selection gates (None: all), for the reports that count by category."""
    if not fail_on:
        return None
    from apiconform.codes import explain

    return {c if isinstance(c, Category) else explain(c).category for c in fail_on}


def evaluate(
    record: RunRecord,
    fail_on: Collection[Category | str] | None = None,
    baseline: Baseline | None = None,
    today: date | None = None,
    rolling: bool = False,
) -> GateResult:
    """Decide the exit code: 1 if any unwaived finding in a gating category, else 0.

    `fail_on` (None = every category) narrows what fails the build; other findings are still
    returned as `ignored` and shown in reports. A waiver past its `expires` date waives nothing
    and is listed in `expired`, so an overdue vendor fix turns the build red again.
    """
    today = today or date.today()
    gating = {c if isinstance(c, Category) else (Category(c) if not c.startswith("AC") else c)
              for c in fail_on} if fail_on else None
    mode = run_mode(record)  # waivers recorded in the other mode neither waive nor count as unused here
    waivers = baseline.by_fingerprint(mode) if baseline else {}
    by_code = [w for w in (baseline.waivers if baseline else []) if not w.fingerprint and w.applies_to(mode)]
    active = {fp: w for fp, w in waivers.items() if not w.expired(today)}
    active_codes = [w for w in by_code if not w.expired(today)]
    expired = sorted((w for w in [*waivers.values(), *by_code] if w.expired(today)),
                     key=lambda w: (w.expires, w.fingerprint or w.code))

    result = GateResult(exit_code=EXIT_OK, expired=expired)
    used: set[int] = set()
    for f in record.findings:
        waiver = active.get(f.fingerprint) or next((w for w in active_codes if w.matches(f)), None)
        if waiver is not None:
            result.waived.append((f, waiver))
            used.add(id(waiver))
        elif gating is None or f.category in gating or f.code in gating:
            result.failing.append(f)
        else:
            result.ignored.append(f)
    result.unused = [w for w in [*active.values(), *active_codes] if id(w) not in used]
    result.uncovered = uncovered_by_budget(record)
    if rolling:  # a rolling slice defers what the budget cut to the next runs: listed, not a failure
        result.deferred, result.uncovered = result.uncovered, []
    result.nothing_tested = not _executed(record)
    result.exit_code = EXIT_FINDINGS if result.failing or result.uncovered else EXIT_OK
    if not result.failing and result.nothing_tested and not result.uncovered:
        result.exit_code = EXIT_USAGE  # nothing tested is no verdict: a gate must never pass on it
    if record.interrupted:
        result.exit_code = EXIT_INTERRUPTED  # stopped before it finished: no verdict on what never ran, never a pass
    result.summary = _summary(record, result, gating)
    return result


BUDGET_MARK = "request budget"  # how exchange.BudgetExhausted reasons read


def run_mode(record: RunRecord) -> str:
    """`read-only` when a live target ran without writes, else `writes` (a mock runs every operation)."""
    live = any(t != "mock" for t in record.targets.values())
    return "read-only" if live and record.context.get("allow_writes", "false") != "true" else "writes"


def uncovered_by_budget(record: RunRecord) -> list[str]:
    """Tests (operation × suite) the live target's request budget kept from running: cut by the budget plan, or
    stopped before their first request. An operation whose other suites ran is still listed: a budget that drops
    the auth tests must not pass because the positive cases ran."""
    starved = {f"{case.vendor} {case.operation} ({case.suite})" for case in record.cases
               if case.skipped and BUDGET_MARK in case.skipped and not case.findings and not case.requests}
    return sorted(starved)


def _executed(record: RunRecord) -> int:
    return sum(1 for c in record.cases if not (c.skipped and not c.findings))


def _summary(record: RunRecord, r: GateResult, gating: set[Category | str] | None) -> list[str]:
    executed = _executed(record)
    vendors = sorted({f.vendor for f in r.failing})
    if r.failing:
        head = (
            f"gate: FAIL - {len(r.failing)} findings ({_by_category(r.failing)}) in {len(vendors)} vendor"
            f"{'s' if len(vendors) != 1 else ''}: {', '.join(vendors)}"
        )
    elif executed == 0 and not r.uncovered:
        head = "gate: NO VERDICT - nothing tested: 0 cases ran (every case was skipped; see why above); exit 2"
    elif r.uncovered:
        head = f"gate: FAIL - incomplete: {len(r.uncovered)} tests (operation × suite) never ran (request budget)"
    else:
        head = f"gate: PASS - {executed} cases, no gating findings"
    if record.interrupted:
        head = (f"gate: INTERRUPTED - stopped by {record.interrupted} after {len(record.cases)} of "
                f"{record.planned or len(record.cases)} cases ({len(r.failing)} gating findings among them); exit 4")
    lines = [head]
    if r.uncovered:
        shown = ", ".join(r.uncovered[:MAX_SUMMARY_FINDINGS])
        more = f" and {len(r.uncovered) - MAX_SUMMARY_FINDINGS} more" if len(r.uncovered) > MAX_SUMMARY_FINDINGS else ""
        lines.append(f"  INCOMPLETE: the request budget kept these from running: {shown}{more} "
                     f"(raise --max-requests or select fewer with --operation)")
    if r.deferred:
        covered = record.covered_history()
        planned = {f"{c.vendor}:{c.name}" for c in record.cases} | set(covered)
        lines.append(f"  ROLLING: {len(r.deferred)} tests deferred to the next slices; {len(planned & set(covered))} of "
                     f"{len(planned)} tests covered across runs (coverage.json history)")
    if gating is not None:
        lines.append(f"  fail-on: {', '.join(sorted(c.value if isinstance(c, Category) else c for c in gating))}")
    from apiconform.report import group_findings

    groups = group_findings(r.failing)
    if r.failing:
        lines.append(f"  {len(groups)} root cause{'s' if len(groups) != 1 else ''}:")
    for g in groups[:MAX_SUMMARY_FINDINGS]:
        lines.append(g.line("  FAIL"))
    if len(groups) > MAX_SUMMARY_FINDINGS:
        lines.append(f"  ... {len(groups) - MAX_SUMMARY_FINDINGS} more root causes in matrix.html (reports directory)")
    if r.ignored:
        lines.append(f"  reported, not gating: {len(r.ignored)} findings ({_by_category(r.ignored)})")
    if r.waived:
        lines.append(f"  waived by baseline: {len(r.waived)} findings ({_by_category(f for f, _ in r.waived)})")
        reasons: dict[tuple[str, str], int] = {}
        for _, w in r.waived:
            reasons[(w.expires.isoformat(), w.reason)] = reasons.get((w.expires.isoformat(), w.reason), 0) + 1
        for (expires, reason), n in sorted(reasons.items())[:MAX_SUMMARY_FINDINGS]:
            lines.append(f"    {n} until {expires}: {reason}")
    for w in r.expired:
        lines.append(f"  EXPIRED waiver {w.describe()}")
    if r.unused:
        lines.append(f"  {len(r.unused)} waivers match no finding (fixed? remove them with `apiconform baseline update`)")
    return lines


# --------------------------------------------------------------------------- writing


def write_baseline(
    record: RunRecord,
    path: str | os.PathLike[str] = BASELINE_FILE,
    reason: str = "",
    days: int = 30,
    today: date | None = None,
) -> Path:
    """Accept every current finding as a waiver expiring in `days` days.

    Waivers still matching a finding keep their reason and expiry (re-running this must not
    silently extend a deadline); waivers for findings that are gone are dropped.
    """
    today = today or date.today()
    if not reason.strip():
        raise ConfigError(f"{path}: a reason is required for new waivers (--reason)")
    if days < 1:
        raise ConfigError(f"{path}: --days must be at least 1 (got {days})")
    p = Path(path)
    mode = run_mode(record)
    previous = load_baseline(p, missing_ok=True) if p.exists() else Baseline()
    existing = previous.by_fingerprint(mode)
    # waivers of the other mode are kept as they are: this run could not see their findings
    kept = [w for w in previous.waivers if not w.applies_to(mode)]
    waivers: dict[str, Waiver] = {}
    for f in record.findings:
        if f.fingerprint in waivers:
            continue
        old = existing.get(f.fingerprint)
        if old is not None and not old.expired(today):
            waivers[f.fingerprint] = old
            continue
        waivers[f.fingerprint] = Waiver(
            fingerprint=f.fingerprint,
            reason=reason.strip(),
            expires=today + timedelta(days=days),
            vendor=f.vendor,
            operation=f.operation,
            category=f.category.value,
            check=f.check,
            mode=mode,
        )
    ordered = sorted([*waivers.values(), *kept], key=lambda w: (w.vendor, w.operation, w.category, w.check, w.mode,
                                                                 w.fingerprint))
    import yaml

    body = yaml.safe_dump(
        {"version": 1, "waivers": [w.to_dict() for w in ordered]}, sort_keys=False, allow_unicode=True, width=120
    )
    header = (
        "# apiconform baseline: known findings accepted until they expire (then the gate fails again).\n"
        "# Written by `apiconform baseline update`; every waiver needs a reason and an expires date.\n"
    )
    return write_text_atomic(p, header + body)
