#!/usr/bin/env bash
# Builds the relay's Debian package: target/debian/acote-relay_VERSION_ARCH.deb.
#
#   bash scripts/package-deb.sh            # builds the relay (release) and packages it
#   bash scripts/package-deb.sh --bin PATH # packages a binary already built
#
# The tests package the binary they built (--bin target/debug/acote-relay) rather than
# build the relay a second time. The package holds /usr/bin/acote-relay,
# /etc/acote/relay.toml (a conffile: an admin's edits survive upgrades), the systemd
# unit, and in /usr/share/doc/acote-relay the deployment guide and the commands' --help
# texts. The maintainer scripts (packaging/debian/) create the `acote` system user and
# /var/lib/acote (0700); removing the package keeps that folder. Needs only dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: $0 [--bin PATH]" >&2; exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  say "building acote-relay (release profile)"
  cargo build --locked --release -p acote-relay
  bin=target/release/acote-relay
fi
[ -x "$bin" ] || { echo "no relay binary at $bin" >&2; exit 2; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
root="target/debian/acote-relay_${version}_${arch}"
say "assembling $root.deb"
rm -rf "$root"
install -D -m 0755 "$bin" "$root/usr/bin/acote-relay"
strip --strip-debug "$root/usr/bin/acote-relay" 2>/dev/null || true
install -D -m 0644 packaging/relay.toml "$root/etc/acote/relay.toml"
install -D -m 0644 packaging/acote-relay.service "$root/usr/lib/systemd/system/acote-relay.service"
doc="$root/usr/share/doc/acote-relay"
install -D -m 0644 docs/deployment.md "$doc/deployment.md"
{
  "$bin" --help
  for cmd in serve admin; do printf '\n\n$ acote-relay %s --help\n\n' "$cmd"; "$bin" "$cmd" --help; done
} > "$doc/usage.txt"
chmod 0644 "$doc/usage.txt"
printf 'Acote relay\nLicense: AGPL-3.0-or-later\n' > "$doc/copyright"
chmod 0644 "$doc/copyright"

# What the binary links to, as the packages that hold those libraries.
depends=$(ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do
  pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n 1 | cut -d: -f1) \
    || pkg=$(dpkg -S "$lib" 2>/dev/null | head -n 1 | cut -d: -f1) || true
  [ -n "$pkg" ] || continue
  ver=$(dpkg-query -W -f='${Version}' "$pkg" | sed 's/-[^-]*$//')
  echo "$pkg (>= $ver)"
done | sort -u | paste -sd, - | sed 's/,/, /g')

install -d "$root/DEBIAN"
cat > "$root/DEBIAN/control" <<CONTROL
Package: acote-relay
Version: $version
Architecture: $arch
Maintainer: Acote developers <acote@localhost>
Section: net
Priority: optional
Depends: adduser${depends:+, $depends}
Installed-Size: $(du -sk "$root" --exclude=DEBIAN | cut -f1)
Description: Acote relay: remote assistance for social work
 Pairs a resident's Acote agent with a caseworker's browser, serves the viewer
 page, relays media through its TURN service when no direct path exists, and
 keeps a hash-chained audit log. The screen itself is end-to-end encrypted
 between the two sides: the relay never sees it.
CONTROL
echo /etc/acote/relay.toml > "$root/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
dpkg-deb --root-owner-group --build "$root" "$root.deb" >/dev/null
echo "$root.deb"
