#!/usr/bin/env bash
# Runs every test: C unit tests against build/libcoretool.a, then the pytest
# suite over the sample cores (CLI, and gdb where present). Called by `make check`.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0

echo "== unit tests (C)"
mkdir -p build/unit
cflags=$(pkg-config --cflags libdw libelf)
libs=$(pkg-config --libs libdw libelf)
upass=0; ufail=0
notrunc=$(${CC:-cc} -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
for src in tests/unit/test_*.c; do
  [ -e "$src" ] || continue
  bin=build/unit/$(basename "${src%.c}")
  if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror $notrunc -g -Icoretool $cflags -o "$bin" "$src" \
       build/libcoretool.a $libs; then
    echo "FAIL (build) $src"; ufail=$((ufail+1)); continue
  fi
  if "$bin"; then upass=$((upass+1)); else echo "FAIL $src"; ufail=$((ufail+1)); fi
done
echo "unit: $upass passed, $ufail failed"
[ "$ufail" -eq 0 ] || fail=1

echo "== integration tests (pytest)"
python3 -m pytest -q -p no:cacheprovider "$@" tests/ || fail=1
exit $fail
