#!/usr/bin/env bash
# Puts Capstone 5 (Debian trixie's libcapstone-dev: headers and the static library) under
# build/capstone/, unpacked with dpkg -x through a private apt state: nothing system-wide
# changes. Why not Debian 12's libcapstone-dev (4.0.2): it cannot decode EVEX (AVX-512)
# instructions, and glibc's string functions use them on current CPUs (__strcmp_evex):
# a fault there would have no decoded instruction. The static library is linked into the CLI
# and libcoretool.so (no run-time path to a private directory).
# Idempotent: nothing is fetched when build/capstone/usr/lib/x86_64-linux-gnu/libcapstone.a is there.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${CAPSTONE_DIR:-$top/build/capstone}
lib="$dest/usr/lib/x86_64-linux-gnu/libcapstone.a"
[ -e "$lib" ] && [ -e "$dest/usr/include/capstone/capstone.h" ] && exit 0

log() { echo "capstone: $*" >&2; }
APT_STATE="$dest/.apt"
. "$top/scripts/debian_apt.sh"
apt_private
ver=$(apt-cache "${APTOPT[@]}" show "libcapstone-dev/trixie" 2>/dev/null | awk '/^Version:/ {print $2; exit}')
[ -n "$ver" ] || { log "no libcapstone-dev in trixie"; exit 1; }
rm -rf "$dest/debs" && mkdir -p "$dest/debs"
log "fetching libcapstone-dev $ver (trixie) from Debian"
(cd "$dest/debs" && apt-get "${APTOPT[@]}" -qq download "libcapstone-dev=$ver" >&2)
for deb in "$dest/debs"/*.deb; do dpkg -x "$deb" "$dest"; done
rm -rf "$dest/debs"
[ -e "$lib" ] || { log "$lib missing after unpacking"; exit 1; }
log "Capstone $ver in $dest"
