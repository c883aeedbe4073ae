#!/usr/bin/env bash
# Cross-checks every core of the libxml2 suite against its truth.json with gdb
# (samples/libsuite/gdb-check.py): one line per core, exit status 1 if any check failed.
#
#   bash samples/libsuite/check.sh            all of build/samples/libsuite/*/*/
#   bash samples/libsuite/check.sh DIR...     only these case directories
#   VERBOSE=1 ...                             every check, not only the failed ones
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${LIBSUITE_OUT:-$top/build/samples/libsuite}
py=$top/samples/libsuite/gdb-check.py
command -v gdb >/dev/null || { echo "check: gdb is not installed" >&2; exit 2; }

dirs=("$@")
if [ ${#dirs[@]} -eq 0 ]; then
	for d in "$out"/*/*/; do [ -f "$d/truth.json" ] && dirs+=("${d%/}"); done
fi
bad=0
for d in "${dirs[@]}"; do
	d=${d%/}
	[ "$(basename "$d")" = bin ] && continue
	label="$(basename "$(dirname "$d")") $(basename "$d")"
	if [ ! -f "$d/core" ] || [ ! -f "$d/truth.json" ]; then
		printf '%-30s FAIL no core or truth\n' "$label"
		bad=$((bad + 1))
		continue
	fi
	res=$(gdb -nx -batch -ex "py TRUTH='$d/truth.json'; STDERR='$d/stderr.txt'" -x "$py" "$d/exe" "$d/core" 2>&1)
	line=$(grep '^RESULT' <<<"$res" || echo "RESULT ERROR")
	frame=$(grep '^frame:' <<<"$res" | sed 's/^frame: //')
	printf '%-30s %-16s %s\n' "$label" "${line#RESULT }" "$frame"
	if [[ $line != "RESULT PASS"* ]]; then
		bad=$((bad + 1))
		grep -E '  FAIL |Traceback|Error' <<<"$res" | sed 's/^/    /'
	elif [ -n "${VERBOSE:-}" ]; then
		grep -E '^  ok ' <<<"$res" | sed 's/^/    /'
	fi
done
[ "$bad" -eq 0 ]
