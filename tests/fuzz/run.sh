#!/usr/bin/env bash
# Runs the libFuzzer harnesses (built by `make fuzz-build` into build/fuzz/).
#   run.sh fuzz SECONDS HARNESS...   fuzz each harness for SECONDS over its seeds
#                                    (build/fuzz/corpus/<h>, `make fuzz-seeds`) and
#                                    its regression inputs; findings land in
#                                    build/fuzz/crashes/<h>/ (crash-*, timeout-*, oom-*)
#   run.sh regress 0 HARNESS...      replays tests/fuzz/regress/<h>/* once each
# A finding is a real bug: fix it, then copy the input into tests/fuzz/regress/<h>/
# (named after what it broke) so that `make check` replays it.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
mode=${1:?mode}; secs=${2:?seconds}; shift 2
fail=0

max_len() {
	case $1 in
	out) echo 4096 ;;
	cheap) echo 1048576 ;;
	*) echo 262144 ;;
	esac
}

for h in "$@"; do
	bin=build/fuzz/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin missing (make fuzz-build)"; fail=1; continue
	fi
	reg=tests/fuzz/regress/$h
	case $mode in
	fuzz)
		corpus=build/fuzz/corpus/$h
		crashes=build/fuzz/crashes/$h
		mkdir -p "$corpus" "$crashes"
		dirs=("$corpus")
		[ -d "$reg" ] && dirs+=("$reg")
		echo "== fuzz $h for ${secs}s ($(ls "$corpus" | wc -l) inputs in corpus)"
		before=$(ls "$crashes" | wc -l)
		# -timeout: one input taking 10 s is a hang; -rss_limit_mb/-malloc_limit_mb:
		# a hostile input must not make us allocate without bound.
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
			-max_len="$(max_len "$h")" -print_final_stats=1 \
			-artifact_prefix="$crashes/" "${dirs[@]}" >"build/fuzz/$h.log" 2>&1
		rc=$?
		grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done)" "build/fuzz/$h.log" | tr '\n' ' '
		echo
		after=$(ls "$crashes" | wc -l)
		if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ]; then
			echo "fuzz: $h found something (rc $rc): $crashes/ and build/fuzz/$h.log"
			grep -m1 -E "ERROR: |runtime error|SUMMARY" "build/fuzz/$h.log"
			fail=1
		fi
		;;
	regress)
		[ -d "$reg" ] || continue
		mapfile -t inputs < <(find "$reg" -type f ! -name '*.md' | sort)
		[ "${#inputs[@]}" -gt 0 ] || continue
		if "$bin" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 "${inputs[@]}" \
			>"build/fuzz/$h.regress.log" 2>&1; then
			echo "fuzz regress $h: ${#inputs[@]} inputs ok"
		else
			echo "FAIL fuzz regress $h (build/fuzz/$h.regress.log):"
			grep -E "Running:|ERROR: |runtime error|SUMMARY" "build/fuzz/$h.regress.log" | tail -4
			fail=1
		fi
		;;
	*) echo "run.sh: unknown mode $mode"; exit 64 ;;
	esac
done
exit $fail
