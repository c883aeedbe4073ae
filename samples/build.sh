#!/usr/bin/env bash
# Builds the sample programs and crashes them into real core files with their ground truth.
#
#   samples/build.sh
#
# Go crasher (samples/go/crasher), once per toolchain in build/toolchains/list:
#   build/samples/<toolchain>/bin/crasher
#   build/samples/<toolchain>/<scenario>/{core,truth.json,exe,stdout.txt,stderr.txt}
# Plain C program (samples/c/ccrash.c):
#   build/samples/c/bin/ccrash
#   build/samples/c/<scenario>/{core,truth.json,exe,stdout.txt,stderr.txt}
#   build/samples/c-glibc<version>/...   the same, run with each glibc of build/glibc/list
#                                        (scripts/glibc.sh: glibc 2.41 from Debian trixie)
# exe is a hard link to (or copy of) the binary that crashed.
#
# Environment:
#   TOOLCHAINS="go1.22 go1.26"   only these toolchains (default: every line of the list)
#   SCENARIOS="maps go-uaf"      only these scenarios (Go and C names; default: all)
#   NO_C=1                       skip the plain C program
#   JOBS=N                       toolchains built/run in parallel (default: number of CPUs)
#   FORCE=1                      re-run every scenario even when its core is up to date
#   SAMPLES_OUT=DIR              output directory (default: build/samples)
#   CORE_MODE=kernel|gdb         default: kernel when core_pattern is a plain relative name,
#                                else gdb (run under gdb, gcore at the signal that kills it)
#   BIN_FROM=DIR                 take each toolchain's crasher from DIR/<toolchain>/bin/ (an
#                                earlier run's, e.g. build/samples) instead of building it again
#   DLV=PATH                     Delve (scripts/delve.sh): also dump a running maps sample with
#                                Delve's `dump` into <toolchain>/maps-delve/ (gdb mode)
#
# gdb mode also cores a running program: the maps scenario, told to wait where it would crash
# (CRASHER_READY), is dumped by `gdb -p` into <toolchain>/maps-running/.
#
# Incremental: a binary is rebuilt when a source is newer than its stamp (and replaced only if
# its bytes changed); a scenario is re-run unless its core and truth.json are newer than the
# binary. Prints one line per core and exits non-zero if any core or truth is missing.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${SAMPLES_OUT:-$top/build/samples}
# absolute: the programs run with their scenario directory as cwd
mkdir -p "$out" && out=$(cd "$out" && pwd)
[ -n "${BIN_FROM:-}" ] && [ -d "$BIN_FROM" ] && BIN_FROM=$(cd "$BIN_FROM" && pwd)
case ${DLV:-} in "" | /*) ;; *) DLV=$PWD/$DLV ;; esac
list=$top/build/toolchains/list
src_go=$top/samples/go
src_c=$top/samples/c

GO_SCENARIOS="c-uaf-map go-uaf map-grow-stale concurrent-map-writes c-double-free c-null-deref c-stack-overflow maps cgocheck go-nil-deref
	c-null-field-far c-uaf-mmap-field c-uaf-mmap-write c-noncanonical c-freelist-small c-freelist-key
	c-call-freed-fnptr c-stack-overflow-main go-panic-callback go-panic-error"
C_SCENARIOS="c-uaf null-deref"
RUN_TIMEOUT=${RUN_TIMEOUT:-120}

log() { echo "samples: $*" >&2; }

want_scenario() {
	[ -z "${SCENARIOS:-}" ] && return 0
	case " ${SCENARIOS//,/ } " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---- how cores are made (samples/cores.sh) ----
. "$top/samples/cores.sh"

# expected stderr marker per scenario
marker() {
	case $1 in
	concurrent-map-writes) echo "fatal error: concurrent map writes" ;;
	c-double-free) echo "free(): double free detected in tcache 2" ;;
	go-nil-deref) echo "invalid memory address or nil pointer dereference" ;;
	go-panic-callback) echo "panic: bad record 42: checksum mismatch" ;;
	go-panic-error) echo "panic: open db.conf: file does not exist" ;;
	c-uaf | null-deref) echo "" ;;
	*) echo "signal arrived during cgo execution" ;;
	esac
}

# run_one LABEL BIN SCENARIO DIR [ENV...]: crash BIN SCENARIO into DIR; writes DIR/status
run_one() {
	local label=$1 bin=$2 sc=$3 dir=$4
	shift 4
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
		# (no exec: this subshell reaps the crashed program, so the shell's "Aborted" notice
		# goes to its stderr, /dev/null, and rc is 128+signal)
		(
			cd "$dir" || exit 99
			ulimit -c unlimited
			with_pattern_lock env "$@" GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" "$dir/exe" "$sc" "$dir" >stdout.txt 2>stderr.txt
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
			exec env "$@" GOTRACEBACK=crash timeout -s KILL "$RUN_TIMEOUT" gdb -nx -batch -x "$gdb_py" --args "$dir/exe" "$sc" "$dir" >gdb.log 2>&1
		)
		rc=$?
		# gcore writes every page it can read, zeros included (a Go process reserves GBs):
		# punch the zero blocks out again, as the kernel's own cores are sparse
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
	m=$(marker "$sc")
	if [ -n "$m" ] && ! grep -qF "$m" "$dir/stderr.txt" 2>/dev/null; then
		[ "$st" = ok ] && st=CHECK
		notes+=" stderr-lacks:'$m'"
	fi
	warns=$(grep -c '^TRUTH-WARNING' "$dir/stderr.txt" 2>/dev/null)
	[ "${warns:-0}" -gt 0 ] && notes+=" truth-warnings=$warns"
	size=$([ -f "$dir/core" ] && du -h "$dir/core" | cut -f1 || echo -)
	if [ "$mode" = kernel ]; then sig=$(signame "$rc"); else sig=gcore; fi
	printf '%-8s %-22s %-5s core=%-6s %s%s\n' "$label" "$sc" "$st" "$size" "$sig" "$notes" >"$dir/status"
}

# run_attached LABEL BIN SCENARIO DIR gdb|delve: run BIN SCENARIO until it waits where it
# would crash (CRASHER_READY), then dump the running process with gdb -p or Delve's dump;
# the process is killed afterwards. Writes DIR/status.
run_attached() {
	local label=$1 bin=$2 sc=$3 dir=$4 how=$5
	if [ -z "${FORCE:-}" ] && [ -f "$dir/core" ] && [ -f "$dir/truth.json" ] &&
		[ "$dir/core" -nt "$bin" ] && [ "$dir/truth.json" -nt "$bin" ] && [ -f "$dir/status" ]; then
		sed -i 's/ (cached)$//; s/$/ (cached)/' "$dir/status"
		return 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	ln -f "$bin" "$dir/exe" 2>/dev/null || cp -p "$bin" "$dir/exe"
	(cd "$dir" && CRASHER_READY="$dir/ready" GOTRACEBACK=crash exec "$dir/exe" "$sc" "$dir" >stdout.txt 2>stderr.txt) &
	local pid=$! i
	for ((i = 0; i < RUN_TIMEOUT * 10; i++)); do
		[ -f "$dir/ready" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -f "$dir/ready" ]; then
		if [ "$how" = gdb ]; then
			timeout -s KILL "$RUN_TIMEOUT" gdb -nx -batch -p "$pid" -ex "gcore $dir/core" -ex detach >"$dir/gdb.log" 2>&1
		else
			# Delve's own terminal, fed a script: dump; at its end (stdin empty) Delve
			# asks whether to kill the process, reads EOF and detaches. Any Go version:
			# the dump reads memory and registers, not the runtime.
			printf 'dump %s\n' "$dir/core" >"$dir/dlv.init"
			timeout -s KILL "$RUN_TIMEOUT" "$DLV" attach "$pid" --init "$dir/dlv.init" \
				--check-go-version=false --allow-non-terminal-interactive=true </dev/null >"$dir/dlv.log" 2>&1
		fi
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	[ -f "$dir/core" ] && { fallocate --dig-holes "$dir/core" 2>/dev/null || true; }
	local st=ok notes="" size
	if ! is_core "$dir/core"; then
		st=FAIL
		notes+=" no-core"
		rm -f "$dir/core"
	fi
	if [ ! -s "$dir/truth.json" ] || ! python3 -m json.tool "$dir/truth.json" >/dev/null 2>&1; then
		st=FAIL
		notes+=" no-valid-truth"
	fi
	size=$([ -f "$dir/core" ] && du -h "$dir/core" | cut -f1 || echo -)
	printf '%-8s %-22s %-5s core=%-6s %s%s\n' "$label" "${dir##*/}" "$st" "$size" "running,$how" "$notes" >"$dir/status"
}

# attached_dirs: the running-process cores this mode makes (scenario dir names)
attached_dirs() {
	[ "$mode" = gdb ] || return 0
	want_scenario maps-running && echo maps-running
	if [ -n "${DLV:-}" ] && want_scenario maps-delve; then echo maps-delve; fi
	return 0
}

needs_rebuild() { # needs_rebuild STAMP SRC...: a source newer than the stamp (or no stamp)
	local stamp=$1
	shift
	[ -f "$stamp" ] || return 0
	[ -n "$(find "$@" -newer "$stamp" -type f -print -quit 2>/dev/null)" ]
}

# install_if_changed NEW BIN: replace BIN by NEW only if the bytes differ (keeps mtime, and
# never rewrites in place: scenario dirs hold hard links to the old binary)
install_if_changed() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; else mv -f "$1" "$2"; fi
}

do_toolchain() { # do_toolchain NAME GOROOT
	local name=$1 goroot=$2 tdir=$out/$1
	local bin=$tdir/bin/crasher stamp=$tdir/bin/.stamp
	mkdir -p "$tdir/bin"
	local from=${BIN_FROM:+$BIN_FROM/$name/bin/crasher}
	if [ -n "$from" ] && [ -x "$from" ]; then
		# the same bytes as the kernel cores' program: linked, not built again
		ln -f "$from" "$bin.new" 2>/dev/null || cp -p "$from" "$bin.new"
		install_if_changed "$bin.new" "$bin"
		touch "$stamp"
	elif needs_rebuild "$stamp" "$src_go" "$src_c/heapplan.h" || [ ! -x "$bin" ]; then
		if ! (cd "$src_go" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod \
			CGO_ENABLED=1 "$goroot/bin/go" build -o "$bin.new" ./crasher) >"$tdir/bin/build.log" 2>&1; then
			log "$name: build failed (see $tdir/bin/build.log)"
			cat "$tdir/bin/build.log" >&2
			for sc in $GO_SCENARIOS; do
				want_scenario "$sc" || continue
				printf '%-8s %-22s FAIL  build failed\n' "$name" "$sc" >"$tdir/$sc.status-build"
			done
			return 1
		fi
		install_if_changed "$bin.new" "$bin"
		touch "$stamp"
	fi
	for sc in $GO_SCENARIOS; do
		want_scenario "$sc" || continue
		run_one "$name" "$bin" "$sc" "$tdir/$sc"
	done
	local d
	for d in $(attached_dirs); do
		case $d in
		maps-running) run_attached "$name" "$bin" maps "$tdir/$d" gdb ;;
		maps-delve) run_attached "$name" "$bin" maps "$tdir/$d" delve ;;
		esac
	done
}

# do_c LABEL [LDFLAGS...]: the C program into build/samples/LABEL/ (c: the machine's glibc;
# c-glibc<version>: linked to another glibc's dynamic linker and libraries, scripts/glibc.sh).
do_c() {
	local label=$1
	shift
	local cdir=$out/$label bin=$out/$label/bin/ccrash stamp=$out/$label/bin/.stamp
	mkdir -p "$cdir/bin"
	if needs_rebuild "$stamp" "$src_c" || [ ! -x "$bin" ]; then
		if ! ${CC:-cc} -std=gnu11 -O0 -g -Wall "$@" -o "$bin.new" "$src_c/ccrash.c" >"$cdir/bin/build.log" 2>&1; then
			log "$label: build failed (see $cdir/bin/build.log)"
			cat "$cdir/bin/build.log" >&2
			return 1
		fi
		install_if_changed "$bin.new" "$bin"
		touch "$stamp"
	fi
	for sc in $C_SCENARIOS; do
		want_scenario "$sc" || continue
		run_one "$label" "$bin" "$sc" "$cdir/$sc"
	done
}

# Other glibcs (build/glibc/list: "name root version"), for the C program.
c_labels=(c)
c_flags=("")
if [ -z "${NO_C:-}" ] && [ -f "$top/build/glibc/list" ]; then
	while read -r gname groot _; do
		[ -n "${gname:-}" ] || continue
		lib=$groot/usr/lib/x86_64-linux-gnu
		c_labels+=("c-$gname")
		c_flags+=("-Wl,--dynamic-linker=$lib/ld-linux-x86-64.so.2 -Wl,-rpath=$lib")
	done <"$top/build/glibc/list"
fi

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
if [ -z "${NO_C:-}" ]; then
	for i in "${!c_labels[@]}"; do
		# shellcheck disable=SC2086 # the flags are words
		do_c "${c_labels[$i]}" ${c_flags[$i]} &
	done
fi
wait

# ---- summary ----
missing=0
report() { # report LABEL DIR SCENARIO
	local label=$1 dir=$2 sc=$3
	if [ -f "$dir.status-build" ]; then
		cat "$dir.status-build"
		missing=$((missing + 1))
		return
	fi
	if [ -f "$dir/status" ]; then cat "$dir/status"; else printf '%-8s %-22s FAIL  not run\n' "$label" "$sc"; fi
	if [ ! -f "$dir/core" ] || [ ! -f "$dir/truth.json" ]; then missing=$((missing + 1)); fi
}
for n in "${names[@]}"; do
	for sc in $GO_SCENARIOS; do
		want_scenario "$sc" || continue
		report "$n" "$out/$n/$sc" "$sc"
	done
	for d in $(attached_dirs); do
		report "$n" "$out/$n/$d" "$d"
	done
done
if [ -z "${NO_C:-}" ]; then
	for label in "${c_labels[@]}"; do
		for sc in $C_SCENARIOS; do
			want_scenario "$sc" || continue
			report "$label" "$out/$label/$sc" "$sc"
		done
	done
fi
log "$(du -sh "$out" 2>/dev/null | cut -f1) in $out"
if [ "$missing" -gt 0 ]; then
	log "$missing expected core(s) or truth file(s) missing"
	exit 1
fi
exit 0
