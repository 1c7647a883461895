#!/usr/bin/env bash
# Cross-builds the Windows agent, target/x86_64-pc-windows-gnu/debug/acote-agent.exe (or
# release with --release), on Debian: its rust-web toolchain (rustup cannot add targets
# here) rebuilds std for the target (-Zbuild-std, allowed by RUSTC_BOOTSTRAP=1 on a
# stable compiler) and mingw-w64 links. Debian's rustc and cargo are called by full path:
# rustup's stay first on the PATH. Its own target dir: a different rustc than rustup's,
# so no artefact is shared with the Linux build. See docs/platforms.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

need_windows_build_tools

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_WINDOWS:-$PWD/target-windows}"
say "cross-building the Windows agent (x86_64-pc-windows-gnu) into $CARGO_TARGET_DIR"
# Dependencies at opt-level 1 rather than the workspace's 3: std and every dependency are
# compiled from source here, and on two cores level 3 costs much of the CI's hour. Level 1
# keeps the encoder and crypto fast enough for the tests under Wine.
# OpenH264's C++ must not ask for libstdc++-6.dll (the agent is one file): the cc crate
# links no C++ library (an empty CXXSTDLIB), and agent/build.rs links it statically.
export CXXSTDLIB_x86_64_pc_windows_gnu=
# Clippy's lints run inside this build, as in scripts/test.sh, with the same toolchain's
# driver (rust-web-clippy): the Windows-only code is linted too, warnings are errors.
RUSTC_WORKSPACE_WRAPPER=/usr/bin/clippy-driver \
  CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" \
  RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo build --locked -p acote-agent \
  -Zbuild-std=std,panic_abort --target x86_64-pc-windows-gnu \
  --config 'profile.dev.package."*".opt-level=1' "$@"
