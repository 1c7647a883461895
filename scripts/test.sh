#!/usr/bin/env bash
# Runs every Acote test: formatting, lints, unit and integration tests (real TLS, WSS,
# STUN on loopback), and the end-to-end tests (Xvfb + relay + agent + headless Chromium),
# the Windows agent's among them (cross-built once here, run under Wine).
# Installs what is missing first, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_build_tools
need_runtime_tools
need_bench_tools
need_node_tests
need_windows_build_tools
need_wine

say "checking formatting (cargo fmt --check)"
cargo fmt --all -- --check

say "linting (cargo clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "building the relay and the agent"
cargo build --workspace --locked

# The Windows agent, cross-built once for its end-to-end tests under Wine
# (tests/e2e/windows.test.mjs; docs/platforms.md).
bash scripts/build-windows.sh

say "unit and integration tests"
cargo test --workspace --locked

say "a short load run on a real relay (the full one is acote-bench load, on purpose)"
./target/debug/acote-bench load --agents 100 --sessions 5 --json target/load-short.json

# The fuzz targets (fuzz/, outside the workspace) are built and run briefly so they never
# rot; long runs are done on purpose (see docs/reliability.md).
need_cargo_fuzz
say "building the fuzz targets and running each for 10 seconds"
(cd fuzz && for target in $(cargo fuzz list); do
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" -- -max_total_time=10 2>&1 | tail -n 2
done)

say "the viewer's own unit tests (Node's test runner, no browser)"
(cd tests && node --test unit/)

say "end-to-end tests: Xvfb, relay, agent and the viewer in headless Chromium"
(cd tests && node --test e2e/)

