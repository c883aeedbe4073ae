#!/usr/bin/env bash
# Runs every test: C unit tests against build/libcoretool.a, then the pytest
# suite over the sample cores (CLI, and gdb where present). Called by `make check`.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0

echo "== unit tests (C)"
mkdir -p build/unit
cflags=$(make -s --no-print-directory print-cflags)
libs=$(make -s --no-print-directory print-libs)
upass=0; ufail=0
notrunc=$(${CC:-cc} -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
for src in tests/unit/test_*.c; do
  [ -e "$src" ] || continue
  bin=build/unit/$(basename "${src%.c}")
  if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror $notrunc -g $(make -s --no-print-directory print-inc) $cflags -o "$bin" "$src" \
       build/libcoretool.a $libs; then
    echo "FAIL (build) $src"; ufail=$((ufail+1)); continue
  fi
  if "$bin"; then upass=$((upass+1)); else echo "FAIL $src"; ufail=$((ufail+1)); fi
done
echo "unit: $upass passed, $ufail failed"
[ "$ufail" -eq 0 ] || fail=1

echo "== integration tests (pytest)"
# A passing test's tmp_path is removed when it ends (pytest keeps every one of
# the session by default): the suite copies and packs sample cores into them,
# and on a machine with a few GB free the copies of a whole run fill the disk.
keep_failed="-o tmp_path_retention_policy=failed"
# test_robustness.py runs in the sanitizer stage below, against the ASan build.
python3 -m pytest -q -p no:cacheprovider $keep_failed --ignore=tests/test_robustness.py "$@" tests/ || fail=1

# ---- untrusted input (issue 8): sanitizers, fuzz regressions, corrupted cores ----
# The CLI built with ASan+UBSan (make asan) runs the CLI test suite (bad input,
# info, classify, triage, maps, cgocheck, the typed heap) and the corrupted-core corpus (tests/test_robustness.py, which writes
# build/ROBUSTNESS.md); any sanitizer report fails the test that caused it.
# Then the fuzz harnesses replay tests/fuzz/regress/ (needs clang's libFuzzer).
echo "== sanitizers (ASan+UBSan): the CLI tests and the corrupted cores"
san_tests="tests/test_badinput.py tests/test_info.py tests/test_classify.py tests/test_triage.py tests/test_heapgraph.py
  tests/test_maps.py tests/test_cgocheck.py tests/test_cache.py tests/test_robustness.py tests/test_libsuite.py
  tests/test_hostile_heap.py tests/test_hostile_misc.py tests/test_inputs.py"
if make -s -j"$(nproc)" asan >build/asan.log 2>&1; then
  CORETOOL=build/asan/coretool python3 -m pytest -q -p no:cacheprovider $keep_failed "$@" $san_tests || fail=1
else
  echo "FAIL: the sanitized build failed (build/asan.log)"
  tail -5 build/asan.log
  fail=1
fi
echo "== fuzz regressions (tests/fuzz/regress)"
if command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
  if make -s -j"$(nproc)" fuzz-build >build/fuzz-build.log 2>&1; then
    make -s fuzz-regress || fail=1
    # Fuzzing stays part of the work: a short run of every harness over seeds cut from the
    # fresh sample cores (CHECK_FUZZ_SECONDS each; `make fuzz` runs longer). A finding fails.
    echo "== fuzzing (${CHECK_FUZZ_SECONDS:-20} s per harness)"
    if make -s fuzz-seeds >build/fuzz-seeds.log 2>&1; then
      bash tests/fuzz/run.sh fuzz "${CHECK_FUZZ_SECONDS:-20}" \
        $(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||; s|\.c$||') || fail=1
    else
      echo "FAIL: fuzz seeds (build/fuzz-seeds.log)"; tail -5 build/fuzz-seeds.log; fail=1
    fi
  else
    echo "FAIL: fuzz harnesses do not build (build/fuzz-build.log)"; tail -5 build/fuzz-build.log; fail=1
  fi
else
  echo "skipped: no clang (libFuzzer) to build the harnesses"
fi
exit $fail
