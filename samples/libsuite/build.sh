#!/usr/bin/env bash
# Builds the libxml2 crash suite (samples/libsuite/xmlcrash: Go + cgo + Debian's libxml2) and
# crashes every case into a real core file with its ground truth, once per Go toolchain of
# build/toolchains/list:
#
#   build/samples/libsuite/<toolchain>/bin/xmlcrash
#   build/samples/libsuite/<toolchain>/<case>/{core,exe,truth.json,stdout.txt,stderr.txt,status}
#
# exe is a hard link to (or copy of) the binary that crashed.
#
# Environment (as samples/build.sh):
#   TOOLCHAINS="go1.22 go1.26"   only these toolchains (default: every line of the list)
#   CASES="doc-map-uaf ..."      only these cases (space or comma separated; default: all)
#   JOBS=N                       toolchains built/run in parallel (default: number of CPUs)
#   FORCE=1                      re-run every case even when its core is up to date
#   LIBSUITE_OUT=DIR             output directory (default: build/samples/libsuite)
#   CORE_MODE=kernel|gdb         default: kernel when core_pattern is a plain relative name,
#                                else gdb (run under gdb, gcore at the signal that kills it)
#   RUN_TIMEOUT=S                seconds per run (default 120)
#
# Incremental: a binary is rebuilt when a source is newer than its stamp (and replaced only if
# its bytes changed); a case is re-run unless its core and truth.json are newer than the
# binary. Prints one line per core and exits non-zero if any core or truth is missing.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
src=$top/samples/libsuite
out=${LIBSUITE_OUT:-$top/build/samples/libsuite}
list=$top/build/toolchains/list

ALL_CASES="doc-map-uaf reader-null node-double-free stale-node-slice freed-string-global buffer-write-uaf buffer-append-uaf go-handler-uaf deep-tree-overflow"
RUN_TIMEOUT=${RUN_TIMEOUT:-120}

log() { echo "libsuite: $*" >&2; }

want_case() {
	[ -z "${CASES:-}" ] && return 0
	case " ${CASES//,/ } " in *" $1 "*) return 0 ;; esac
	return 1
}

if [ -n "${CASES:-}" ]; then
	for c in ${CASES//,/ }; do
		case " $ALL_CASES " in *" $c "*) ;; *) log "unknown case $c (cases: $ALL_CASES)"; exit 2 ;; esac
	done
fi
if ! pkg-config --exists libxml-2.0 2>/dev/null; then
	log "libxml2 development files missing (pkg-config libxml-2.0): install libxml2-dev"
	exit 2
fi

# ---- how cores are made (samples/cores.sh) ----
. "$top/samples/cores.sh"

# expected stderr markers per case (all of them must be there)
markers() {
	case $1 in
	node-double-free) echo "free(): double free detected in tcache 2" ;;
	esac
	echo "signal arrived during cgo execution"
}

# run_one LABEL BIN CASE DIR: crash BIN CASE into DIR; writes DIR/status
run_one() {
	local label=$1 bin=$2 cs=$3 dir=$4
	if [ -z "${FORCE:-}" ] && [ -f "$dir/core" ] && [ -f "$dir/truth.json" ] &&
		[ "$dir/core" -nt "$bin" ] && [ "$dir/truth.json" -nt "$bin" ] && [ -f "$dir/status" ]; then
		sed -i 's/ (cached)$//; s/$/ (cached)/' "$dir/status"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	ln -f "$bin" "$dir/exe" 2>/dev/null || cp -p "$bin" "$dir/exe"
	local rc
	if [ "$mode" = kernel ]; then
		(
			cd "$dir" || exit 99
			ulimit -c unlimited
			with_pattern_lock env GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" "$dir/exe" "$cs" "$dir" >stdout.txt 2>stderr.txt
		) 2>/dev/null
		rc=$?
		local f
		for f in "$dir"/*; do
			case ${f##*/} in exe | truth.json | stdout.txt | stderr.txt | status | core) continue ;; esac
			if is_core "$f"; then mv -f "$f" "$dir/core"; fi
		done
	else
		(
			cd "$dir" || exit 99
			exec env GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" gdb -nx -batch -x "$gdb_py" --args "$dir/exe" "$cs" "$dir" >gdb.log 2>&1
		)
		rc=$?
		[ -f "$dir/core" ] && { fallocate --dig-holes "$dir/core" 2>/dev/null || true; }
	fi
	local st=ok notes="" size sig m warns
	if ! is_core "$dir/core"; then
		st=FAIL
		notes+=" no-core"
		rm -f "$dir/core"
	fi
	if [ ! -s "$dir/truth.json" ] || ! python3 -m json.tool "$dir/truth.json" >/dev/null 2>&1; then
		st=FAIL
		notes+=" no-valid-truth"
		[ -f "$dir/truth.json" ] && mv -f "$dir/truth.json" "$dir/truth.json.bad"
	fi
	while IFS= read -r m; do
		if [ -n "$m" ] && ! grep -qF "$m" "$dir/stderr.txt" 2>/dev/null; then
			[ "$st" = ok ] && st=CHECK
			notes+=" stderr-lacks:'$m'"
		fi
	done < <(markers "$cs")
	warns=$(grep -c '^TRUTH-WARNING' "$dir/stderr.txt" 2>/dev/null)
	[ "${warns:-0}" -gt 0 ] && notes+=" truth-warnings=$warns"
	size=$([ -f "$dir/core" ] && du -h "$dir/core" | cut -f1 || echo -)
	if [ "$mode" = kernel ]; then sig=$(signame "$rc"); else sig=gcore; fi
	printf '%-8s %-20s %-5s core=%-6s %s%s\n' "$label" "$cs" "$st" "$size" "$sig" "$notes" >"$dir/status"
}

needs_rebuild() { # needs_rebuild STAMP SRC...: a source newer than the stamp (or no stamp)
	local stamp=$1
	shift
	[ -f "$stamp" ] || return 0
	[ -n "$(find "$@" -newer "$stamp" -type f \( -name '*.go' -o -name '*.c' -o -name '*.h' -o -name go.mod \) -print -quit 2>/dev/null)" ]
}

install_if_changed() { # replace BIN by NEW only if the bytes differ (scenario dirs hold hard links)
	if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; else mv -f "$1" "$2"; fi
}

do_toolchain() { # do_toolchain NAME GOROOT
	local name=$1 goroot=$2 tdir=$out/$1
	local bin=$tdir/bin/xmlcrash stamp=$tdir/bin/.stamp
	mkdir -p "$tdir/bin"
	if needs_rebuild "$stamp" "$src" || [ ! -x "$bin" ]; then
		if ! (cd "$src" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod \
			CGO_ENABLED=1 "$goroot/bin/go" build -o "$bin.new" ./xmlcrash) >"$tdir/bin/build.log" 2>&1; then
			log "$name: build failed (see $tdir/bin/build.log)"
			cat "$tdir/bin/build.log" >&2
			for cs in $ALL_CASES; do
				want_case "$cs" || continue
				printf '%-8s %-20s FAIL  build failed\n' "$name" "$cs" >"$tdir/$cs.status-build"
			done
			return 1
		fi
		install_if_changed "$bin.new" "$bin"
		touch "$stamp"
	fi
	for cs in $ALL_CASES; do
		want_case "$cs" || continue
		run_one "$name" "$bin" "$cs" "$tdir/$cs"
	done
}

# ---- which toolchains ----
if [ ! -f "$list" ]; then
	log "no $list: run scripts/toolchains.sh first"
	exit 2
fi
names=() roots=()
while read -r n r _; do
	[ -n "${n:-}" ] || continue
	if [ -n "${TOOLCHAINS:-}" ]; then
		case " ${TOOLCHAINS//,/ } " in *" $n "*) ;; *) continue ;; esac
	fi
	names+=("$n")
	roots+=("$r")
done <"$list"
if [ -n "${TOOLCHAINS:-}" ]; then
	for t in ${TOOLCHAINS//,/ }; do
		case " ${names[*]} " in *" $t "*) ;; *) log "toolchain $t is not in $list" ;; esac
	done
fi

jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
log "core mode: $mode (core_pattern '$core_pattern'); toolchains: ${names[*]:-none}; jobs: $jobs"
mkdir -p "$out"
rm -f "$out"/*/*.status-build

running=0
for i in "${!names[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	do_toolchain "${names[$i]}" "${roots[$i]}" &
	running=$((running + 1))
done
wait

# ---- summary ----
missing=0
for n in "${names[@]}"; do
	for cs in $ALL_CASES; do
		want_case "$cs" || continue
		dir=$out/$n/$cs
		if [ -f "$dir.status-build" ]; then
			cat "$dir.status-build"
			missing=$((missing + 1))
			continue
		fi
		if [ -f "$dir/status" ]; then cat "$dir/status"; else printf '%-8s %-20s FAIL  not run\n' "$n" "$cs"; fi
		if [ ! -f "$dir/core" ] || [ ! -f "$dir/truth.json" ]; then missing=$((missing + 1)); fi
	done
done
log "$(du -sh "$out" 2>/dev/null | cut -f1) in $out"
if [ "$missing" -gt 0 ]; then
	log "$missing expected core(s) or truth file(s) missing"
	exit 1
fi
exit 0
