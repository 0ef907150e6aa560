#!/usr/bin/env bash
# Builds the Debian package (dpkg-buildpackage -b) and checks the .deb: the
# binary runs, the systemd unit is there with DynamicUser and passes
# systemd-analyze verify, /etc/bankfeed/bankfeed.conf is a conffile equal
# to `bankfeed config --env`, libcurl4 is a dependency.
#
# dpkg-buildpackage writes the .deb into the parent folder and leaves build
# files in the tree, so the build runs in a copy of the tree in /tmp: a clone
# stays clean.  The tests are not run again (nocheck): scripts/test.sh ran
# them just before.  With OUTDIR, the .deb is copied there.
#
# usage: scripts/package.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-}
start=$SECONDS
tmp=$(mktemp -d /tmp/bankfeed-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "package: $*" >&2; exit 1; }

# The tree as a clone would have it, with uncommitted changes: tracked and
# new files, not ignored ones (build dirs, node_modules, data).
mkdir "$tmp/src"
git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$tmp/src" -xf -
if ! (cd "$tmp/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
      dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1); then
  tail -n 40 "$tmp/build.log" >&2
  fail "dpkg-buildpackage failed"
fi
debs=("$tmp"/bankfeed_*.deb)
deb=${debs[0]}
[ -f "$deb" ] || fail "no .deb was made"

contents=$(dpkg-deb -c "$deb")
for f in 'usr/bin/bankfeed' '(usr/)?lib/systemd/system/bankfeed\.service' \
         'etc/bankfeed/bankfeed\.conf' 'usr/share/doc/bankfeed/README\.md\.gz'; do
  grep -Eq " \./$f\$" <<<"$contents" || fail "$f is not in $(basename "$deb")"
done
dpkg-deb -f "$deb" Depends | grep -Eq '(^|, )libcurl4( |,|$)' ||
  fail "libcurl4 (opened with dlopen) is not in Depends"
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/bankfeed/bankfeed.conf "$tmp/control/conffiles" ||
  fail "/etc/bankfeed/bankfeed.conf is not a conffile"

dpkg-deb -x "$deb" "$tmp/root"
bin="$tmp/root/usr/bin/bankfeed"
for unit in "$tmp"/root/{usr/,}lib/systemd/system/bankfeed.service; do
  [ -f "$unit" ] && break
done
"$bin" version | grep -q "^bankfeed " || fail "the packaged binary does not run"
"$bin" config --env | diff -u - "$tmp/root/etc/bankfeed/bankfeed.conf" ||
  fail "the packaged bankfeed.conf is not bankfeed config --env"
for want in DynamicUser=yes StateDirectory=bankfeed ProtectSystem=strict \
            EnvironmentFile=/etc/bankfeed/bankfeed.conf; do
  grep -qx "$want" "$unit" || fail "the unit lacks $want"
done
if command -v systemd-analyze >/dev/null 2>&1; then
  # verify wants ExecStart's program to exist: the one from the package.
  sed "s#/usr/bin/bankfeed#$bin#" "$unit" >"$tmp/bankfeed.service"
  systemd-analyze verify "$tmp/bankfeed.service" || fail "systemd-analyze verify"
fi

if [ -n "$out" ]; then
  mkdir -p "$out"
  cp "$deb" "$out/"
fi
echo "package: $(basename "$deb") ($(( $(stat -c %s "$deb") / 1024 )) KB) built and checked in $(( SECONDS - start )) s"
