"""`matrix.html`: one self-contained page a person can open from a CI artifact.

No scripts, fonts, images or stylesheets from anywhere (artifacts are often opened offline or
behind strict CSP); expandable details use <details>. Every piece of vendor data is escaped:
response bodies and messages are attacker-controlled from our point of view.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from apiconform.findings import CATEGORY_DESCRIPTIONS, Category, Finding
from apiconform.report._matrix import Waived, build_coverage, build_matrix, waived_map
from apiconform.runrecord import RunRecord, write_text_atomic

__all__ = ["render_matrix_html", "write_matrix_html"]

MAX_FINDINGS_ROWS = 500


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _json(value: Any, limit: int = 4000) -> str:
    """A value as JSON text (`null`, `true`, `["a"]`), never a Python repr; records written before values were
    kept as JSON hold reprs of lists and dicts, which are read back first."""
    if isinstance(value, str) and value[:1] in "{[(":
        import ast

        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _body(text: str) -> str:
    """A body as kept in a finding (redacted, cut): pretty JSON when it parses, else as it is."""
    if not text:
        return "(empty)"
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _message(message: dict[str, Any], first: str) -> str:
    """A request or response: its first line, headers as `Name: value` lines, then the body."""
    headers = "\n".join(f"{k}: {v}" for k, v in (message.get("headers") or {}).items())
    return (f"<pre>{_e(first)}\n{_e(headers)}</pre>"
            f"<pre>{_e(_body(str(message.get('body') or '')))}</pre>")


def _exchange_rows(exchange: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not exchange:
        return []
    rows = []
    request = exchange.get("request") or {}
    if request:
        rows.append(("request", _message(request, f"{request.get('method', '')} {request.get('url', '')}")))
    response = exchange.get("response") or {}
    if response:
        elapsed = response.get("elapsed_s")
        took = f" ({elapsed * 1000:.0f} ms)" if isinstance(elapsed, (int, float)) else ""
        rows.append(("response", _message(response, f"HTTP {response.get('status', '?')}{took}")))
    if exchange.get("error"):
        rows.append(("error", f"<pre>{_e(exchange['error'])}</pre>"))
    return rows


_EXPECTATIONS = {
    "positive": "a valid request with valid credentials: the API must accept it and answer as documented",
    "negative": "an invalid request: the API must reject it with a documented 4xx",
    "unauthenticated": "missing or wrong credentials: the API must refuse with the documented auth status",
}


_CSS = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;
--none:#6e7781;--none-bg:#f6f8fa;--line:#d0d7de;--ink:#1f2328;--muted:#59636e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--ink);background:#fff}
main{max-width:1360px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px;display:flex;align-items:center;gap:12px;flex-wrap:wrap}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.meta{color:var(--muted);font-size:13px;margin:0 0 14px}
.meta code{font-size:12px}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-size:13px;font-weight:600;border:1px solid transparent;white-space:nowrap}
.b-pass{color:var(--ok);background:var(--ok-bg);border-color:#aceebb}
.b-fail{color:var(--bad);background:var(--bad-bg);border-color:#ffcecb}
.b-untested,.b-interrupted,.b-waived{color:var(--warn);background:var(--warn-bg);border-color:#f0d878}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px}
.card .n{font-size:22px;font-weight:600}
.card .l{color:var(--muted);font-size:12px}
.card.bad .n{color:var(--bad)} .card.ok .n{color:var(--ok)} .card.warn .n{color:var(--warn)}
.warnings{border:1px solid #f0d878;background:var(--warn-bg);color:#5c4000;border-radius:8px;padding:8px 14px;margin:12px 0}
.warnings li{margin:2px 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--none-bg);font-size:12px;font-weight:600}
table.grid th.cat{text-align:center;min-width:74px;word-break:break-word}
table.grid td.c{text-align:center;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
td.fail{background:var(--bad-bg);color:var(--bad)}
td.pass{background:var(--ok-bg);color:var(--ok)}
td.waived{background:var(--warn-bg);color:var(--warn)}
td.none{background:var(--none-bg);color:#8c959f;font-weight:400}
td.c small{display:block;font-weight:400;font-size:11px;opacity:.85}
tr.total td{font-weight:600;border-top:2px solid var(--muted)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.legend{display:flex;gap:14px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:8px 0}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-2px;margin-right:4px;border:1px solid var(--line)}
.findings td{font-size:13px}
.findings td.msg{max-width:640px}
details summary{cursor:pointer}
main>details{margin:10px 0}
tr.waived td{background:#fffdf0}
details[open] summary{margin-bottom:6px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;min-width:0}
dl.run-meta{font-size:13px;margin:0 0 10px}
td.ops{max-width:360px}
pre.reproduce{margin:0 0 14px}
pre{margin:0;white-space:pre-wrap;word-break:break-all;background:var(--none-bg);border:1px solid var(--line);border-radius:6px;padding:6px 8px;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:320px;overflow:auto}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--none-bg);padding:0 3px;border-radius:3px}
.pill{display:inline-block;font-size:11px;padding:0 6px;border-radius:999px;background:var(--none-bg);border:1px solid var(--line);white-space:nowrap}
.pill.cat{background:var(--bad-bg);border-color:#ffcecb;color:var(--bad)}
.pill.w{background:var(--warn-bg);border-color:#f0d878;color:var(--warn)}
.seen{color:var(--ok)} .unseen{color:var(--bad)} .undoc{color:var(--warn)}
.bar{display:inline-block;width:90px;height:8px;border-radius:4px;background:#eaeef2;vertical-align:middle;margin-right:6px;overflow:hidden}
.bar i{display:block;height:100%;background:var(--ok)}
.bar.low i{background:var(--warn)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
"""


def _cell(counts: dict[str, int], category: str) -> str:
    p, f, w = counts["passed"], counts["failed"], counts["waived"]
    tip = _e(f"{category}: {p} passed, {f} failed, {w} waived")
    if f:
        extra = f"<small>{p} passed" + (f", {w} waived" if w else "") + "</small>"
        return f'<td class="c fail" title="{tip}">{f} ✗{extra}</td>'
    if w:
        return f'<td class="c waived" title="{tip}">{w} waived<small>{p} passed</small></td>'
    if p:
        return f'<td class="c pass" title="{tip}">{p} ✓</td>'
    return f'<td class="c none" title="{tip}">–</td>'


def _pct_bar(n: int, d: int | None) -> str:
    if not d:
        return '<span class="bar low"><i style="width:0%"></i></span>'
    pct = max(0, min(100, round(100 * n / d)))
    return f'<span class="bar{" low" if pct < 50 else ""}"><i style="width:{pct}%"></i></span>'


def _finding_row(f: Finding, reason: str | None, times: int = 1, suite: str = "") -> str:
    expectation = str((f.exchange or {}).get("expectation") or "")
    details = [
        ("code", f"<code>{_e(f.code)}</code> (<code>apiconform explain {_e(f.code)}</code>)"),
        ("suite", _e(suite or "-") + (f" · expectation <strong>{_e(expectation)}</strong>: "
                                      f"{_e(_EXPECTATIONS.get(expectation, ''))}" if expectation else "")),
        ("check", f"<code>{_e(f.check)}</code>"),
        ("status", _e(f.status if f.status is not None else "-")),
        ("pointer", f"<code>{_e(f.pointer or '(whole response)')}</code>"),
        ("severity", _e(f.severity.value)),
        ("fingerprint", f"<code>{_e(f.fingerprint)}</code>"),
    ]
    if reason is not None:
        details.append(("waived", _e(reason or "by baseline")))
    if f.expected is not None:
        details.append(("expected", f"<pre>{_e(_json(f.expected))}</pre>"))
    if f.actual is not None:
        details.append(("actual", f"<pre>{_e(_json(f.actual))}</pre>"))
    details += _exchange_rows(f.exchange)
    if f.curl:
        details.append(("reproduce", f"<pre>{_e(f.curl)}</pre>"))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in details)
    waived = ' <span class="pill w">waived</span>' if reason is not None else ""
    row_cls = ' class="waived"' if reason is not None else ""
    pill_cls = "pill" if reason is not None else "pill cat"
    return (
        f"<tr{row_cls}><td>{_e(f.vendor)}</td><td><code>{_e(f.operation)}</code></td>"
        f'<td><span class="{pill_cls}">{_e(f.category.value)}</span> <code>{_e(f.code)}</code>{waived}</td>'
        f'<td class="msg"><details><summary>{_e(f.message)}{f" (×{times})" if times > 1 else ""}</summary>'
        f'<dl class="kv">{dl}</dl></details></td></tr>'
    )


_VERSIONS = ("apiconform", "python", "schemathesis", "hypothesis")
SHOWN_OPERATIONS = 4


def _operations(operations: list[str]) -> str:
    """A root cause's operations, compact: the first few, the rest behind a click."""
    shown = ", ".join(f"<code>{_e(o)}</code>" for o in operations[:SHOWN_OPERATIONS])
    if len(operations) <= SHOWN_OPERATIONS:
        return shown
    rest = ", ".join(f"<code>{_e(o)}</code>" for o in operations[SHOWN_OPERATIONS:])
    return f"{shown} <details><summary>and {len(operations) - SHOWN_OPERATIONS} more</summary>{rest}</details>"


def _status_list(op: dict[str, Any]) -> str:
    parts = [f'<span class="seen">{_e(s)}</span>' for s in op["documented_statuses"] if s not in op["unseen_statuses"]]
    parts += [f'<span class="unseen" title="documented, never seen">{_e(s)}</span>' for s in op["unseen_statuses"]]
    parts += [f'<span class="undoc" title="seen, not documented">{_e(s)}!</span>' for s in op["undocumented_statuses"]]
    return " ".join(parts) or "–"


def _enum_list(op: dict[str, Any]) -> str:
    rows = []
    for location, e in op["enums"].items():
        vals = [f'<span class="seen">{_e(v)}</span>' for v in e["documented"] if v not in e["unseen"]]
        vals += [f'<span class="unseen">{_e(v)}</span>' for v in e["unseen"]]
        vals += [f'<span class="undoc">{_e(v)}!</span>' for v in e["undocumented"]]
        rows.append(f"<code>{_e(location)}</code>: {' '.join(vals) or '–'}")
    return "<br>".join(rows) or "–"


def render_matrix_html(
    record: RunRecord,
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
) -> str:
    """The whole report page as one string (inline CSS, no network, everything escaped)."""
    wmap = waived_map(waived)
    m = build_matrix(record, wmap, fail_on)
    cov = build_coverage(record)
    t = m["totals"]
    cats = m["categories"]
    verdict = m["verdict"]
    documented_total = sum(v["documented_operations"] or 0 for v in cov["vendors"].values())
    exercised_total = sum(v["exercised_operations"] for v in cov["vendors"].values())
    out: list[str] = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>apiconform: {_e(verdict)} - {_e(', '.join(m['vendors']) or 'no vendors')}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f'<h1>apiconform conformance <span class="badge b-{_e(verdict)}">{_e(verdict.upper())}</span></h1>',
    ]
    meta: dict[str, str] = {"started": _e(record.started or "-"), "duration": f"{record.duration:.1f} s"}
    if record.seed is not None:
        meta["seed"] = f"<code>{_e(record.seed)}</code>"
    if record.suites and "suites" not in record.context:
        meta["suites"] = _e(", ".join(record.suites))
    reproduce = record.context.get("reproduce", "")
    versions = [f"{k} {record.context[k]}" for k in _VERSIONS if k in record.context]
    for name, value in record.context.items():
        if name not in ("reproduce", "seed", *_VERSIONS) and value not in ("", "none", "default", "all"):
            meta[name.replace("_", " ")] = f"<code>{_e(value)}</code>"
    if m["fail_on"]:
        meta["gate fails on"] = _e(", ".join(m["fail_on"]))
    if versions:
        meta["versions"] = _e(", ".join(versions))
    out.append('<dl class="kv run-meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta.items()) + "</dl>")
    if reproduce:
        out.append(f'<p class="meta">reproduce the whole run:</p><pre class="reproduce">{_e(reproduce)}</pre>')

    def card(n: Any, label: str, cls: str = "") -> str:
        return f'<div class="card {cls}"><div class="n">{_e(n)}</div><div class="l">{_e(label)}</div></div>'

    out.append('<div class="cards">')
    out.append(card(t["executed"], "cases run", "" if t["executed"] else "warn"))
    out.append(card(t["failed"], "findings", "bad" if t["failed"] else "ok"))
    out.append(card(t["waived"], "waived", "warn" if t["waived"] else ""))
    out.append(card(t["skipped"], "skipped"))
    out.append(
        card(
            f"{exercised_total} / {documented_total}",
            "operations exercised",
            "warn" if exercised_total == 0 or exercised_total < documented_total else "ok",
        )
    )
    out.append("</div>")
    if m["warnings"]:
        out.append('<div class="warnings"><strong>⚠ Coverage warnings</strong><ul>')
        out += [f"<li>{_e(w)}</li>" for w in m["warnings"]]
        out.append("</ul></div>")

    # ---- grid
    out.append("<h2>Conformance matrix</h2>")
    out.append('<div class="scroll"><table class="grid"><thead><tr><th>vendor</th>')
    for c in cats:
        out.append(f'<th class="cat" title="{_e(CATEGORY_DESCRIPTIONS[Category(c)])}">{_e(c)}</th>')
    out.append("<th>cases</th><th>verdict</th></tr></thead><tbody>")
    col_totals = {c: {"passed": 0, "failed": 0, "waived": 0} for c in cats}
    for vendor, v in m["vendors"].items():
        target = v["target"] or "-"
        out.append(f'<tr><td><strong>{_e(vendor)}</strong><br><small class="meta">{_e(target)}</small></td>')
        for c in cats:
            out.append(_cell(v["categories"][c], c))
            for k in col_totals[c]:
                col_totals[c][k] += v["categories"][c][k]
        vt = v["totals"]
        skipped = f"<br><small>{vt['skipped']} skipped</small>" if vt["skipped"] else ""
        out.append(f'<td class="num">{vt["executed"]}{skipped}</td>')
        out.append(f'<td><span class="badge b-{_e(v["verdict"])}">{_e(v["verdict"])}</span></td></tr>')
    out.append('<tr class="total"><td>total</td>')
    out += [_cell(col_totals[c], c) for c in cats]
    out.append(f'<td class="num">{t["executed"]}</td><td><span class="badge b-{_e(verdict)}">{_e(verdict)}</span></td></tr>')
    out.append("</tbody></table></div>")
    out.append(
        '<div class="legend"><span><span class="sw" style="background:#dafbe1"></span>passed cases</span>'
        '<span><span class="sw" style="background:#ffebe9"></span>findings</span>'
        '<span><span class="sw" style="background:#fff8c5"></span>waived by baseline</span>'
        '<span><span class="sw" style="background:#f6f8fa"></span>not covered by any check</span></div>'
    )

    # ---- root causes
    groups = m.get("root_causes") or []
    if groups:
        out.append(f"<h2>Findings by root cause ({len(groups)})</h2>")
        out.append('<div class="scroll"><table class="findings"><thead><tr>')
        out.append("<th>vendor</th><th>root cause</th><th>operations</th><th>cases</th></tr></thead><tbody>")
        for g in groups[:MAX_FINDINGS_ROWS]:
            waived = ' <span class="meta">waived</span>' if g["waived"] else ""
            out.append(f'<tr><td>{_e(g["vendor"])}</td><td class="msg"><details><summary><code>{_e(g.get("code", ""))}</code> '
                       f'{_e(g["title"])}{waived}</summary>'
                       f'<p class="meta">{_e(g["key"])}</p><p class="meta">fingerprints: {_e(", ".join(g["fingerprints"]))}</p>'
                       f'</details></td><td class="msg ops">{_operations(g["operations"])}</td><td>{g["cases"]}</td></tr>')
        out.append("</tbody></table></div>")

    # ---- findings
    suites = {id(f): case.suite for case in record.cases for f in case.findings}
    findings = sorted(
        record.findings, key=lambda f: (f.fingerprint in wmap, f.vendor, f.operation, cats.index(f.category.value))
    )
    out.append(f"<h2>Findings ({len(findings)})</h2>")
    if findings:
        out.append('<div class="scroll"><table class="findings"><thead><tr>')
        out.append("<th>vendor</th><th>operation</th><th>category</th><th>message (click for details)</th></tr></thead><tbody>")
        distinct: dict[str, list[Finding]] = {}  # the same finding seen by several cases is one row (×N)
        for f in findings:
            distinct.setdefault(f.fingerprint, []).append(f)
        rows = list(distinct.values())
        out += [_finding_row(same[0], wmap.get(same[0].fingerprint) if same[0].fingerprint in wmap else None, len(same),
                             suites.get(id(same[0]), "")) for same in rows[:MAX_FINDINGS_ROWS]]
        out.append("</tbody></table></div>")
        if len(rows) > MAX_FINDINGS_ROWS:
            out.append(f'<p class="meta">{len(rows) - MAX_FINDINGS_ROWS} more distinct findings in run.json.</p>')
    else:
        out.append('<p class="meta">No findings.</p>')

    # ---- coverage
    out.append("<h2>Coverage</h2>")
    out.append('<div class="scroll"><table><thead><tr><th>vendor</th><th>operations exercised</th>')
    out.append("<th>documented statuses seen</th><th>enum values seen</th></tr></thead><tbody>")
    for vendor, v in cov["vendors"].items():
        doc = v["documented_operations"]
        n = v["exercised_operations"]
        warn = ' <span class="pill w">⚠ nothing exercised</span>' if doc and n == 0 else ""
        st, en = v["statuses"], v["enum_values"]
        st_extra = f' <span class="undoc">+{st["undocumented_seen"]} undocumented</span>' if st["undocumented_seen"] else ""
        en_extra = f' <span class="undoc">+{en["undocumented_seen"]} undocumented</span>' if en["undocumented_seen"] else ""
        st_cell = f"{_pct_bar(st['seen'], st['documented'])}{st['seen']} of {st['documented']}" if st["documented"] else "none documented"
        en_cell = f"{_pct_bar(en['seen'], en['documented'])}{en['seen']} of {en['documented']}" if en["documented"] else "none documented"
        out.append(
            f"<tr><td><strong>{_e(vendor)}</strong></td>"
            f"<td>{_pct_bar(n, doc)}{n} of {_e(doc if doc is not None else '?')}{warn}</td>"
            f"<td>{st_cell}{st_extra}</td><td>{en_cell}{en_extra}</td></tr>"
        )
    out.append("</tbody></table></div>")
    for vendor, v in cov["vendors"].items():
        if not v["operations"]:
            continue
        out.append(f"<details><summary><strong>{_e(vendor)}</strong>: per-operation coverage ({len(v['operations'])} operations)</summary>")
        out.append('<div class="scroll"><table><thead><tr><th>operation</th><th>cases</th>')
        out.append('<th>statuses (<span class="seen">seen</span> / <span class="unseen">never seen</span> / ')
        out.append('<span class="undoc">undocumented!</span>)</th><th>enum values</th></tr></thead><tbody>')
        for label, op in v["operations"].items():
            cases = op["cases"] if op["exercised"] else '<span class="unseen">0</span>'
            out.append(f"<tr><td><code>{_e(label)}</code></td><td class=\"num\">{cases}</td>")
            out.append(f"<td>{_status_list(op)}</td><td>{_enum_list(op)}</td></tr>")
        out.append("</tbody></table></div></details>")

    targets = ", ".join(f"{k}={v}" for k, v in record.targets.items()) or "-"
    out.append(
        f"<footer>Generated by apiconform from run.json · targets: {_e(targets)}"
        f" · command: <code>{_e(' '.join(record.argv) or '-')}</code></footer>"
    )
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def write_matrix_html(
    record: RunRecord,
    out_dir: str | os.PathLike[str],
    waived: Waived | None = None,
    fail_on: Collection[Category] | None = None,
) -> Path:
    """`matrix.html`: the page to open from a CI artifact."""
    return write_text_atomic(Path(out_dir) / "matrix.html", render_matrix_html(record, waived, fail_on))
