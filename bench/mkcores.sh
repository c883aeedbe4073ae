#!/usr/bin/env bash
# Builds the bench sample (bench/sample) with each bench toolchain and crashes it into a core:
#
#   build/bench/<go>/{exe,core,truth.json,addrs.txt,stdout.txt,stderr.txt,status}
#
# Environment:
#   BENCH_TOOLCHAINS="go1.26 go1.23"  which toolchains of build/toolchains/list (default: these two:
#                                     Swiss maps, and classic maps, which gdb's printer reads)
#   BENCH_SCALE=1                     multiply the sample's counts (1 = the full-size core)
#   FORCE=1                           crash again even when the core is up to date
#
# Incremental: the sample is rebuilt when a source is newer than the binary, and crashed again
# when the core is older than the binary or was made at another scale. The cores are a few GiB:
# the script checks free disk and memory first and never leaves a partial core behind.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/bench
list=$top/build/toolchains/list
src=$top/bench/sample
toolchains=${BENCH_TOOLCHAINS:-go1.26 go1.23}
scale=${BENCH_SCALE:-1}

log() { echo "bench: $*" >&2; }

is_core() { # ELF magic and e_type == ET_CORE
	[ -f "$1" ] || return 1
	[ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ] || return 1
	[ "$(od -An -tx1 -j16 -N2 "$1" 2>/dev/null | tr -d ' \n')" = 0400 ]
}

if [ ! -f "$list" ]; then
	log "no $list: run 'make toolchains' first"
	exit 2
fi
case $(cat /proc/sys/kernel/core_pattern 2>/dev/null) in
'|'* | */*)
	log "core_pattern is '$(cat /proc/sys/kernel/core_pattern)': the bench needs a plain file name (e.g. 'core') to find its cores"
	exit 2
	;;
esac

# free KiB on the file system of $1, and available memory in KiB
free_disk_kib() { df -Pk "$1" | awk 'NR==2 {print $4}'; }
avail_mem_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }

for tc in $toolchains; do
	goroot=$(awk -v n="$tc" '$1 == n {print $2}' "$list")
	if [ -z "$goroot" ] || [ ! -x "$goroot/bin/go" ]; then
		log "$tc: not in $list (run 'make toolchains')"
		exit 2
	fi
	dir=$out/$tc
	exe=$dir/exe
	mkdir -p "$dir"
	stamp=$dir/.built
	if [ ! -x "$exe" ] || [ ! -f "$stamp" ] || [ -n "$(find "$src" -newer "$stamp" -type f -print -quit)" ]; then
		log "$tc: building the sample"
		(cd "$src" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod \
			CGO_ENABLED=1 "$goroot/bin/go" build -o "$exe.new" .)
		# replaced only if its bytes changed: a comment edit must not cost a new core
		if [ -x "$exe" ] && cmp -s "$exe.new" "$exe"; then rm -f "$exe.new"; else mv -f "$exe.new" "$exe"; fi
		touch "$stamp"
	fi
	if [ -z "${FORCE:-}" ] && is_core "$dir/core" && [ "$dir/core" -nt "$exe" ] &&
		[ -f "$dir/truth.json" ] && grep -qx "scale $scale" "$dir/status" 2>/dev/null; then
		log "$tc: core up to date ($(du -h "$dir/core" | cut -f1))"
		continue
	fi
	# the full-size process holds about 2.6 GiB and its core is about as large
	need_kib=$(awk -v s="$scale" 'BEGIN {printf "%d", 4.5 * 1048576 * (s < 0.1 ? 0.1 : s)}')
	if [ "$(free_disk_kib "$dir")" -lt "$need_kib" ]; then
		log "$tc: less than $((need_kib / 1048576)) GiB free on $(df -P "$dir" | awk 'NR==2 {print $6}'): not making the core"
		exit 2
	fi
	if [ "$(avail_mem_kib)" -lt "$need_kib" ]; then
		log "$tc: less than $((need_kib / 1048576)) GiB of memory available: not making the core"
		exit 2
	fi
	rm -f "$dir"/core "$dir"/core.[0-9]* "$dir/truth.json" "$dir/addrs.txt" "$dir/status"
	log "$tc: crashing the sample (scale $scale) into $dir/core"
	start=$(date +%s)
	set +e
	(
		cd "$dir" || exit 99
		ulimit -c unlimited
		GOTRACEBACK=crash timeout -s KILL 900 ./exe -scale "$scale" . >stdout.txt 2>stderr.txt
	) 2>/dev/null
	rc=$?
	set -e
	for f in "$dir"/core.[0-9]*; do
		if is_core "$f"; then mv -f "$f" "$dir/core"; fi
	done
	if ! is_core "$dir/core"; then
		rm -f "$dir/core"
		log "$tc: no core (exit status $rc; see $dir/stderr.txt)"
		exit 1
	fi
	if [ "$rc" -ne 134 ] || ! grep -q "signal arrived during cgo execution" "$dir/stderr.txt"; then
		log "$tc: unexpected end (exit status $rc, expected SIGABRT after a SIGSEGV in cgo)"
		exit 1
	fi
	python3 -m json.tool "$dir/truth.json" >/dev/null
	printf 'scale %s\ngo %s\nexit %s\nseconds %s\n' "$scale" "$tc" "$rc" "$(($(date +%s) - start))" >"$dir/status"
	log "$tc: core $(du -h "$dir/core" | cut -f1) on disk, $(($(stat -c %s "$dir/core") >> 20)) MiB apparent, $(($(date +%s) - start)) s"
done
