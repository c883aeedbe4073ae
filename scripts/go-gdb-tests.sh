#!/usr/bin/env bash
# Builds Go's own runtime test binary (runtime.test, which holds runtime-gdb_test.go's TestGdb*)
# with every toolchain in build/toolchains/list, into build/gotests/<go>/runtime.test.
# tests/test_go_gdb.py runs its TestGdb* with tests/gdbwrap/gdb first on PATH (coretool loaded).
#   - each toolchain's own go binary and GOROOT, GOTOOLCHAIN=local: nothing is fetched (the
#     runtime package's tests need no modules);
#   - cached: a binary newer than its toolchain's go binary is not built again;
#   - one build at a time (-p 1 unless GOGDB_P says otherwise): the machine is shared.
# Override the toolchains with TOOLCHAINS="go1.22 go1.26".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/build/toolchains/list
out=$top/build/gotests
[ -r "$list" ] || { echo "go-gdb-tests: no $list (make toolchains first)" >&2; exit 1; }
mkdir -p "$out"

want=${TOOLCHAINS:-$(awk '{print $1}' "$list")}
rc=0
for t in $want; do
  goroot=$(awk -v t="$t" '$1 == t {print $2}' "$list")
  [ -n "$goroot" ] || { echo "go-gdb-tests: $t is not in $list" >&2; rc=1; continue; }
  bin=$out/$t/runtime.test
  if [ -x "$bin" ] && [ "$bin" -nt "$goroot/bin/go" ]; then
    continue
  fi
  mkdir -p "$out/$t"
  echo "go-gdb-tests: building $bin with $("$goroot/bin/go" env GOVERSION)" >&2
  # Built to a temporary name and renamed: a half-written binary is never taken as cached.
  if (cd "$out/$t" && GOROOT=$goroot PATH=$goroot/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod \
        CGO_ENABLED=1 "$goroot/bin/go" test -p "${GOGDB_P:-1}" -c -o runtime.test.new runtime) \
        >"$out/$t/build.log" 2>&1; then
    mv "$out/$t/runtime.test.new" "$bin"
  else
    echo "go-gdb-tests: $t: build failed, see $out/$t/build.log" >&2
    rm -f "$out/$t/runtime.test.new"
    rc=1
  fi
done
exit $rc
