#!/usr/bin/env bash
# Puts one GOROOT per Go version under build/toolchains/go<version>/ and lists them in
# build/toolchains/list (one "name goroot" per line).
#   - classic-map Go (1.21-1.23) and 1.24/1.25 from Debian's archive, unpacked with dpkg -x into
#     the project folder through a private apt state (nothing system-wide changes);
#   - the machine's own Go;
#   - Go 1.27.3 through GOTOOLCHAIN (the Go module proxy).
# Idempotent: a toolchain whose bin/go runs is not fetched again.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${TOOLCHAINS_DIR:-$top/build/toolchains}
mkdir -p "$dest"
# Which toolchains: override with TOOLCHAINS="go1.22 go1.26".
want=${TOOLCHAINS:-"go1.22 go1.23 go1.24 go1.25 go1.26 go1.27"}

log() { echo "toolchains: $*" >&2; }

have() { [ -x "$dest/$1/bin/go" ] && "$dest/$1/bin/go" version >/dev/null 2>&1; }

# Debian's archive through a private apt state (scripts/debian_apt.sh).
APT_STATE="$dest/.apt"
. "$top/scripts/debian_apt.sh"

from_debian() { # name minor  e.g. go1.22 1.22
  local name=$1 minor=$2 root="$dest/.debs/$1"
  apt_private
  rm -rf "$root" && mkdir -p "$root"
  log "fetching golang-$minor-go and golang-$minor-src from Debian"
  (cd "$root" && apt-get "${APTOPT[@]}" -qq download "golang-$minor-go" "golang-$minor-src" >&2)
  for deb in "$root"/*.deb; do dpkg -x "$deb" "$root/x"; done
  rm -f "$root"/*.deb
  ln -sfn "$root/x/usr/lib/go-$minor" "$dest/$name"
}

from_machine() {
  local name=$1 goroot
  goroot=$(go env GOROOT)
  case "$(go env GOVERSION)" in "$name"|"$name".*) ;; *) log "machine Go is $(go env GOVERSION), not $name"; return 1;; esac
  ln -sfn "$goroot" "$dest/$name"
}

from_proxy() { # name full-version
  local name=$1 full=$2 goroot
  log "fetching $full through GOTOOLCHAIN"
  goroot=$(cd /tmp && GOTOOLCHAIN=$full go env GOROOT)
  ln -sfn "$goroot" "$dest/$name"
}

machine_minor=$(go env GOVERSION 2>/dev/null | grep -oE '^go1\.[0-9]+' || true)
for t in $want; do
  if have "$t"; then continue; fi
  case "$t" in
    "$machine_minor") from_machine "$t" ;;
    go1.21|go1.22|go1.23|go1.24|go1.25) from_debian "$t" "${t#go}" ;;
    go1.27) from_proxy "$t" go1.27.3 ;;
    *) log "unknown toolchain $t"; exit 1 ;;
  esac
  have "$t" || { log "$t does not run after install"; exit 1; }
done

: > "$dest/list.tmp"
for t in $want; do
  echo "$t $(cd "$dest/$t" && pwd -P) $("$dest/$t/bin/go" env GOVERSION)" >> "$dest/list.tmp"
done
mv "$dest/list.tmp" "$dest/list"
cat "$dest/list" >&2
