#!/usr/bin/env bash
# Installs the anchors the bench compares coretool with, pinned, into build/bench/bin, and writes
# what happened to build/bench/anchors.txt (one "name<TAB>status<TAB>detail" line each):
#
#   gdb       the system's gdb (Debian package); the Go side is each toolchain's own
#             src/runtime/runtime-gdb.py, sourced explicitly by the bench
#   dlv       github.com/go-delve/delve/cmd/dlv, one pinned version per core's Go version
#             ($DLV_VERSIONS: Delve refuses cores of Go versions it does not support), each in
#             build/bench/bin/dlv@VERSION/dlv, linked as build/bench/bin/dlv-<go>
#   viewcore  golang.org/x/debug/cmd/viewcore@$VIEWCORE_VERSION (go install, same way)
#
# An anchor that cannot be installed is recorded as such ("unavailable" with the reason); the
# bench then says so in its results instead of failing.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
bin=$out/bin
# v1.27.2 is the newest Delve (Go 1.25 to 1.27); v1.24.2 the newest that opens Go 1.23 cores
DLV_VERSIONS=${DLV_VERSIONS:-go1.26=v1.27.2 go1.23=v1.24.2}
VIEWCORE_VERSION=${VIEWCORE_VERSION:-latest}
go=${GO:-$(awk '$1 == "go1.26" {print $2 "/bin/go"}' "$top/build/toolchains/list" 2>/dev/null)}
[ -x "${go:-}" ] || go=$(command -v go)
mkdir -p "$bin"
status=$out/anchors.txt.tmp
: >"$status"

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$status"; }

if command -v gdb >/dev/null; then
	record gdb ok "$(gdb --version | head -1)"
else
	record gdb unavailable "gdb is not installed (scripts/install-deps.sh installs it)"
fi

# go_install DIR PKG VERSION LOG: installs PKG@VERSION into DIR unless it was built from it already
go_install() {
	local dir=$1 pkg=$2 ver=$3 log=$4 stamp=$1/.version
	mkdir -p "$dir"
	if [ "$(cat "$stamp" 2>/dev/null)" = "$pkg@$ver" ]; then
		return 0
	fi
	if GOBIN=$dir GOTOOLCHAIN=local GOFLAGS=-mod=mod timeout 600 "$go" install "$pkg@$ver" >"$log" 2>&1; then
		echo "$pkg@$ver" >"$stamp"
		return 0
	fi
	rm -f "$stamp"
	return 1
}

for pair in $DLV_VERSIONS; do
	tc=${pair%%=*} ver=${pair#*=}
	dir=$bin/dlv@$ver
	if go_install "$dir" github.com/go-delve/delve/cmd/dlv "$ver" "$out/install-dlv@$ver.log"; then
		ln -sfn "dlv@$ver/dlv" "$bin/dlv-$tc"
		record "dlv-$tc" ok "Delve $("$dir/dlv" version 2>/dev/null | awk '/^Version:/ {print $2}') (github.com/go-delve/delve/cmd/dlv@$ver)"
	else
		rm -f "$bin/dlv-$tc"
		record "dlv-$tc" unavailable "go install github.com/go-delve/delve/cmd/dlv@$ver failed: $(grep -v '^\s*$' "$out/install-dlv@$ver.log" | tail -1 | sed -E 's#https?://[^ ]*#the module proxy#g')"
	fi
done

if go_install "$bin/viewcore@$VIEWCORE_VERSION" golang.org/x/debug/cmd/viewcore "$VIEWCORE_VERSION" "$out/install-viewcore.log"; then
	ln -sfn "viewcore@$VIEWCORE_VERSION/viewcore" "$bin/viewcore"
	record viewcore ok "viewcore (golang.org/x/debug/cmd/viewcore@$VIEWCORE_VERSION)"
else
	# keep the reason short: the module proxy's or the network's answer
	# (no host names in what the results quote: URLs become "the module proxy")
	why=$(grep -v '^\s*$' "$out/install-viewcore.log" | tail -2 | tr '\n\t' '  ' |
		sed -E 's#https?://[^ ]*#the module proxy#g; s#  +# #g; s# $##')
	record viewcore unavailable "go install golang.org/x/debug/cmd/viewcore@$VIEWCORE_VERSION failed: ${why:-see build/bench/install-viewcore.log}"
fi

mv -f "$status" "$out/anchors.txt"
cat "$out/anchors.txt"
