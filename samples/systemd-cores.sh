#!/usr/bin/env bash
# Crashes a few Go sample scenarios through the real systemd-coredump pipeline, as users have
# their cores: the kernel pipes the core to /lib/systemd/systemd-coredump, which hands it over
# the /run/systemd/coredump socket to a second systemd-coredump that compresses it (zstd) into
# /var/lib/systemd/coredump/core.COMM.UID.BOOTID.PID.USEC.zst with user.coredump.* extended
# attributes and logs the journal entry coredumpctl reads.
#
#   samples/systemd-cores.sh          (as root; after samples/build.sh)
#
# Without systemd as PID 1 (containers, VMs with another init) the two pieces systemd would
# start are started here, for the duration of the run: systemd-journald by hand (then
# `journalctl --flush`, so the entries land in /var/log/journal as on a booted machine), and
# systemd-socket-activate --seqpacket --accept standing in for systemd-coredump.socket
# (Accept=yes: one systemd-coredump per connection, as systemd-coredump@.service). Everything
# else is the real thing: the package's core_pattern (/usr/lib/sysctl.d/50-coredump.conf), the
# kernel's pipe, systemd-coredump's both halves, journald, coredumpctl.
#
# kernel.core_pattern is machine-wide: it is set for the duration of one crash only, under
# flock on CORE_PATTERN_LOCK (default: /tmp/coretool-core-pattern.lock, the machine-wide lock the
# sample builds hold shared while they crash: samples/cores.sh), and restored by a trap.
#
# Output, per crash, build/samples-systemd/<toolchain>/<scenario>/:
#   <stored file name>.zst   the stored file, copied with its xattrs (cp --preserve=xattr)
#   stored                   its path under /var/lib/systemd/coredump
#   journal.json             the journal entry (journalctl -o json: every COREDUMP_* field)
#   coredumpctl.json         coredumpctl --json=short list PID
#   coredumpctl-info.txt     coredumpctl info PID
#   truth.json, stdout.txt, stderr.txt, exe (and <scenario>: the binary under the name it ran as)
# and build/samples-systemd/gone/: a crash whose stored file was then deleted (coredumpctl
# says "missing"), with its journal.json and truth.json.
#
# Environment: TOOLCHAINS (default "go1.26 go1.22"), SCENARIOS (default "go-uaf c-uaf-map
# c-null-deref c-double-free"), SAMPLES_OUT (where samples/build.sh put the binaries),
# SYSTEMD_OUT (default build/samples-systemd).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
samples=${SAMPLES_OUT:-$top/build/samples}
out=${SYSTEMD_OUT:-$top/build/samples-systemd}
toolchains=${TOOLCHAINS:-go1.26 go1.22}
scenarios=${SCENARIOS:-go-uaf c-uaf-map c-null-deref c-double-free}
lock=${CORE_PATTERN_LOCK:-/tmp/coretool-core-pattern.lock} # the one of samples/cores.sh
coredump=/lib/systemd/systemd-coredump
journald=/lib/systemd/systemd-journald
# systemd-coredump's journal entries (coredump.c: SD_MESSAGE_COREDUMP)
msgid=fc2e22bc6ee647b6b90729ab34a250b1

log() { echo "systemd-cores: $*" >&2; }

for f in "$coredump" "$journald" "$(command -v coredumpctl)" "$(command -v systemd-socket-activate)"; do
	if [ ! -x "$f" ]; then
		log "missing ${f:-coredumpctl or systemd-socket-activate} (Debian: systemd-coredump, scripts/install-deps.sh)"
		exit 2
	fi
done
if [ "$(id -u)" != 0 ]; then
	log "needs root (kernel.core_pattern, /var/lib/systemd/coredump)"
	exit 2
fi
pattern=$(sed -n 's/^kernel\.core_pattern *= *//p' /usr/lib/sysctl.d/50-coredump.conf 2>/dev/null)
[ -n "$pattern" ] || pattern="|$coredump %P %u %g %s %t %c %h"

mkdir -p "$out" /var/lib/systemd/coredump
started=()
cleanup() {
	local p
	for p in "${started[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

# ---- journald: the machine's, or one started here ----
if ! echo probe | systemd-cat -t coretool-samples 2>/dev/null; then
	log "no journald listening: starting $journald"
	"$journald" >"$out/journald.log" 2>&1 &
	started+=($!)
	for _ in $(seq 50); do echo probe | systemd-cat -t coretool-samples 2>/dev/null && break; sleep 0.2; done
	journalctl --flush 2>/dev/null || log "journalctl --flush failed: entries stay in /run/log/journal"
fi
# ---- the coredump socket: systemd's unit, or systemd-socket-activate ----
if [ ! -d /run/systemd/system ]; then
	log "PID 1 is not systemd: systemd-socket-activate stands in for systemd-coredump.socket"
	rm -f /run/systemd/coredump
	mkdir -p /run/systemd
	systemd-socket-activate --seqpacket --accept -l /run/systemd/coredump "$coredump" >"$out/socket-activate.log" 2>&1 &
	started+=($!)
	for _ in $(seq 50); do [ -S /run/systemd/coredump ] && break; sleep 0.1; done
fi

# crash BIN SCENARIO DIR: runs BIN (named SCENARIO, its comm) as samples/build.sh's run_one does,
# with the package's core_pattern for just this run; prints the crashed pid (from truth.json)
crash() {
	local bin=$1 sc=$2 dir=$3
	rm -rf "$dir"
	mkdir -p "$dir"
	ln -f "$bin" "$dir/exe" 2>/dev/null || cp -p "$bin" "$dir/exe"
	ln -f "$dir/exe" "$dir/$sc"
	(
		flock -w 600 9 || { log "cannot take $lock"; exit 1; }
		saved=$(cat /proc/sys/kernel/core_pattern)
		trap 'printf "%s\n" "$saved" >/proc/sys/kernel/core_pattern' EXIT
		printf '%s\n' "$pattern" >/proc/sys/kernel/core_pattern
		(
			cd "$dir" || exit 99
			ulimit -c unlimited
			env GOTRACEBACK=crash timeout -s KILL 120 "./$sc" "$sc" "$dir" >stdout.txt 2>stderr.txt
		) 2>/dev/null
		exit 0
	) 9>>"$lock"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$dir/truth.json" 2>/dev/null
}

# entry PID EXE: waits for systemd-coredump's journal entry of that crash (the stored file is
# written before it), prints it as one JSON line
entry() {
	local e
	for _ in $(seq 600); do
		e=$(journalctl --no-pager -o json "MESSAGE_ID=$msgid" "COREDUMP_PID=$1" "COREDUMP_EXE=$2" 2>/dev/null | tail -n 1)
		[ -n "$e" ] && { printf '%s\n' "$e"; return 0; }
		sleep 0.2
	done
	return 1
}

field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get(sys.argv[1], ""))' "$1"; }

failed=0
for tc in $toolchains; do
	bin=$samples/$tc/bin/crasher
	if [ ! -x "$bin" ]; then
		log "$tc: no $bin (run samples/build.sh first)"
		failed=$((failed + 1))
		continue
	fi
	for sc in $scenarios; do
		dir=$out/$tc/$sc
		pid=$(crash "$bin" "$sc" "$dir")
		if [ -z "$pid" ] || ! e=$(entry "$pid" "$dir/$sc"); then
			log "$tc $sc: no journal entry (pid ${pid:-?})"
			failed=$((failed + 1))
			continue
		fi
		printf '%s\n' "$e" >"$dir/journal.json"
		stored=$(printf '%s' "$e" | field COREDUMP_FILENAME)
		if [ ! -f "$stored" ]; then
			log "$tc $sc: pid $pid: stored file '$stored' not there"
			failed=$((failed + 1))
			continue
		fi
		cp --preserve=xattr "$stored" "$dir/"
		printf '%s\n' "$stored" >"$dir/stored"
		coredumpctl --no-pager --json=short list "COREDUMP_PID=$pid" "COREDUMP_EXE=$dir/$sc" >"$dir/coredumpctl.json" 2>/dev/null
		coredumpctl --no-pager info "COREDUMP_PID=$pid" "COREDUMP_EXE=$dir/$sc" >"$dir/coredumpctl-info.txt" 2>/dev/null
		printf '%-8s %-16s pid %-7s %s (%s bytes)\n' "$tc" "$sc" "$pid" "$stored" "$(stat -c %s "$stored")"
	done
done

# ---- a journal entry whose stored file is gone (as after systemd-tmpfiles' cleanup) ----
tc=${toolchains%% *}
dir=$out/gone
pid=$(crash "$samples/$tc/bin/crasher" go-nil-deref "$dir")
if [ -n "$pid" ] && e=$(entry "$pid" "$dir/go-nil-deref"); then
	printf '%s\n' "$e" >"$dir/journal.json"
	rm -f "$(printf '%s' "$e" | field COREDUMP_FILENAME)"
	printf '%-8s %-16s pid %-7s stored file deleted\n' "$tc" gone "$pid"
else
	log "gone: no journal entry (pid ${pid:-?})"
	failed=$((failed + 1))
fi
[ "$failed" = 0 ] || { log "$failed crash(es) not collected"; exit 1; }
exit 0
