#!/usr/bin/env bash
# Builds samples/go/heapgraph (a heap of known census, retention chains of
# known addresses, leaked and merely waiting goroutines: the ground truth of
# `coretool heap --by-type`, `retain` and `goroutines --leaks`) with every
# toolchain of build/toolchains/list and crashes it into a core with its truth:
#   build/samples-heapgraph/<toolchain>/{exe,core,truth.json,stdout.txt,stderr.txt,status}
# Built as a user builds (optimized, no -N -l): the typed heap must be found
# from the stack maps and DWARF an ordinary binary has. The kernel's core
# (GOTRACEBACK=crash: SIGABRT after the panic); CORE_MODE=gdb works as in
# samples/gdbvalues.sh but `make samples` does not build it.
# Incremental: rebuilt when a source is newer than the binary, re-run when the
# core or truth.json is older than the binary (FORCE=1: always).
# Environment: TOOLCHAINS="go1.22 go1.26", CORE_MODE=kernel|gdb, RUN_TIMEOUT,
# SAMPLES_OUT.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${SAMPLES_OUT:-$top/build/samples-heapgraph}
mkdir -p "$out" && out=$(cd "$out" && pwd)
src=$top/samples/go/heapgraph
list=$top/build/toolchains/list
RUN_TIMEOUT=${RUN_TIMEOUT:-60}

log() { echo "samples-heapgraph: $*" >&2; }

. "$top/samples/cores.sh"

one() { # one NAME GOROOT
	local name=$1 goroot=$2 dir=$out/$1
	mkdir -p "$dir"
	local bin=$dir/exe
	if [ ! -x "$bin" ] || [ -n "$(find "$src" -newer "$bin" -type f -print -quit)" ]; then
		if ! (cd "$src" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod \
			CGO_ENABLED=0 "$goroot/bin/go" build -o "$bin.new" .) \
			>"$dir/build.log" 2>&1; then
			log "$name: build failed (see $dir/build.log)"
			echo "$name heapgraph FAIL build" >"$dir/status"
			return 1
		fi
		mv -f "$bin.new" "$bin"
	fi
	if [ -z "${FORCE:-}" ] && [ "$dir/core" -nt "$bin" ] && [ "$dir/truth.json" -nt "$bin" ]; then
		cat "$dir/status"
		return 0
	fi
	rm -f "$dir/core" "$dir/truth.json" "$dir"/core.*
	if [ "$mode" = kernel ]; then
		(
			cd "$dir" || exit 99
			ulimit -c unlimited
			with_pattern_lock env GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" "$bin" "$dir" \
				>stdout.txt 2>stderr.txt
		) 2>/dev/null
		local f
		for f in "$dir"/core.*; do
			is_core "$f" && mv -f "$f" "$dir/core"
		done
	else
		(cd "$dir" && exec env GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" \
			gdb -nx -batch -x "$gdb_py" --args "$bin" "$dir" >gdb.log 2>&1)
		[ -f "$dir/core" ] && { fallocate --dig-holes "$dir/core" 2>/dev/null || true; }
	fi
	local st=ok
	grep -q '^panic: heapgraph: crash for the core' "$dir/stderr.txt" 2>/dev/null || st="CHECK stderr"
	is_core "$dir/core" || st="FAIL no-core"
	python3 -m json.tool "$dir/truth.json" >/dev/null 2>&1 || st="FAIL no-valid-truth"
	local size=
	[ -f "$dir/core" ] && size=" core=$(du -h --apparent-size "$dir/core" | cut -f1)"
	echo "$name heapgraph $st$size" | tee "$dir/status"
	[ "$st" = ok ]
}

rc=0
while read -r name goroot _; do
	[ -n "$name" ] || continue
	if [ -n "${TOOLCHAINS:-}" ]; then
		case " $TOOLCHAINS " in *" $name "*) ;; *) continue ;; esac
	fi
	one "$name" "$goroot" || rc=1
done <"$list"
exit $rc
