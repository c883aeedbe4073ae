# Sourced by samples/build.sh and samples/libsuite/build.sh: how cores are made on this
# machine. Needs: out (the output directory), a log function. Sets mode (kernel | gdb, or
# CORE_MODE), and defines write_gdb_driver/gdb_py (gdb mode), is_core and signame.
# kernel.core_pattern is machine-wide, and more than one build may run on a machine at once:
# whoever changes it (samples/systemd-cores.sh, scripts/install-deps.sh) holds this lock
# exclusively; a kernel-mode crash holds it shared (with_pattern_lock), so its core lands where
# the pattern said when the run began.
CORE_PATTERN_LOCK=${CORE_PATTERN_LOCK:-/tmp/coretool-core-pattern.lock}
export CORE_PATTERN_LOCK
with_pattern_lock() { # with_pattern_lock CMD...: CMD under a shared hold of the lock
	(
		flock -s -w 600 9 || true
		"$@"
	) 9>>"$CORE_PATTERN_LOCK"
}
core_pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || echo "|unknown")
mode=${CORE_MODE:-}
if [ -z "$mode" ]; then
	case $core_pattern in
	'|'* | */*) mode=gdb ;;
	*) mode=kernel ;;
	esac
	if [ "$mode" = kernel ] && ! (ulimit -c unlimited) 2>/dev/null; then
		mode=gdb
	fi
fi
if [ "$mode" = gdb ] && ! command -v gdb >/dev/null; then
	log "core_pattern is '$core_pattern' and gdb is not installed: cannot make cores"
	exit 2
fi

# gdb driver: let every signal through to the program's own handlers (Go catches SIGSEGV and
# SIGABRT); stop only when a fatal signal arrives that the process does not catch (Go resets
# SIGABRT to SIG_DFL before re-raising it), write the core there and kill the process.
gdb_py=$out/.gcore-at-death.py
write_gdb_driver() {
	mkdir -p "$out"
	cat >"$gdb_py.tmp" <<'EOF'
import gdb

FATAL = "SIGSEGV SIGABRT SIGBUS SIGILL SIGFPE SIGSYS"

def caught(pid, sig):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return (int(line.split()[1], 16) >> (sig - 1)) & 1
    except OSError:
        pass
    return 0

gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set disable-randomization off")  # addresses as in a normal run
gdb.execute("handle all nostop noprint pass")
gdb.execute("handle %s stop print pass" % FATAL)
# "run ARGS" replaces the --args arguments: repeat them, with the redirections
shown = gdb.execute("show args", to_string=True)
args = shown[shown.index('"') + 1:shown.rindex('"')]
gdb.execute("run %s >stdout.txt 2>stderr.txt" % args)
while True:
    inf = gdb.selected_inferior()
    if inf is None or inf.pid == 0:
        break
    try:
        sig = int(gdb.parse_and_eval("$_siginfo.si_signo"))
    except gdb.error:
        break
    if caught(inf.pid, sig):
        gdb.execute("continue")
        continue
    gdb.execute("gcore core")
    gdb.execute("kill")
    break
EOF
	mv "$gdb_py.tmp" "$gdb_py"
}
[ "$mode" = gdb ] && write_gdb_driver

is_core() { # ELF magic and e_type == ET_CORE
	[ -f "$1" ] || return 1
	[ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ] || return 1
	[ "$(od -An -tx1 -j16 -N2 "$1" 2>/dev/null | tr -d ' \n')" = 0400 ]
}

signame() {
	case $1 in
	134) echo SIGABRT ;; 139) echo SIGSEGV ;; 135) echo SIGBUS ;; 137) echo SIGKILL ;;
	*) if [ "$1" -gt 128 ] 2>/dev/null; then echo "SIG$(kill -l $(($1 - 128)) 2>/dev/null)"; else echo "exit=$1"; fi ;;
	esac
}

