#!/usr/bin/env bash
# Takes a screenshot of eval's report.html with headless Chromium, to look at
# the page as a person would. Not run by `go test`; needs Debian's chromium
# (apt-get install chromium fonts-noto-cjk) and nothing from the network.
#
#   scripts/screenshot-report.sh [OUT.png] [eval arguments...]
#
# Defaults: docs/eval-report.png, from the development set, the first two
# blind sets and 5-fold cross-validation (testdata/blind3 stays sealed: its
# failures are not for pictures in the repository). The page is loaded from a file:// URL with every
# background network feature off; a fresh profile is made and removed.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-docs/eval-report.png}
shift || true
case $out in /*) ;; *) out="$PWD/$out" ;; esac
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(--cv 5 testdata/eval testdata/blind testdata/blind2)
fi
width=${WIDTH:-1280}
height=${HEIGHT:-3400}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "screenshot-report: chromium is not installed (apt-get install chromium fonts-noto-cjk)" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/beianbot" ./cmd/beianbot
# eval exits 1 when a set is below its gate; the report is written all the same.
"$work/beianbot" eval --out "$work/report" "${args[@]}" > "$work/eval.txt" 2>&1 || [ $? -eq 1 ]

mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --no-default-browser-check \
  --user-data-dir="$work/profile" --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="$width,$height" --screenshot="$out" "file://$work/report/report.html" 2> "$work/chromium.log" \
  || { cat "$work/chromium.log" >&2; exit 1; }
[ -s "$out" ] || { echo "screenshot-report: no screenshot written" >&2; cat "$work/chromium.log" >&2; exit 1; }
echo "wrote $out (${width}x${height}) of $work/report/report.html"
