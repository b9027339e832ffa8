"""matrix.html from a real drifted run: self-contained (loads nothing from the network) and renders in a
headless browser into a non-blank page (scripts/screenshot_matrix.sh; skipped when no Chromium is installed)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from apiconform.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "screenshot_matrix.sh"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("html")
    out = work / "reports"
    with contextlib.chdir(work):
        result = CliRunner().invoke(main, ["run", "goodstack", "ctrlhub", "cofe-cms", "--max-examples", "3",
                                           "--no-progress", "--no-allure", "--drift", "enum-value-changed",
                                           "--drift", "goodstack:field-type-changed", "--reports-dir", str(out)],
                                    catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return out


# Anything that makes a browser fetch: attributes holding a URL, CSS url()/@import, <link>, <script src>, <base>.
_FETCHES = re.compile(
    r"""\b(?:src|href|srcset|action|poster|data|formaction|background)\s*=\s*["']?\s*(?!\#)[^\s"'>]+"""
    r"""|url\(\s*["']?(?!data:|\#)|@import|<link\b|<base\b|<iframe\b|<object\b|<embed\b""",
    re.IGNORECASE,
)


def test_matrix_html_is_self_contained(reports: Path) -> None:
    html = (reports / "matrix.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "create_eligibility_subscription" in html and "goodstack" in html
    assert not _FETCHES.findall(html), _FETCHES.findall(html)[:5]
    # URLs appear only as text of the findings (curl reproductions), never in markup
    for match in re.finditer(r"https?://", html):
        tag_start, tag_end = html.rfind("<", 0, match.start()), html.rfind(">", 0, match.start())
        assert tag_end > tag_start, html[max(0, match.start() - 80): match.start() + 40]


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _png_rows(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, zlib-decompressed scanlines) of a PNG, checking its structure."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def screenshot(reports: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _browser() is None:
        pytest.skip("no headless Chromium installed (apt-get install chromium); the screenshot is not taken")
    png = tmp_path_factory.mktemp("shot") / "matrix.png"
    env = {**os.environ, "WINDOW_SIZE": "1400,1000"}
    proc = subprocess.run(["bash", str(SCRIPT), str(reports / "matrix.html"), str(png)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    keep = os.environ.get("APICONFORM_KEEP_SCREENSHOT")  # e.g. to look at it: APICONFORM_KEEP_SCREENSHOT=/tmp/m.png
    if keep:
        shutil.copy(png, keep)
    return png


def test_screenshot_is_a_rendered_page(screenshot: Path) -> None:
    data = screenshot.read_bytes()
    assert len(data) > 20_000, f"{len(data)} bytes: suspiciously small for a rendered matrix"
    width, height, raw = _png_rows(data)
    assert (width, height) == (1400, 1000)
    # a blank page filters to (almost) all zero bytes; a rendered table, text and colours do not
    assert raw.count(0) / len(raw) < 0.97 and len(set(raw)) > 64


def test_screenshot_has_colour_and_text(screenshot: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image", reason="Pillow not installed: the pixel-level check is skipped")
    with image_mod.open(screenshot) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, "a rendered page has text antialiasing and several colours"
    dominant = max(count for count, _ in colours) / (rgb.width * rgb.height)
    assert dominant < 0.97, "one colour covers the page: blank"
    assert any(r > 150 and g < 110 and b < 110 for _, (r, g, b) in colours), "no red: the failing cells are missing"
