#!/usr/bin/env bash
# Builds samples/bigmap (100,000-entry maps and a small map of every scalar kind) with
# some toolchains and crashes it into a core with its truth:
#   build/samples-bigmap/<toolchain>/{exe,core,truth.json,stdout.txt,stderr.txt}
# Used by tests/test_gdb_bigmap.py, tests/test_gdb_mi.py and bench/gdbmap.py.
# Environment: TOOLCHAINS (default: go1.22 for classic maps, go1.26 for Swiss maps, go1.27 the
# newest; those of build/toolchains/list that exist), SAMPLES_OUT (default build/samples-bigmap),
# CORE_MODE as for samples/build.sh (samples/cores.sh decides).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${SAMPLES_OUT:-$top/build/samples-bigmap}
mkdir -p "$out" && out=$(cd "$out" && pwd)
log() { echo "samples-bigmap: $*" >&2; }
. "$top/samples/cores.sh"
list=$top/build/toolchains/list
want=${TOOLCHAINS:-go1.22 go1.26 go1.27}
rc=0
for name in $want; do
	goroot=$(awk -v n="$name" '$1 == n { print $2 }' "$list" 2>/dev/null)
	if [ -z "$goroot" ] || [ ! -x "$goroot/bin/go" ]; then
		log "$name: not in $list, skipped"
		continue
	fi
	dir=$out/$name
	mkdir -p "$dir"
	src_new=$(find "$top/samples/bigmap" -newer "$dir/core" -name '*.go' 2>/dev/null | head -1)
	if [ -f "$dir/core" ] && [ -f "$dir/truth.json" ] && [ -z "$src_new" ]; then
		echo "$name bigmap ok (cached)"
		continue
	fi
	rm -f "$dir/core" "$dir/truth.json"
	if ! (cd "$top/samples/bigmap" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local \
		CGO_ENABLED=0 "$goroot/bin/go" build -o "$dir/exe.new" .) >"$dir/build.log" 2>&1; then
		log "$name: build failed (see $dir/build.log)"
		rc=1
		continue
	fi
	mv -f "$dir/exe.new" "$dir/exe"
	if [ "$mode" = kernel ]; then
		(
			cd "$dir" || exit 99
			ulimit -c unlimited
			with_pattern_lock env GOTRACEBACK=crash timeout -s KILL 120 ./exe "$dir" >stdout.txt 2>stderr.txt
		) 2>/dev/null
		for f in "$dir"/core*; do
			[ "$f" = "$dir/core" ] && continue
			is_core "$f" && mv -f "$f" "$dir/core"
		done
	else
		(cd "$dir" && GOTRACEBACK=crash timeout -s KILL 120 gdb -nx -batch -x "$gdb_py" \
			--args "$dir/exe" "$dir" >gdb.log 2>&1)
		[ -f "$dir/core" ] && { fallocate --dig-holes "$dir/core" 2>/dev/null || true; }
	fi
	if is_core "$dir/core" && python3 -m json.tool "$dir/truth.json" >/dev/null 2>&1; then
		echo "$name bigmap ok"
	else
		log "$name: no core or no truth in $dir"
		rc=1
	fi
done
exit $rc
