# Shared helpers for scripts/demo.sh and scripts/test.sh: say what is happening, and
# install what is missing (Debian packages, the e2e tests' npm packages) before using it.

# Each step says when it starts, so a slow one shows in the log.
say() { printf '\033[1m==> [%s] %s\033[0m\n' "$(date +%T)" "$*" >&2; }

# need_apt CMD:PACKAGE ... — installs PACKAGE when CMD is not on the PATH.
need_apt() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}
    pkg=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_install "${missing[@]}"
}

# Installs Debian packages by name.
apt_install() {
  say "installing Debian packages: $*"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# What building, the demo and the tests use. nasm lets OpenH264 build its SIMD code.
# libfontconfig-dev: the resident's window (Slint's font library, fontique) links
# fontconfig to find the system's fonts beside the ones built into the agent.
need_build_tools() {
  need_apt g++:g++ nasm:nasm pkg-config:pkg-config
  # cmake builds libopus (the voice call's codec) from its bundled sources; ALSA's
  # headers let the agent reach the microphone and speakers on Linux.
  need_apt cmake:cmake
  pkg-config --exists alsa || apt_install libasound2-dev
  pkg-config --exists fontconfig || apt_install libfontconfig-dev
  # OpenSSL headers for webauthn-rs (the relay's passkeys).
  pkg-config --exists openssl || apt_install libssl-dev
}

# adduser and systemd-analyze: the Debian package's test installs it and checks its unit.
need_runtime_tools() {
  need_apt Xvfb:xvfb xsetroot:x11-xserver-utils xdpyinfo:x11-utils chromium:chromium \
    setxkbmap:x11-xkb-utils xdotool:xdotool ip:iproute2 nft:nftables import:imagemagick \
    xclip:xclip adduser:adduser systemd-analyze:systemd
  # The voice call's test: a PulseAudio server with null sinks is the resident's sound
  # card, reached through ALSA's pulse plugin (tests/e2e/voice.test.mjs).
  need_apt pulseaudio:pulseaudio paplay:pulseaudio-utils
  [ -e /usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so ] || apt_install libasound2-plugins
}

# podman builds the relay's container image in its test (tests/e2e/package.test.mjs);
# debootstrap makes its Debian base, as no registry is reachable from the test machines.
need_container_tools() {
  need_apt podman:podman debootstrap:debootstrap
}

# PostgreSQL for the relay's store tests on a real server (relay/tests/postgres.rs starts
# its own, in a temporary folder); the package's own cluster is not used.
need_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || apt_install postgresql
}

# Let's Encrypt's test authority and its DNS, for the relay's ACME test (relay/tests/acme.rs).
need_acme_authority() {
  need_apt pebble:pebble pebble-challtestsrv:pebble
}

# The video bench compares Acote with x11vnc seen through TigerVNC's viewer.
need_bench_tools() {
  need_apt x11vnc:x11vnc xtigervncviewer:tigervnc-viewer
}

# cargo-fuzz from crates.io; it needs nightly features, which RUSTC_BOOTSTRAP=1 allows
# on the machine's one (stable) toolchain.
need_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (the fuzzing front-end) from crates.io"
    cargo install cargo-fuzz --locked --quiet
  fi
}

need_node_tests() {
  need_apt node:nodejs npm:npm
  if [ ! -d tests/node_modules/playwright-core ]; then
    say "installing the end-to-end tests' npm packages (playwright-core; it downloads no browser)"
    (cd tests && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The Windows agent's cross-build (scripts/build-windows.sh): Debian's rust-web compiler,
# cargo and std sources (build-std), mingw-w64's C and C++ compilers (ring, OpenH264),
# nasm for OpenH264's win64 assembly; that toolchain's clippy lints the Windows-only code.
need_windows_build_tools() {
  local missing=() pkg
  for pkg in rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 nasm cmake; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# Wine runs the Windows agent's end-to-end tests (tests/e2e/windows*.test.mjs).
# The tests also start a Windows whose language is Ukrainian: Wine takes Windows'
# language from the Unix locale, which must exist on the machine.
need_wine() {
  [ -x /usr/lib/wine/wine64 ] || apt_install wine64 wine
  # Xorg's dummy driver: a PC with two monitors, whose RandR outputs Wine lists as
  # monitors (Xvfb has a single output).
  [ -e /usr/lib/xorg/modules/drivers/dummy_drv.so ] || apt_install xserver-xorg-core xserver-xorg-video-dummy
  if ! locale -a 2>/dev/null | grep -qi '^uk_UA\.utf-\?8$'; then
    command -v localedef >/dev/null 2>&1 || apt_install locales
    say "generating the uk_UA.UTF-8 locale (a Ukrainian Windows under Wine, for the tests)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo localedef -i uk_UA -f UTF-8 uk_UA.UTF-8
  fi
}
