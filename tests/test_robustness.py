"""Untrusted cores: every verb on every case of the corrupted-core corpus
(scripts/corrupt_cores.py, build/corrupt/) must end cleanly, in bounded time
and memory, and say what is wrong.

For each case and verb: exit status 0, 1 or 2 (64 is for usage only, and the
command lines here are valid); a non-zero status comes with a `coretool:` line
on stderr; no signal death, no sanitizer report, no traceback, no hang (20 s)
and no runaway memory (RLIMIT_AS 4 GiB, set with the shell's ulimit; under
ASan, whose shadow memory does not fit an address-space limit,
hard_rss_limit_mb and max_allocation_size_mb);
JSON output parses and is valid UTF-8. Some cases also say what must be
reported (the manifest's `expect`): a wrong executable, a damaged map, a
truncated file must not pass for a full result.

The run writes build/ROBUSTNESS.md: the cases tried and the outcomes per verb.
Runs the cases in parallel (ROBUSTNESS_JOBS, default: the number of CPUs).
"""
import concurrent.futures
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from conftest import CORETOOL, ROOT, SANITIZER_EXIT, sanitizer_report

CORPUS = ROOT / "build" / "corrupt"
REPORT = ROOT / "build" / "ROBUSTNESS.md"
TIMEOUT = 20
MEM_LIMIT = 4 << 30
VERBS = ("info", "classify", "triage", "maps", "map", "heap", "heap-by-type", "retain", "leaks")
# Text output for the verbs with the most text rendering (see TEXT_KINDS); JSON for all.
TEXT_VERBS = ("triage", "map")


def sanitized(binary: pathlib.Path) -> bool:
    try:
        with open(binary, "rb") as f:
            return b"AddressSanitizer" in f.read()
    except OSError:
        return False


SANITIZED = sanitized(CORETOOL)


def load_manifest():
    """Generates the corpus if needed (quick when up to date) and loads it."""
    if not (ROOT / "build" / "samples").is_dir():
        return None
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "corrupt_cores.py")],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"corrupt_cores.py failed:\n{p.stdout}\n{p.stderr}")
    mf = CORPUS / "manifest.json"
    return json.loads(mf.read_text()) if mf.exists() else None


MANIFEST = load_manifest()
CASES = MANIFEST["cases"] if MANIFEST else []


def limited(args):
    """args under RLIMIT_AS (and no core dumps of our own). Through the shell's
    ulimit rather than preexec_fn, which is not safe with the worker threads."""
    return ["/bin/sh", "-c", f'ulimit -v {MEM_LIMIT // 1024} && ulimit -c 0 && exec "$0" "$@"'] + args


def command(case, verb, json_mode):
    core = str(ROOT / case["core"])
    args = [str(CORETOOL)]
    if case.get("exe"):
        args += ["--exe", str(ROOT / case["exe"])]
    if json_mode:
        args.append("--json")
    if verb == "classify":
        args += ["classify", core] + (case.get("classify") or ["0x8"])
    elif verb == "map":
        args += ["map", core, case.get("map") or "main.nope", "--limit", "50"]
    elif verb == "heap-by-type":  # the typed heap: every root, every pointer
        args += ["heap", core, "--by-type", "--pprof", os.devnull]
    elif verb == "retain":
        args += ["retain", core, (case.get("classify") or ["0x8"])[0]]
    elif verb == "leaks":
        args += ["goroutines", core, "--leaks"]
    else:
        args += [verb, core]
    return args


def run_one(case, verb, json_mode):
    args = command(case, verb, json_mode)
    env = dict(os.environ)
    if SANITIZED:
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":hard_rss_limit_mb=4096:max_allocation_size_mb=2048").lstrip(":")
    t0 = time.monotonic()
    res = dict(case=case["name"], verb=verb, json=json_mode, args=args)
    try:
        p = subprocess.run(args if SANITIZED else limited(args), capture_output=True,
                           timeout=TIMEOUT, env=env)
        res.update(rc=p.returncode, stdout=p.stdout, stderr=p.stderr.decode("utf-8", "replace"))
    except subprocess.TimeoutExpired as e:
        res.update(rc=None, timeout=True, stdout=e.stdout or b"",
                   stderr=(e.stderr or b"").decode("utf-8", "replace"))
    res["secs"] = time.monotonic() - t0
    res["problems"] = problems(case, res)
    return res


def json_values(text: str):
    """Parses a stream of JSON values (one document or JSON Lines)."""
    dec = json.JSONDecoder()
    i, out = 0, []
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def first_line(stderr: str) -> str:
    for line in stderr.splitlines():
        if line.strip():
            return line.strip()
    return ""


def problems(case, r):
    """What is wrong with one run; [] if it behaved."""
    out = []
    rc = r.get("rc")
    err = r["stderr"]
    if r.get("timeout"):
        return [f"hang: no result after {TIMEOUT} s"]
    bad = sanitizer_report(err)
    if rc == SANITIZER_EXIT or bad:
        return [f"sanitizer: {bad or 'exit ' + str(rc)}"]
    if rc < 0:
        return [f"killed by signal {-rc}"]
    if rc not in (0, 1, 2):
        out.append(f"exit status {rc} (expected 0, 1 or 2)")
    if "Traceback" in err:
        out.append("traceback on stderr")
    if rc != 0 and not any(l.startswith("coretool:") for l in err.splitlines()):
        out.append(f"exit status {rc} with nothing said on stderr")
    if r["json"]:
        try:
            text = r["stdout"].decode("utf-8")
        except UnicodeDecodeError as e:
            out.append(f"JSON output is not valid UTF-8 ({e})")
            text = None
        if text is not None:
            try:
                vals = json_values(text)
                if not vals and rc != 2:
                    out.append("no JSON output")
            except ValueError as e:
                out.append(f"JSON output does not parse: {e}")
    exp = case.get("expect") or {}
    verb = r["verb"]
    if "rc" in exp and rc != exp["rc"]:
        out.append(f"exit status {rc}, expected {exp['rc']}")
    nz = exp.get("nonzero")
    if nz and (nz == "all" or verb in nz) and rc == 0:
        out.append("exit status 0: the damage was not reported (a full result would be a lie)")
    # a result (exit 1) must say why it is partial; a fatal error says its own cause
    if exp.get("stderr_any") and rc == 1 and not any(s in err for s in exp["stderr_any"]):
        out.append(f"stderr does not mention any of {exp['stderr_any']}")
    if verb == "info" and exp.get("info_stderr") and exp["info_stderr"] not in err:
        out.append(f"info: stderr does not say '{exp['info_stderr']}'")
    return out


# Damage to the file's structure mostly stops the models early: the text
# renderers get their turn on damaged memory models.
TEXT_KINDS = ("go-heap", "map", "c-heap")


def runs_for(case):
    runs = [(case, v, True) for v in VERBS]
    if case["kind"] in TEXT_KINDS:
        runs += [(case, v, False) for v in TEXT_VERBS]
    return runs


_results = None


def all_results():
    """Runs every case once per session (in parallel), writes the report."""
    global _results
    if _results is None:
        jobs = int(os.environ.get("ROBUSTNESS_JOBS") or os.cpu_count() or 2)
        todo = [x for c in CASES for x in runs_for(c)]
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            res = list(ex.map(lambda x: run_one(*x), todo))
        _results = {}
        for r in res:
            _results.setdefault(r["case"], []).append(r)
        write_report(_results, time.monotonic() - t0)
        # every run, for looking into failures and slow cases
        (CORPUS / "results.json").write_text(json.dumps(
            [{k: v for k, v in r.items() if k != "stdout"} for r in res], indent=1))
    return _results


def outcome(r):
    if r["problems"]:
        return "FAIL"
    return {0: "ok", 1: "partial", 2: "fatal"}.get(r["rc"], str(r["rc"]))


def write_report(results, secs):
    by_verb = {}
    lines = []
    for c in CASES:
        rs = results.get(c["name"], [])
        cells = []
        for v in VERBS:
            r = next((x for x in rs if x["verb"] == v and x["json"]), None)
            o = outcome(r) if r else "-"
            by_verb.setdefault(v, {}).setdefault(o, 0)
            by_verb[v][o] += 1
            cells.append(o)
        fail = [f"{x['verb']}{'' if x['json'] else ' (text)'}: {'; '.join(x['problems'])}"
                for x in rs if x["problems"]]
        said = next((first_line(x["stderr"]) for x in rs if x["json"] and x["rc"] and x["stderr"]), "")
        said = said.replace(str(ROOT) + "/", "").replace("|", "\\|")[:140]
        lines.append(f"| {c['name']} | {c['what'].replace('|', '/')} | " + " | ".join(cells) +
                     f" | {'FAIL: ' + '; '.join(fail) if fail else said} |")
    total = sum(len(v) for v in results.values())
    nfail = sum(1 for v in results.values() for r in v if r["problems"])
    kinds = {}
    for c in CASES:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    hdr = [
        "# Robustness: coretool on corrupted cores",
        "",
        "Generated by `tests/test_robustness.py` (part of `make check`, run against",
        f"`{os.path.relpath(CORETOOL, ROOT)}`{' (ASan+UBSan)' if SANITIZED else ''}); do not edit.",
        "The cases come from `scripts/corrupt_cores.py`: damaged copies of the sample",
        f"cores of {', '.join(MANIFEST['sources'])}.",
        "",
        f"{len(CASES)} cases ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}),",
        f"{total} runs (each verb with --json; {', '.join(TEXT_VERBS)} also as text for the "
        f"{', '.join(TEXT_KINDS)} cases), "
        f"{nfail} failed.",
        "",
        "Each run must exit 0 (full result), 1 (partial, said on stderr) or 2 (fatal, said",
        f"on stderr), within {TIMEOUT} s and 4 GiB, with no signal, no sanitizer report, and JSON",
        "that parses; some cases must also report their damage (see the test's docstring).",
        "",
        "## Outcomes per verb (JSON runs)",
        "",
        "| verb | " + " | ".join(["ok", "partial", "fatal", "FAIL"]) + " |",
        "|---|---|---|---|---|",
    ]
    for v in VERBS:
        d = by_verb.get(v, {})
        hdr.append(f"| {v} | " + " | ".join(str(d.get(o, 0)) for o in ("ok", "partial", "fatal", "FAIL")) + " |")
    hdr += [
        "",
        "## Cases",
        "",
        "ok = exit 0, partial = exit 1, fatal = exit 2; the last column is the first line",
        "coretool wrote on stderr (or what failed).",
        "",
        "| case | damage | " + " | ".join(VERBS) + " | said |",
        "|---|---|" + "---|" * len(VERBS) + "---|",
    ]
    skipped = MANIFEST.get("skipped") or []
    tail = []
    if skipped:
        tail = ["", "## Not generated", ""] + [f"- {s['name']}: {s['why']}" for s in skipped]
    REPORT.write_text("\n".join(hdr + lines + tail) + "\n")


@pytest.mark.skipif(not CASES, reason="no corrupted-core corpus (needs build/samples: make samples)")
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_corrupted_core(case):
    rs = all_results()[case["name"]]
    bad = [r for r in rs if r["problems"]]
    msg = []
    for r in bad:
        msg.append(f"{' '.join(map(str, r['args']))}\n  rc {r.get('rc')}: " + "; ".join(r["problems"]) +
                   "\n  stderr: " + "\n    ".join(r["stderr"].splitlines()[-12:]))
    assert not bad, f"{case['name']} ({case['what']}):\n" + "\n".join(msg)
