#!/usr/bin/env bash
# Installs libc's detached debug info (Debian: libc6-dbg, matching the installed libc6),
# which tests/test_cheap.py uses to check coretool's heuristic main_arena search
# against libc's own symbol. coretool itself never needs it. Idempotent.
set -euo pipefail
pkg=libc6-dbg
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-libc-dbg: not root; run: apt-get install $pkg" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
ver=$(dpkg-query -W -f='${Version}' libc6)
apt-get update -qq >&2
# The debug file must match the libc the cores ran with: same version as libc6.
apt-get install -y -qq --no-install-recommends "$pkg=$ver" >&2
