#!/usr/bin/env bash
# Render reports/matrix.html with headless Chromium into a PNG, to check the page by eye.
#
#   scripts/screenshot_matrix.sh [HTML] [PNG]
#     HTML  default reports/matrix.html
#     PNG   default <HTML dir>/matrix.png
#   DEMO=1 scripts/screenshot_matrix.sh   first writes a synthetic report into reports/
#
# Installs chromium with apt-get (after apt-get update) when it is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
html="${1:-reports/matrix.html}"
png="${2:-$(dirname "$html")/matrix.png}"
py="${PYTHON:-.venv/bin/python}"

if [[ "${DEMO:-0}" == "1" ]]; then
  "$py" tests/support/demo_report.py "$(dirname "$html")" >/dev/null
fi
if [[ ! -f "$html" ]]; then
  echo "screenshot_matrix: $html not found (run the suite or 'apiconform report' first, or DEMO=1)" >&2
  exit 2
fi

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "screenshot_matrix: chromium not found; installing with apt-get" >&2
  sudo_cmd=""
  [[ "$(id -u)" != "0" ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  browser="$(command -v chromium)"
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$png")"
abs_html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
abs_png="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"

"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --hide-scrollbars --screenshot="$abs_png" --window-size="${WINDOW_SIZE:-1400,1000}" \
  "file://$abs_html" 2>/dev/null

test -s "$abs_png"
echo "$abs_png"
