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
need_container_tools
need_postgres
need_acme_authority
need_bench_tools
need_node_tests
need_windows_build_tools
need_wine

say "checking formatting (cargo fmt --check)"
cargo fmt --all -- --check

# Clippy's lints run inside the build itself: its driver is the workspace's compiler
# wrapper, as `cargo clippy` sets it up, but compiling rather than only checking, so the
# dependencies are compiled once instead of checked and then compiled again. Every
# target is built (benches too), so this is `cargo clippy --workspace --all-targets --
# -D warnings`, the command a developer runs.
clippy_driver=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
linted() {
  RUSTC_WORKSPACE_WRAPPER="$clippy_driver" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" \
    cargo "$@"
}

say "building the relay, the agent and every test, with clippy's lints (warnings are errors)"
linted test --workspace --all-targets --locked --no-run
linted build --workspace --locked

# The Windows agent, cross-built once for its end-to-end tests under Wine
# (tests/e2e/windows.test.mjs; docs/platforms.md).
bash scripts/build-windows.sh

say "unit and integration tests"
linted test --workspace --locked

say "a short load run on a real relay (the full one is acote-bench load, on purpose)"
./target/debug/acote-bench load --agents 100 --sessions 5 --json target/load-short.json
say "the same across three relays sharing a PostgreSQL the bench starts (issue 19)"
./target/debug/acote-bench load --agents 100 --sessions 6 --relays 3 --json target/load-short-3.json

# The fuzz targets (fuzz/, outside the workspace) are built and run briefly so they never
# rot; long runs are done on purpose, optimised and with AddressSanitizer (see
# docs/reliability.md). Here they are built unoptimised and without a sanitizer (safe
# Rust; debug assertions and overflow checks on): 2.5 minutes instead of 9.5 to build.
need_cargo_fuzz
say "building the fuzz targets (unoptimised, no sanitizer) and running each for 5 seconds"
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build --dev -s none && for target in $(cargo fuzz list); do
  RUSTC_BOOTSTRAP=1 cargo fuzz run --dev -s none "$target" -- -max_total_time=5 2>&1 | tail -n 2
done)

say "the viewer's own unit tests (Node's test runner, no browser)"
(cd tests && node --test unit/)

# Two test files at a time: many wait on timers, and each starts its own Xvfb, relay and
# browser. Not the files that add network interfaces to this machine's own namespace
# (veths, a TUN): a WebRTC session of a test beside them may pick a path over one of
# those interfaces, which goes away with its test (seen: a session ended). They run
# after, one at a time.
alone=(e2e/faults.test.mjs e2e/turn.test.mjs e2e/bench.test.mjs)
say "end-to-end tests: Xvfb, relay, agent and the viewer in headless Chromium (two files at a time)"
(cd tests && node --test --test-concurrency=2 $(ls e2e/*.test.mjs | grep -v -F -x "${alone[@]/#/-e}"))
say "end-to-end tests that add network interfaces (one at a time)"
(cd tests && node --test "${alone[@]}")

