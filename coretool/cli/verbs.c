/* The verb specification: for each verb its arguments, options (types,
 * ranges, defaults), flags and help. The parser (cli.c), `--help`, the usage
 * lines and the gdb commands (through ct_verbs_json) are all made from this
 * table; nothing else lists a verb's options. */
#include <stdint.h>

#include "cli.h"

static const struct cli_arg core_arg[] = {
	{ "CORE", "the core file", 1, 1 },
	{ 0 },
};

static const struct cli_arg classify_args[] = {
	{ "CORE", "the core file", 1, 1 },
	{ "ADDR", "addresses (hexadecimal, with or without 0x); - reads them\n"
		  "from standard input", 1, CLI_MANY },
	{ 0 },
};
static const char classify_help[] =
	"Says what each address is, with the evidence. Regions: go-heap (span, slot,\n"
	"allocated/free/garbage), go-stack (goroutine, live part or not), go-runtime,\n"
	"c-heap (glibc chunk, arena, bin when free), image (module, section, symbol),\n"
	"thread-stack, mapped, unmapped (null-page, non-canonical, stack-guard).\n"
	"Addresses are hexadecimal, with or without 0x. `-` reads them from standard\n"
	"input, one or more per line. The core is opened once for all of them.\n";
static const char classify_notes[] =
	"With --json: one JSON object per line, fields addr, region, state, detail.\n"
	"A verdict whose state is unknown (memory not in the core) makes the exit\n"
	"status 1.\n";

static const struct cli_opt info_opts[] = {
	{ "--layout", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "instead, the layout the Go heap model read from the DWARF:\n"
	  "the offset and size of each runtime.mspan field it uses" },
	{ 0 },
};
static const char info_help[] =
	"Prints what the core holds: the process and its command line, the core's own\n"
	"signal information (NT_SIGINFO), each thread with its PC and function, the\n"
	"executable (and whether its build-id matches the core), the shared libraries\n"
	"and whether their files were found, the Go version and map implementation\n"
	"(read from DWARF), and which memory the core did not save.\n";

static const struct cli_arg maps_args[] = {
	{ "CORE", "the core file", 1, 1 },
	{ "PATTERN", "only paths matching this shell pattern ('main.*')", 0, 1 },
	{ 0 },
};
static const struct cli_opt maps_opts[] = {
	{ "--depth", NULL, CLI_OPT_UINT, "N", 0, 16, 3, 0,
	  "pointers followed from a global, 0 for none" },
	{ "--no-walk", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "read headers only (no health walk: fast on huge maps)" },
	{ 0 },
};
static const char maps_help[] =
	"Finds every Go map reachable from the program's global variables: globals of\n"
	"map type, maps in fields of global structs and elements of global arrays\n"
	"(main.cfg.byName, main.arr[3]), maps reached through pointers, slices and\n"
	"interfaces from globals (*main.p, main.v.(map[string]int); up to --depth\n"
	"pointers, 100000 objects in all), and maps held in other maps' values\n"
	"(main.nested[\"big\"]). For each: its path, the header address, the type, the\n"
	"implementation (classic hmap or Swiss table, read from DWARF), the count, the\n"
	"buckets (2^B, overflow, growth state) or the directory and tables, the flags,\n"
	"and its health: the map is walked and the live slots found are checked\n"
	"against the count; overflow cycles, wild pointers, impossible tophash/ctrl\n"
	"bytes, a writer flag (hashWriting/writing: evidence of a concurrent write)\n"
	"are reported.\n";
static const char maps_notes[] =
	"Output: one line per map (text), or with --json one object\n"
	"  {\"maps\": [{\"path\", \"slot\", \"addr\", \"type\", \"key_type\", \"elem_type\",\n"
	"   \"impl\", \"nil\", \"count\", classic: \"B\", \"buckets\", \"oldbuckets\",\n"
	"   \"nevacuate\", \"noverflow\", swiss: \"dir_len\", \"global_depth\", \"tables\",\n"
	"   \"groups\", \"growing\", \"growth\", \"flags\", \"health\": {\"ok\", \"live\",\n"
	"   \"complete\", \"issues\": [...]}}], \"globals\", \"truncated\"}\n"
	"Addresses are \"0x...\" strings. A map whose health is not ok, or whose\n"
	"pointer is not in the core, makes the exit status 1 and is named on stderr.\n"
	"Pointers followed on the way (fields, slices, interfaces: often stale) that\n"
	"cannot be read, and search bounds reached (\"truncated\"), are said with -v.\n";

static const struct cli_arg map_args[] = {
	{ "CORE", "the core file", 1, 1 },
	{ "NAME|ADDR:TYPE", "the map: its path as `coretool maps` prints it, or its\n"
			    "header's address and type", 1, 1 },
	{ 0 },
};
static const struct cli_opt map_opts[] = {
	{ "--limit", NULL, CLI_OPT_UINT, "N", 0, UINT64_MAX, 0, CLI_OPT_NO_DEFAULT,
	  "show at most N entries (with --layout: N buckets/groups);\n"
	  "the whole map is still walked for the health check" },
	{ "--layout", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "show the buckets (tophash bytes, overflow chains, evacuation\n"
	  "marks) or the tables and groups (ctrl bytes) instead of the\n"
	  "entries" },
	{ 0 },
};
static const char map_help[] =
	"Dumps one Go map. The map is named by its path as `coretool maps` prints it\n"
	"(main.cache, main.cfg.byName, main.arr[3], *main.p, main.nested[\"big\"]), or\n"
	"given as the address of its header and its type: 0xc000012345:map[string]int\n"
	"(the address `maps` shows; quote the argument for the shell).\n"
	"\n"
	"Entries are streamed in bucket/group order, each live entry once, also for a\n"
	"classic map caught in the middle of growing (old buckets not yet evacuated\n"
	"plus the new array). Keys and values are rendered from their DWARF types:\n"
	"integers and floats as numbers, strings as strings (invalid UTF-8 escaped),\n"
	"pointers/unsafe.Pointer/uintptr/chan/func as \"0x...\" strings, structs as\n"
	"objects by field name, arrays as arrays, slices as {len, cap, ptr},\n"
	"interfaces as {type, data, value}, nested maps as {map, count}.\n"
	"\n"
	"After the entries, the health check: count (hmap.count / Map.used) against\n"
	"the live slots found, and whatever the walk found wrong (overflow cycles,\n"
	"wild or unsaved bucket/group/table pointers, impossible tophash or ctrl\n"
	"bytes, table counters that disagree, a writer flag set). A damaged map is\n"
	"dumped as far as it can be read and the exit status is 1.\n";
static const char map_notes[] =
	"Text layout legend: classic tophash: hex = live slot (top hash byte),\n"
	"  __ = emptyRest, .. = emptyOne, eX/eY = evacuated to the X/Y half,\n"
	"  e_ = evacuatedEmpty; swiss ctrl: hex = full slot (h2 hash bits),\n"
	"  -- = empty, DD = deleted (tombstone), !! = impossible byte.\n"
	"\n"
	"JSON (--json): one object {\"path\", \"addr\", \"type\", \"impl\", \"count\",\n"
	"  \"entries\": [{\"key\": ..., \"value\": ...}, ...] (or \"buckets\"/\"tables\"/\n"
	"  \"groups\" with --layout), \"shown\", \"truncated\", \"health\": {\"ok\",\n"
	"  \"count\", \"live\", \"complete\", \"issues\", \"stopped\"}}.\n";

static const struct cli_arg triage_args[] = {
	{ "CORE", "core files (raw, compressed or zipped: told by their bytes)\n"
	  "or directories (searched for cores, recursively): one\n"
	  "report each", 0, CLI_MANY },
	{ 0 },
};
static const struct cli_opt triage_opts[] = {
	{ "--jobs", "-j", CLI_OPT_UINT, "N", 1, 256, 1, CLI_OPT_CORES_ONLY,
	  "analyse N cores at a time (each in its own process: one\n"
	  "bad core never stops the batch)" },
	{ "--from", NULL, CLI_OPT_STRING, "FILE", 0, 0, 0, CLI_OPT_CORES_ONLY,
	  "also the cores listed in FILE, one path (or directory) per\n"
	  "line; - reads the list from standard input" },
	{ "--summary", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, CLI_OPT_CORES_ONLY,
	  "after the reports, the groups by signature with counts" },
	{ "--sarif", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, CLI_OPT_CORES_ONLY,
	  "instead of reports, one SARIF 2.1.0 log with one result per\n"
	  "signature (for code-scanning dashboards)" },
	{ "--timeout", NULL, CLI_OPT_UINT, "SECONDS", 0, 604800, 300, CLI_OPT_CORES_ONLY,
	  "give up on a core after SECONDS: its result is an error\n"
	  "(kind timeout) and the batch goes on; 0: no limit" },
	{ "--max-mem", NULL, CLI_OPT_UINT, "MB", 0, 1u << 24, 4096, CLI_OPT_CORES_ONLY,
	  "memory budget per core: the analysing process's address\n"
	  "space beyond the core's own mapping (RLIMIT_AS; not under\n"
	  "ASan); a core that comes near it is an error (kind\n"
	  "memory); 0: no limit" },
	{ "--retain", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "also the path from a root that keeps the holder alive:\n"
	  "the typed heap of the whole core (as `retain`), so slower" },
	{ 0 },
};
static const char triage_help[] =
	"For each core: the real fault (recovered from Go's signal frame when Go\n"
	"re-raised SIGABRT), the faulting instruction (decoded: access, operand,\n"
	"effective address) and the pointer it used, with where that pointer was\n"
	"loaded from, the faulting thread and goroutine, the stitched C/Go\n"
	"backtrace, the classification of the addresses and registers, who still\n"
	"holds the object (named holders first), Go's fatal error or running panic,\n"
	"glibc's abort message, a crash class with the rule that gave it, a one-line\n"
	"verdict and two signatures for grouping (the program's own frames; all).\n";
static const char triage_notes[] =
	"With --json: one JSON object per core per line (JSON Lines); a core that\n"
	"cannot be read gives {\"core\": ..., \"error\": ..., \"kind\": ...}, and so\n"
	"does one past its budget (kind timeout or memory) or one that kills the\n"
	"analysis (kind crash).\n"
	"\n"
	"Several cores (or one with --summary, --sarif, --timeout or --max-mem, or\n"
	"any from a directory or --from) are each analysed in a process of their\n"
	"own, under the time and memory budget; on a terminal a progress line shows\n"
	"the counts, the rate and the time left, and a last line the totals. A\n"
	"directory is searched recursively (symbolic links not followed) for files\n"
	"that are cores, raw, compressed (zstd, lz4, xz, gzip) or zipped, in name\n"
	"order; other files there are skipped.\n"
	"\n"
	"Classes: null-deref, c-use-after-free, go-use-after-free, wild-pointer,\n"
	"stack-overflow, c-heap-corruption, double-free, concurrent-map-write,\n"
	"go-fatal, go-panic, abort, unknown.\n";

static const char goroutines_help[] =
	"Lists every goroutine of runtime.allgs (dead ones left out unless -v): id,\n"
	"status, wait reason, the thread running it, and the first frame outside the\n"
	"runtime (its own code), from its saved state (frame pointers).\n"
	"With --leaks, the goroutines blocked on a channel, select, mutex, WaitGroup\n"
	"or cond that nothing live can reach (Go's goroutine-leak rule, post mortem:\n"
	"the primitive is not reachable from Go globals or from the stack of any\n"
	"goroutine that may still run), grouped by their stacks.\n";
static const struct cli_opt goroutines_opts[] = {
	{ "--leaks", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "only the leaked goroutines, grouped by stack" },
	{ 0 },
};

static const struct cli_opt bt_opts[] = {
	{ "--all", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "every thread (C frames, then its goroutine's Go frames),\n"
	  "then every goroutine not running on a thread" },
	{ "--vars", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "each frame's parameters and locals (text), where DWARF\n"
	  "locations give them: <optimized out> where not" },
	{ 0 },
};
static const char bt_help[] =
	"The backtrace of the thread that took the fault (registers from Go's signal\n"
	"frame when Go re-raised the signal): its C frames, then across the cgo\n"
	"switch the Go frames of the goroutine that made the call.\n";

static const char cgocheck_help[] =
	"Audits the pointers that cross the cgo boundary, after the fact:\n"
	"  C memory holding Go pointers (allocated glibc chunks, C globals of the\n"
	"  executable and its libraries): `dangling` when the Go object is free or\n"
	"  garbage (will crash or corrupt), `unpinned` when it is live but neither\n"
	"  pinned by a runtime.Pinner nor otherwise allowed (works by luck), `ok`\n"
	"  when pinned. (A runtime/cgo.Handle is an integer, not a pointer: it is\n"
	"  never flagged.)\n"
	"  Go memory holding pointers to freed C chunks: map entries (named with\n"
	"  their key), Go globals, and, marked conservative, words of live Go heap\n"
	"  objects.\n"
	"Pointers on thread stacks are listed apart (they may be in flight in a call).\n";
static const char cgocheck_notes[] =
	"Exit status (1 is not \"partial\" here: it says what the audit found):\n"
	"  0   whole audit, nothing dangling\n"
	"  1   whole audit, something dangling\n"
	"  3   partial audit: memory it needed missing or unreadable (said on stderr);\n"
	"      what it could not see may dangle too (summary.dangling counts what it saw)\n"
	"  2, 64  fatal, usage (as below)\n"
	"With --json, summary.truncated is true when the findings are not all there\n"
	"(the list was cut, or the audit is partial).\n";

static const struct cli_opt heap_opts[] = {
	{ "--top", NULL, CLI_OPT_UINT, "N", 1, UINT32_MAX, 0, CLI_OPT_NO_DEFAULT,
	  "only the N classes (with --by-type: types, chunk sizes)\n"
	  "with the most live bytes" },
	{ "--by-type", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "the typed heap: objects and bytes per Go type, found by\n"
	  "following typed pointers from the roots, plus glibc's\n"
	  "live chunks by size" },
	{ "--pprof", NULL, CLI_OPT_STRING, "FILE", 0, 0, 0, 0,
	  "with --by-type: also write a pprof profile (gzipped\n"
	  "profile.proto) of the reached objects, inuse_objects and\n"
	  "inuse_space, each stacked on its retention path (its type,\n"
	  "then its holders' types up to the root); `go tool pprof`\n"
	  "reads it" },
	{ 0 },
};
static const char heap_help[] =
	"Counts the Go heap by span class (size class and scan/noscan): in-use spans,\n"
	"live objects (slots allocated by the span's freeindex and allocation bits),\n"
	"free slots, live bytes and span bytes; large objects (size class 0) apart;\n"
	"stack and other manually managed spans in one line.\n"
	"With --by-type, the typed heap: every object reachable from the roots (Go\n"
	"globals, goroutine stacks, then C memory) given the Go type of the pointer\n"
	"that reached it (DWARF: structs, arrays, slices, strings, maps, interfaces\n"
	"by their dynamic type, channels) or of its allocation header (Go 1.22+: scan\n"
	"objects over 512 bytes and large ones). A goroutine's frames are scanned as\n"
	"the GC scans them: the words the runtime's stack maps say are live pointers,\n"
	"and its stack objects by their pointer masks. Words of unknown type\n"
	"(unsafe.Pointer, a running frame, C memory) are scanned conservatively and\n"
	"what only they reach is counted untyped, with the reason.\n"
	"With --pprof FILE, the same objects as a profile: each object stacked on the\n"
	"path by which it was first reached (leaf: its type; root: the global's name,\n"
	"`goroutine`, or the kind of C memory; a path over 64 frames keeps both ends,\n"
	"cut by `(more holders)`), objects on the same path one sample, so that `go\n"
	"tool pprof -top` shows what holds the bytes, as goref does; glibc's live\n"
	"chunks are samples too, one stack per chunk size (`[C] malloc chunk N bytes`).\n";

static const struct cli_arg retain_args[] = {
	{ "CORE", "the core file", 1, 1 },
	{ "ADDR", "an address in a Go heap object", 1, 1 },
	{ 0 },
};
static const struct cli_opt retain_opts[] = {
	{ "--paths", NULL, CLI_OPT_UINT, "N", 1, 64, 0, CLI_OPT_NO_DEFAULT,
	  "at most N paths: the first one found, then one through\n"
	  "each other word that holds the object (default 4)" },
	{ "--retained", NULL, CLI_OPT_FLAG, NULL, 0, 0, 0, 0,
	  "also the retained size: the object and what only it keeps\n"
	  "alive (its dominator subtree), by a second mark of the heap\n"
	  "without it" },
	{ 0 },
};
static const char retain_help[] =
	"Who keeps an object alive: the path by which the typed heap first reached the\n"
	"object holding ADDR from a root (a Go global, a goroutine's stack, C memory),\n"
	"each step an object with its type and the field that points on\n"
	"(`main.cache → map internals @0x.. → *main.Session @0x.. .buf → []uint8`).\n"
	"Roots are marked in order (globals, stacks, C memory), breadth first, so the\n"
	"path is a shortest one from the first kind of root that reaches the object;\n"
	"then one path through each other word that points into the object (not a\n"
	"word in pointer-free memory). An object no root reaches has no path: the\n"
	"words that hold its address are not pointers the GC follows.\n";

static const struct cli_opt no_opts[] = { { 0 } };

/* For every verb: the cores systemd-coredump stored, picked from the journal
 * (cli.c: cli_core_pick). */
const struct cli_opt cli_core_opts[] = {
	{ "--coredumpctl", NULL, CLI_OPT_STRING, "MATCH", 0, 0, 0, CLI_OPT_CORES_ONLY,
	  "the cores of `coredumpctl list MATCH` (a PID, COMM, EXE\n"
	  "path or FIELD=VALUE; several separated by blanks), each\n"
	  "read from its stored file, with the journal's unit, boot\n"
	  "ID, time, ... in the report's origin; triage takes every\n"
	  "match, other verbs the newest; a match whose file is gone\n"
	  "is skipped, said on stderr" },
	{ "--coredumpctl-json", NULL, CLI_OPT_STRING, "FILE", 0, 0, 0, CLI_OPT_CORES_ONLY,
	  "the same from saved output (- for standard input): of\n"
	  "`coredumpctl --json=short list` (files then looked up with\n"
	  "journalctl) or of `journalctl -o json` (entries of\n"
	  "systemd-coredump, files and all)" },
	{ 0 },
};

const struct cli_verb cli_verbs[] = {
	{ "info", cmd_info, "CORE",
	  "the process, threads, signal, modules, Go version and map implementation", info_help,
	  NULL, core_arg, info_opts, CLI_VERB_NEEDS_CORE },
	{ "classify", cmd_classify, "CORE ADDR... | CORE -",
	  "what each address is: Go heap, goroutine stack, C heap, image, thread stack, ...",
	  classify_help, classify_notes, classify_args, no_opts, 0 },
	{ "maps", cmd_maps, "CORE [PATTERN]", "every Go map reachable from globals, with its health",
	  maps_help, maps_notes, maps_args, maps_opts, 0 },
	{ "map", cmd_map, "CORE NAME|ADDR:TYPE",
	  "one Go map's entries, or its buckets/groups with --layout", map_help, map_notes,
	  map_args, map_opts, 0 },
	{ "triage", cmd_triage, "CORE|DIR...",
	  "the crash report: real fault, stitched stacks, holders, class, verdict", triage_help,
	  triage_notes, triage_args, triage_opts, CLI_VERB_NEEDS_CORE },
	{ "goroutines", cmd_goroutines, "CORE", "every goroutine: status, wait reason, thread, own frame",
	  goroutines_help, NULL, core_arg, goroutines_opts, 0 },
	{ "bt", cmd_bt, "CORE", "stitched C/Go backtraces of the faulting thread (or all)", bt_help,
	  NULL, core_arg, bt_opts, CLI_VERB_NEEDS_CORE },
	{ "cgocheck", cmd_cgocheck, "CORE",
	  "pointers across the cgo boundary: Go pointers in C memory, freed C pointers in Go",
	  cgocheck_help, cgocheck_notes, core_arg, no_opts, CLI_VERB_NEEDS_CORE },
	{ "heap", cmd_heap, "CORE", "Go heap census by size class, or by Go type (--by-type)",
	  heap_help, NULL, core_arg, heap_opts, 0 },
	{ "retain", cmd_retain, "CORE ADDR", "the path from a root that keeps ADDR's object alive",
	  retain_help, NULL, retain_args, retain_opts, CLI_VERB_NEEDS_CORE },
};
const size_t cli_nverbs = sizeof(cli_verbs) / sizeof(cli_verbs[0]);
