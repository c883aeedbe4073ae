#!/usr/bin/env bash
# Puts other glibc versions than the machine's under build/glibc/<name>/ (libc6 and its
# detached debug info, libc6-dbg, from Debian's archive, unpacked with dpkg -x: nothing
# system-wide changes) and lists them in build/glibc/list, one "name root version" per line.
# samples/build.sh links the plain C sample against each (its own dynamic linker and rpath),
# so that the C heap model meets real heaps of more than one glibc.
#   GLIBCS="trixie"   which Debian suites to take libc6 from (default: trixie, glibc 2.41)
# Idempotent: a glibc whose libc.so.6 is there is not fetched again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${GLIBC_DIR:-$top/build/glibc}
mkdir -p "$dest"
want=${GLIBCS:-trixie}

log() { echo "glibc: $*" >&2; }
APT_STATE="$top/build/toolchains/.apt"
. "$top/scripts/debian_apt.sh"

: > "$dest/list.tmp"
for suite in $want; do
  root="$dest/$suite/x"
  if [ ! -e "$root/usr/lib/x86_64-linux-gnu/libc.so.6" ]; then
    apt_private
    ver=$(apt-cache "${APTOPT[@]}" show "libc6/$suite" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
    [ -n "$ver" ] || { log "no libc6 in $suite"; exit 1; }
    rm -rf "$dest/$suite" && mkdir -p "$dest/$suite"
    log "fetching libc6 and libc6-dbg $ver ($suite) from Debian"
    (cd "$dest/$suite" && apt-get "${APTOPT[@]}" -qq download "libc6=$ver" "libc6-dbg=$ver" >&2)
    for deb in "$dest/$suite"/*.deb; do dpkg -x "$deb" "$root"; done
    rm -f "$dest/$suite"/*.deb
  fi
  libc="$root/usr/lib/x86_64-linux-gnu/libc.so.6"
  # "GNU C Library (Debian GLIBC 2.41-12) stable release version 2.41."
  v=$(strings "$libc" | grep -oE 'release version [0-9]+\.[0-9]+' | head -n1 | awk '{print $3}')
  [ -n "$v" ] || { log "$libc: no version string"; exit 1; }
  echo "glibc$v $(cd "$root" && pwd -P) $v" >> "$dest/list.tmp"
done
mv "$dest/list.tmp" "$dest/list"
cat "$dest/list" >&2
