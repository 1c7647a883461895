#!/usr/bin/env bash
# Screenshots of every screen of the resident's window in French, Arabic and Tigrinya
# (or the languages given), on a fresh Xvfb, into docs/resident-window/screens/.
# The agent's `screens` example shows the screens in turn; ImageMagick takes each picture.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_build_tools
need_runtime_tools
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(fr ar ti)
out=docs/resident-window/screens
mkdir -p "$out"
cargo build -q -p acote-agent --example screens
bin=target/debug/examples/screens

Xvfb :77 -screen 0 1366x768x24 -noreset -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null' EXIT
sleep 1
export DISPLAY=:77
xsetroot -solid '#dfe6ea'

shoot() { # LANG [problem]
  local lang=$1 mode=${2:-}
  coproc SCREENS { "$bin" "$lang" $mode 2>/dev/null; }
  local pid=$SCREENS_PID
  while read -r word name <&"${SCREENS[0]}"; do
    [ "$word" = screen ] || continue
    import -window root "$out/$lang-$name.png"
    say "$out/$lang-$name.png"
    echo >&"${SCREENS[1]}"
  done
  wait "$pid" 2>/dev/null || true
}

for lang in "${langs[@]}"; do
  shoot "$lang"
  shoot "$lang" problem
done
