#!/usr/bin/env bash
# The video bench: latency, bandwidth, CPU and sharpness of Acote beside x11vnc and beside
# Chromium's own screen sharing (getDisplayMedia), on a real
# X screen with a real browser, over emulated networks (tests/bench/video.mjs says how each
# figure is taken). Installs what is missing, builds, runs, and writes
# bench-results/video.json and bench-results/video-summary.md.
#
#   bash scripts/bench.sh                 # the default set (about 6 minutes once built)
#   bash scripts/bench.sh --set full      # every size, network and scenario
#   bash scripts/bench.sh --help          # all options
#
# Needs root: it creates a network namespace and TUN devices.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_build_tools
need_runtime_tools
need_bench_tools
need_node_tests

# The profile the tests use (our code at opt-level 1, every dependency — codecs, crypto,
# WebRTC — at opt-level 3), so the bench needs no second build.
say "building the relay, the agent and the bench probes"
cargo build --locked -p acote-relay -p acote-agent -p acote-bench

say "running the video bench (figures, never pass/fail)"
node tests/bench/video.mjs "$@"
