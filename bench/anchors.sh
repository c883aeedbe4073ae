#!/usr/bin/env bash
# Installs the anchors the bench compares coretool with, pinned, into build/bench/bin, and writes
# what happened to build/bench/anchors.txt (one "name<TAB>status<TAB>detail" line each):
#
#   gdb       the system's gdb (Debian package); the Go side is each toolchain's own
#             src/runtime/runtime-gdb.py, sourced explicitly by the bench
#   dlv       github.com/go-delve/delve/cmd/dlv, one pinned version per core's Go version
#             ($DLV_VERSIONS: Delve refuses cores of Go versions it does not support), each in
#             build/bench/bin/dlv@VERSION/dlv, linked as build/bench/bin/dlv-<go>
#   viewcore  cmd/viewcore of golang.org/x/debug, built from the source in $VIEWCORE_SRC (the
#             module proxy does not serve that module); without a source, go install of
#             golang.org/x/debug/cmd/viewcore@$VIEWCORE_VERSION is tried, as before
#   grf       goref's cmd/grf (github.com/cloudwego/goref), built from the source in $GOREF_SRC
#             (its Delve comes from the module proxy, at the version its go.mod names); without a
#             source, go install of github.com/cloudwego/goref/cmd/grf@$GOREF_VERSION is tried
#
# A source is a Go module tree (a directory with go.mod) or a git directory (a bare clone or a
# mirror snapshot: its HEAD is exported). It is copied to build/bench/src/<name> and built there
# (go build may add to go.mod/go.sum: never in the given tree) with the go1.26 toolchain,
# GOTOOLCHAIN=local GOFLAGS=-mod=mod, and rebuilt only when its commit (or its files) change.
# The defaults are the snapshots under /work/.mirror when they exist.
#
# An anchor that cannot be installed is recorded as such ("unavailable" with the reason); the
# bench then says so in its results instead of failing.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
bin=$out/bin
# v1.27.2 is the newest Delve (Go 1.25 to 1.27); v1.24.2 the newest that opens Go 1.23 cores
DLV_VERSIONS=${DLV_VERSIONS:-go1.26=v1.27.2 go1.23=v1.24.2}
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

# short_log LOG: the last lines of a failed build or install, without host names
# (URLs become "the module proxy")
short_log() {
	grep -v '^\s*$' "$1" 2>/dev/null | tail -2 | tr '\n\t' '  ' |
		sed -E 's#https?://[^ ]*#the module proxy#g; s#  +# #g; s# $##'
}

# src_rev SRC: prints the source's revision ("git <commit> <date>" or "tree <hash>"); fails when
# SRC is neither a git directory nor a module tree
src_rev() {
	local src=$1
	if [ -d "$src/objects" ] && git --git-dir="$src" rev-parse -q --verify HEAD >/dev/null 2>&1; then
		echo "git $(git --git-dir="$src" rev-parse HEAD) $(git --git-dir="$src" log -1 --format=%cs HEAD)"
	elif [ -f "$src/go.mod" ]; then
		echo "tree $(cd "$src" && find . -path ./.git -prune -o -type f \( -name '*.go' -o -name 'go.*' \) -print0 |
			LC_ALL=C sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)"
	else
		return 1
	fi
}

# src_build NAME SRC PKG LOG: builds package PKG (./cmd/...) of SRC into build/bench/bin/NAME
# unless it was built from the same revision already
src_build() {
	local name=$1 src=$2 pkg=$3 log=$4 rev tree=$out/src/$1 stamp=$bin/.$1.src
	rev=$(src_rev "$src") || return 2
	if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$rev" ]; then
		return 0
	fi
	rm -rf "$tree" "$stamp"
	mkdir -p "$tree"
	case $rev in
	git*) git --git-dir="$src" archive HEAD | tar -x -C "$tree" ;;
	*) (cd "$src" && tar -c --exclude=./.git .) | tar -x -C "$tree" ;;
	esac
	if (cd "$tree" && GOTOOLCHAIN=local GOFLAGS=-mod=mod timeout 900 nice "$go" build -o "$bin/$name.new" "$pkg") >"$log" 2>&1; then
		rm -f "$bin/$name"
		mv -f "$bin/$name.new" "$bin/$name"
		echo "$rev" >"$stamp"
		return 0
	fi
	rm -f "$bin/$name.new"
	return 1
}

# src_anchor NAME SRC PKG MODPATH VERSION WHAT: builds NAME from SRC, or installs MODPATH@VERSION
# when there is no source, and records the result
src_anchor() {
	local name=$1 src=$2 pkg=$3 mod=$4 ver=$5 what=$6 log=$out/install-$1.log rev rc
	if [ -n "$src" ] && rev=$(src_rev "$src"); then
		src_build "$name" "$src" "$pkg" "$log"
		rc=$?
		if [ $rc -eq 0 ]; then
			record "$name" ok "$what built from source ($rev; $pkg)$(extra_$name)"
		else
			rm -f "$bin/$name"
			record "$name" unavailable "go build $pkg of the source ($rev) failed: $(short_log "$log")"
		fi
		return
	fi
	local why="no source (${src:-unset}: neither a git directory nor a module tree)"
	if go_install "$bin/$name@$ver" "$mod" "$ver" "$log"; then
		ln -sfn "$name@$ver/$name" "$bin/$name"
		record "$name" ok "$what ($mod@$ver)$(extra_$name)"
	else
		rm -f "$bin/$name"
		record "$name" unavailable "$why; go install $mod@$ver failed: $(short_log "$log")"
	fi
}

extra_viewcore() { :; }
extra_grf() { # the Delve goref reads cores with
	local d
	d=$("$go" version -m "$bin/grf" 2>/dev/null | awk '$2 == "github.com/go-delve/delve" {print $3}')
	[ -n "$d" ] && printf ', with Delve %s' "$d"
}

VIEWCORE_VERSION=${VIEWCORE_VERSION:-latest}
GOREF_VERSION=${GOREF_VERSION:-latest}
mirror=/work/.mirror
VIEWCORE_SRC=${VIEWCORE_SRC-$([ -d "$mirror/golang+debug/repo" ] && echo "$mirror/golang+debug/repo")}
GOREF_SRC=${GOREF_SRC-$([ -d "$mirror/cloudwego+goref/repo" ] && echo "$mirror/cloudwego+goref/repo")}
src_anchor viewcore "$VIEWCORE_SRC" ./cmd/viewcore golang.org/x/debug/cmd/viewcore "$VIEWCORE_VERSION" viewcore
src_anchor grf "$GOREF_SRC" ./cmd/grf github.com/cloudwego/goref/cmd/grf "$GOREF_VERSION" "goref grf"

mv -f "$status" "$out/anchors.txt"
cat "$out/anchors.txt"
