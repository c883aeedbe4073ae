#!/usr/bin/env bash
# Installs Delve (the Go debugger) into build/delve/dlv with the Go 1.26 toolchain of
# build/toolchains/list, from the Go module proxy. samples/build.sh dumps a running sample
# with it (its `dump` command writes an ELF core of its own kind, which coretool reads).
# Pinned: Delve v1.27.2 (go.mod: go 1.25; supports Go 1.25-1.27; the version tests/test_maps.py
# compares map entries with). Older Go programs are dumped with --check-go-version=false.
# Idempotent: an installed dlv of the pinned version is kept.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${DELVE_DIR:-$top/build/delve}
version=v1.27.2
log() { echo "delve: $*" >&2; }

if [ -x "$dest/dlv" ] && "$dest/dlv" version 2>/dev/null | grep -q "Version: ${version#v}"; then
	exit 0
fi
goroot=$(awk '$1 == "go1.26" { print $2 }' "$top/build/toolchains/list" 2>/dev/null || true)
if [ -z "$goroot" ] || [ ! -x "$goroot/bin/go" ]; then
	log "no go1.26 in build/toolchains/list: run scripts/toolchains.sh first"
	exit 2
fi
mkdir -p "$dest"
log "building github.com/go-delve/delve/cmd/dlv@$version with $("$goroot/bin/go" env GOVERSION)"
# CGO off: a static dlv that needs nothing of the machine's C toolchain.
(cd /tmp && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
	GOBIN="$dest" "$goroot/bin/go" install "github.com/go-delve/delve/cmd/dlv@$version") >&2
"$dest/dlv" version >&2
