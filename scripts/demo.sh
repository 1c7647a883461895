#!/usr/bin/env bash
# Runs an Acote demo on this machine: a relay on https://127.0.0.1:8443 with its data in
# ./.demo, and an agent connected to it in this terminal, which plays the resident.
# Without a display, it starts its own virtual screen (Xvfb) showing a sample online form.
# Open the printed address in a browser, type the code, and answer here with y or n.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

port=${ACOTE_DEMO_PORT:-8443}
data=.demo

need_build_tools
need_runtime_tools

say "building the relay and the agent (the first build takes a few minutes)"
cargo build --workspace --locked --quiet

mkdir -p "$data"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -z "${DISPLAY:-}" ]; then
  say "no display: starting a virtual screen (Xvfb, 1366x768) with a sample form in a browser"
  exec 3>"$data/display"
  Xvfb -displayfd 3 -screen 0 1366x768x24 -noreset -nolisten tcp 2>"$data/xvfb.log" &
  pids+=($!)
  for _ in $(seq 50); do [ -s "$data/display" ] && break; sleep 0.1; done
  export DISPLAY=":$(head -n1 "$data/display")"
  sandbox=""
  [ "$(id -u)" -eq 0 ] && sandbox="--no-sandbox --test-type" # root cannot use Chromium's sandbox
  # shellcheck disable=SC2086
  # No offer to translate the French form drawn over it.
  mkdir -p "$data/chromium/Default"
  [ -f "$data/chromium/Default/Preferences" ] ||
    echo '{"translate":{"enabled":false},"intl":{"accept_languages":"fr-FR,fr"}}' >"$data/chromium/Default/Preferences"
  chromium $sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --disable-quic --no-first-run --lang=fr \
    --user-data-dir="$data/chromium" \
    --window-position=0,0 --window-size=1366,768 --app="file://$PWD/docs/demo/form.html" \
    >"$data/chromium.log" 2>&1 &
  pids+=($!)
fi

# A demo caseworker to sign in with (created once; the relay requires an account).
demo_login=demo
demo_password="acote demo password"
if ! ./target/debug/acote-relay admin --data-dir "$data/relay" caseworker list 2>/dev/null | grep -q "^$demo_login"$'\t'; then
  printf '%s\n' "$demo_password" | ./target/debug/acote-relay admin --data-dir "$data/relay" \
    caseworker add "$demo_login" --name "Camille Demo" --site "Demo site" --password-stdin >/dev/null
fi

say "starting the relay on https://127.0.0.1:$port (data in $data/)"
./target/debug/acote-relay serve --listen "127.0.0.1:$port" --data-dir "$data/relay" >"$data/relay.out" 2>"$data/relay.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '^certificate sha256' "$data/relay.out" 2>/dev/null && break; sleep 0.1; done
fingerprint=$(sed -n 's/^certificate sha256 //p' "$data/relay.out")
[ -n "$fingerprint" ] || { cat "$data/relay.log" >&2; echo "the relay did not start" >&2; exit 1; }

cat >&2 <<MSG

  Caseworker: open https://127.0.0.1:$port/ in a browser. The certificate is self-signed:
  your browser will warn; its SHA-256 fingerprint is
    $fingerprint
  Sign in as "$demo_login", password "$demo_password", then type the code shown below. Resident: answer the question here (y or n); q stops sharing.
  Ctrl-C ends the demo.

MSG
./target/debug/acote-agent --relay "https://127.0.0.1:$port" --fingerprint "$fingerprint" --console
