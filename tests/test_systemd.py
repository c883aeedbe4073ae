"""Cores as systemd-coredump stores them (samples/systemd-cores.sh: the real
pipeline, kernel -> systemd-coredump -> /var/lib/systemd/coredump/*.zst with
user.coredump.* xattrs, and its journal entry), read as is and picked with
--coredumpctl. Expected values come from each crash's own truth.json, from the
kernel core of the same scenario, from the stored file's xattrs (os.getxattr)
and from the journal (journalctl / coredumpctl run here, not by coretool)."""
import json
import os
import pathlib
import subprocess

import pytest

from conftest import ROOT, SAMPLES, run, run_json, run_jsonl

SYSTEMD = ROOT / "build" / "samples-systemd"


class Stored:
    def __init__(self, d: pathlib.Path):
        self.dir = d
        self.toolchain, self.scenario = d.parent.name, d.name
        self.file = next(d.glob("core.*.zst"))
        self.truth = json.loads((d / "truth.json").read_text())
        self.entry = json.loads((d / "journal.json").read_text())
        self.pid = self.truth["pid"]

    def __repr__(self):
        return f"{self.toolchain}/{self.scenario}"


def stored():
    return [Stored(j.parent) for j in sorted(SYSTEMD.glob("*/*/journal.json"))
            if list(j.parent.glob("core.*.zst"))]


def cases():
    return [pytest.param(s, id=repr(s)) for s in stored()]


def test_samples_were_made():
    # systemd-cores.sh crashes 4 scenarios with 2 toolchains, plus one whose file is deleted
    assert len(stored()) >= 8, list(SYSTEMD.glob("*/*"))
    assert (SYSTEMD / "gone" / "journal.json").exists()


def journal(*matches):
    """systemd-coredump's journal entries, read with journalctl."""
    p = subprocess.run(["journalctl", "--no-pager", "-o", "json",
                        "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", *matches],
                       capture_output=True, text=True, timeout=120)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def check_against_truth(rep, truth):
    crash = truth["crash"]
    assert rep["class"] == crash["class"], rep["verdict"]
    assert rep["signal"]["name"] == crash["signal"], rep["signal"]
    if crash.get("fault_addr"):
        assert rep["signal"]["addr"] == crash["fault_addr"]
    if crash.get("c_function"):
        assert rep["c_function"] == crash["c_function"]
    if crash.get("go_caller"):
        assert (rep["go_caller"] or "").startswith(crash["go_caller"])
    holder = crash.get("holder") or {}
    if holder.get("map"):
        assert holder["map"] in (rep["best_holder"] or "") and holder["key"] in rep["best_holder"]
    if holder.get("global"):
        held = (rep.get("victim") or {}).get("held_by", []) + [h["where"] for h in rep["holders"]]
        assert any(w.startswith(holder["global"] + "+") for w in held), held


@pytest.mark.parametrize("case", cases())
def test_stored_core_triages_as_the_kernel_core(case):
    rc, rep, err = run_json(["triage", case.file])
    assert rc in (0, 1), err
    assert rep["input"]["format"] == "zstd"
    check_against_truth(rep, case.truth)
    # the kernel's own core of the same scenario (samples/build.sh): what
    # does not depend on the run is the same
    kernel = SAMPLES / case.toolchain / case.scenario / "core"
    rc, krep, err = run_json(["triage", kernel])
    assert rc in (0, 1), err
    assert krep["class"] == rep["class"]
    assert krep["signal"]["name"] == rep["signal"]["name"]
    assert krep["signal"]["source"] == rep["signal"]["source"]
    assert krep["c_function"] == rep["c_function"]
    assert krep["go_caller"] == rep["go_caller"]
    region = lambda r: r["fault_address"] and (r["fault_address"]["region"], r["fault_address"]["state"])
    assert region(krep) == region(rep)
    assert (krep["best_holder"] is None) == (rep["best_holder"] is None)
    assert "origin" not in krep


@pytest.mark.parametrize("case", cases())
def test_every_verb_takes_the_stored_file(case):
    crash = case.truth["crash"]
    rc, bt, err = run_json(["bt", case.file])
    assert rc in (0, 1), err
    # the faulting thread first, through the C function that faulted (at the
    # top, or under glibc's abort and malloc_printerr)
    assert bt[0]["thread"] == case.pid
    if crash.get("c_function"):
        funcs = [f["function"] for f in bt[0]["frames"]]
        assert crash["c_function"] in funcs[:10], funcs
    rc, gs, err = run_json(["goroutines", case.file])
    assert rc in (0, 1) and gs, err
    rc, heap, err = run_json(["heap", case.file])
    assert rc in (0, 1) and heap, err
    if crash.get("fault_addr"):
        rc, out, err = run(["classify", case.file, crash["fault_addr"]])
        assert rc in (0, 1) and out.startswith(crash["fault_addr"]), err
    holder = crash.get("holder") or {}
    if holder.get("map"):
        rc, maps, err = run_json(["maps", case.file])
        assert rc in (0, 1), err
        assert holder["map"] in [m["path"] for m in maps["maps"]]


@pytest.mark.parametrize("case", cases())
def test_origin_is_what_systemd_recorded(case):
    rc, info, err = run_json(["info", case.file])
    assert rc in (0, 1), err
    origin = info["origin"]
    assert origin["collector"] == "systemd-coredump"
    # the copy kept the stored file's xattrs (cp --preserve=xattr)
    for attr, key in (("pid", "pid"), ("uid", "uid"), ("gid", "gid"), ("signal", "signal"),
                      ("timestamp", "timestamp"), ("hostname", "hostname"),
                      ("comm", "comm"), ("exe", "exe")):
        assert origin[key] == os.getxattr(case.file, "user.coredump." + attr).decode(), key
    assert origin["pid"] == str(case.pid)
    assert origin["boot_id"] == case.entry["_BOOT_ID"]
    assert info["process"]["pid"] == case.pid
    assert info["core"]["path"] == str(case.file)


@pytest.mark.parametrize("case", cases())
def test_journal_entry_joins_the_origin(case, tmp_path):
    # journalctl -o json's entry, pointed at the copy: --coredumpctl-json
    e = dict(case.entry, COREDUMP_FILENAME=str(case.file))
    f = tmp_path / "entry.json"
    f.write_text(json.dumps(e) + "\n")
    rc, rep, err = run_json(["triage", "--coredumpctl-json", f])
    assert rc in (0, 1), err
    assert rep["core"] == str(case.file)
    check_against_truth(rep, case.truth)
    o = rep["origin"]
    for field, key in (("COREDUMP_PID", "pid"), ("COREDUMP_UID", "uid"), ("COREDUMP_EXE", "exe"),
                       ("COREDUMP_COMM", "comm"), ("COREDUMP_SIGNAL", "signal"),
                       ("COREDUMP_SIGNAL_NAME", "signal_name"), ("COREDUMP_CMDLINE", "cmdline"),
                       ("COREDUMP_HOSTNAME", "hostname"), ("COREDUMP_TIMESTAMP", "timestamp"),
                       ("_BOOT_ID", "boot_id"), ("_MACHINE_ID", "machine_id"),
                       ("__REALTIME_TIMESTAMP", "journal_time")):
        assert o[key] == e[field], key
    if "COREDUMP_UNIT" in e:
        assert o["unit"] == e["COREDUMP_UNIT"]
    else:
        assert "unit" not in o


@pytest.mark.parametrize("case", cases())
def test_coredumpctl_picks_by_pid(case):
    want = journal(f"COREDUMP_PID={case.pid}", f"COREDUMP_EXE={case.entry['COREDUMP_EXE']}")
    assert want, "the crash's journal entry is not in the journal"
    rc, rep, err = run_json(["triage", "--coredumpctl", f"{case.pid} {case.entry['COREDUMP_EXE']}"])
    assert rc in (0, 1), err
    assert rep["core"] == want[-1]["COREDUMP_FILENAME"] == (case.dir / "stored").read_text().strip()
    assert rep["origin"]["journal_time"] == want[-1]["__REALTIME_TIMESTAMP"]
    check_against_truth(rep, case.truth)
    # a single-core verb takes it too, CORE left out of its arguments
    rc, out, err = run(["classify", "--coredumpctl", str(case.pid), "0x0"])
    assert rc in (0, 1) and out.startswith("0x0 "), err


def test_coredumpctl_by_comm_is_a_batch():
    comm = "c-null-deref"
    p = subprocess.run(["coredumpctl", "--no-pager", "--json=short", "list", comm],
                       capture_output=True, text=True, timeout=120)
    listed = json.loads(p.stdout)
    present = [e for e in listed if e["corefile"] == "present"]
    # This build's crashes of that COMM (go1.26 and go1.22); the machine's journal may also
    # hold earlier builds' (their executables gone or rebuilt: reports that are errors).
    ours = {s.pid for s in stored() if s.scenario == comm}
    assert len(ours) >= 2 and ours <= {e["pid"] for e in present}
    rc, reps, err = run_jsonl(["triage", "--coredumpctl", comm])
    assert rc in (0, 1), err
    assert len(reps) == len(present)
    mine = [r for r in reps if "origin" in r and int(r["origin"]["pid"]) in ours]
    assert sorted(int(r["origin"]["pid"]) for r in mine) == sorted(ours)
    assert all(r["class"] == "null-deref" and r["origin"]["comm"] == comm for r in mine)


def test_short_json_is_resolved_through_the_journal():
    case = stored()[0]
    rc, rep, err = run_json(["info", "--coredumpctl-json", case.dir / "coredumpctl.json"])
    assert rc in (0, 1), err
    assert rep["core"]["path"] == case.entry["COREDUMP_FILENAME"]
    assert rep["origin"]["cmdline"] == case.entry["COREDUMP_CMDLINE"]


def test_missing_stored_file_is_reported():
    gone = json.loads((SYSTEMD / "gone" / "journal.json").read_text())
    assert not os.path.exists(gone["COREDUMP_FILENAME"])
    match = [f"COREDUMP_PID={gone['COREDUMP_PID']}", f"COREDUMP_EXE={gone['COREDUMP_EXE']}"]
    p = subprocess.run(["coredumpctl", "--no-pager", "--json=short", "list", *match],
                       capture_output=True, text=True, timeout=120)
    assert [e["corefile"] for e in json.loads(p.stdout)] == ["missing"]
    rc, out, err = run(["triage", "--coredumpctl", " ".join(match)])
    assert rc == 2, err
    assert "skipped" in err and gone["COREDUMP_FILENAME"] in err and "missing" in err
    assert "none of the 1 coredumps" in err
    # in a batch with a present one: that one is triaged, the batch is partial
    case = stored()[0]
    both = "\n".join([json.dumps(gone), json.dumps(dict(case.entry, COREDUMP_FILENAME=str(case.file)))])
    rc, reps, err = run_jsonl(["triage", "--coredumpctl-json", "-"], input=both)
    assert rc == 1, err
    assert [r["core"] for r in reps] == [str(case.file)]
    assert gone["COREDUMP_FILENAME"] in err


def test_bad_journal_json_is_an_error(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('[{"pid": 1, "corefile": "present"}, {"pid": ')
    rc, out, err = run(["info", "--coredumpctl-json", f])
    assert rc == 2 and "not JSON" in err, err
    for entry, said in (('[{"COREDUMP_FILENAME": "/x"}]', "has no PID"),
                        ('[7]', "not a JSON object"),
                        ('{"COREDUMP_PID": "5", "COREDUMP_FILENAME": "/etc"}', "/etc: not a regular file")):
        rc, out, err = run(["triage", "--coredumpctl-json", "-"], input=entry)
        assert rc == 2 and said in err, (entry, err)
    rc, out, err = run(["info", "--coredumpctl", "1", "--coredumpctl-json", f])
    assert rc == 64, err
    rc, out, err = run(["info", "--coredumpctl", "COREDUMP_PID=999999999"])
    assert rc == 2 and "No coredumps found" in err, err
