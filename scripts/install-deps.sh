#!/usr/bin/env bash
# Installs the Debian packages coretool needs, if any is missing. Idempotent and
# fast when all are present (one dpkg-query).
set -euo pipefail
# libxml2-dev: the real C library of the second crash suite (samples/libsuite).
# Capstone comes from Debian trixie (scripts/capstone.sh), not from this list.
# libzstd-dev liblz4-dev liblzma-dev zlib1g-dev libzip-dev: compressed and zipped cores
# (lib/base/unpack.c); libjson-c-dev: the metadata that comes with them (k8s, coredumpctl).
# libdebuginfod-dev: elfutils' debuginfod client (binaries found by build ID); debuginfod: its
# server, run by tests/test_debuginfod.py on a private loopback.
# libclang-rt-14-dev: the sanitizer and libFuzzer runtimes of Debian 12's clang (make asan, fuzz).
pkgs=(gcc binutils clang libclang-rt-14-dev make pkg-config libdw-dev libelf-dev elfutils zlib1g-dev gdb
      python3 file golang-go libxml2-dev
      libzstd-dev liblz4-dev liblzma-dev libzip-dev libjson-c-dev libdebuginfod-dev debuginfod)
missing=()
for p in "${pkgs[@]}"; do
  # golang-go: any Go on PATH will do (the machine's own Go is used for go1.26).
  if [ "$p" = golang-go ]; then command -v go >/dev/null && continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# systemd-coredump (samples/systemd-cores.sh: real stored cores and journal entries), the same
# version as the machine's systemd. Its postinst sets kernel.core_pattern for the whole machine:
# the pattern the sample builds rely on is put back, under their lock.
if ! dpkg-query -W -f='${Status}' systemd-coredump 2>/dev/null | grep -q 'install ok installed'; then
  v=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
  echo "install-deps: installing systemd-coredump${v:+ $v}" >&2
  lock=${CORE_PATTERN_LOCK:-/tmp/coretool-core-pattern.lock} # samples/cores.sh says why
  (
    flock -w 600 9 || true
    saved=$(cat /proc/sys/kernel/core_pattern)
    trap 'printf "%s\n" "$saved" >/proc/sys/kernel/core_pattern' EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "systemd-coredump${v:+=$v}" >&2 ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends "systemd-coredump${v:+=$v}" >&2; }
  ) 9>>"$lock"
fi
# The tests run under pytest (the machine's Python may come from elsewhere than Debian).
if ! python3 -m pytest --version >/dev/null 2>&1; then
  echo "install-deps: installing pytest" >&2
  python3 -m pip install -q pytest >&2 || { apt-get install -y -qq python3-pytest >&2; }
fi
