#!/usr/bin/env python3
"""plugins_e2e.py SONDE PLUGIN_DIR FIXTURE HOT_FIXTURE: the plugin host end to end.

Builds a private plugin directory and index from the test plugins (with
`sonde index update`, as a user would), then checks, against a live Go
fixture:
- `sonde plugins` gives each plugin its verdict and each refusal its reason;
- the hook order (on_load, on_attach, the command, on_detach, on_unload) and
  what each hook saw (the target's pid, Go version, goroutine count);
- a plugin built against the frozen ABI 1.0 header loads and works;
- refusals, each with its own message and exit code 12: a future ABI major,
  a missing entry symbol, a tampered file (sha256), a world-writable file,
  an incompatible Go range;
- a plugin that crashes (SIGSEGV, abort, SIGFPE; in a command or in
  on_attach) is reported by name and hook, and the target runs on;
- `sonde index check` reports a malformed index with line:column;
- `sonde attach --plugin` hands plugins every state change and every hit,
  in order, and a plugin crashing in on_breakpoint_hit is disabled while the
  session and the target go on (the hot fixture checks its own results);
- sessions: a plugin sets and clears its own breakpoint (ABI 1.1) and sees
  the hit's registers, goroutine and stack; --on-hit, --every, --on-attach
  and --on-detach run plugin commands with a goroutine snapshot; a command
  the plugin does not have is refused before the target is touched.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from sonde_e2e import check, results  # noqa: E402


def host_abi():
    """The ABI this sonde speaks, "1.3", from the header it was built with."""
    hdr = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "plugin-api", "sonde", "plugin.h")
    with open(hdr) as f:
        text = f.read()
    major = re.search(r"#define SONDE_ABI_MAJOR (\d+)", text).group(1)
    minor = re.search(r"#define SONDE_ABI_MINOR (\d+)", text).group(1)
    return "%s.%s" % (major, minor)


HOST_ABI = host_abi()
import agree  # noqa: E402

PLUGINS = ("recorder", "crasher", "future", "noentry", "tracer")




def run(sonde, args, env=None):
    p = subprocess.run([sonde] + args, capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def code_byte(pid, addr):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return f.read(1)[0]


def session_checks(sonde, env, pid, base):
    """Plugin commands on events and plugins' own breakpoints, on the hot fixture."""
    ini = env["SONDE_CONFIG"]
    tlog, rlog = os.path.join(base, "tracer.log"), os.path.join(base, "rec2.log")
    with open(ini, "w") as f:
        f.write("[host]\nplugin_dir = plugins\nindex = plugins.yaml\n\n[recorder]\nlog = %s\n\n"
                "[tracer]\nlog = %s\nbreak = main.cold\nclear_after = 2\n" % (rlog, tlog))
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "--plugin", "tracer", "-d", "1.5", "-q"], env)
    with open(tlog) as f:
        lines = f.read().splitlines()
    hits = [l for l in lines if l.startswith("hit ")]
    check("plugin_sets_its_own_breakpoint", rc == 0 and lines[:1] == ["set main.cold rc=0 id=1"], err + "\n".join(lines))
    check("plugin_breakpoint_hits_reach_its_owner_with_registers_goroutine_and_stack",
          len(hits) == 2 and all("own=1" in h and "rip_is_pc=1" in h and "top=main.cold" in h and
                                 re.search(r"caller=main\.main\.func\d+$", h) and "hit_goroutine=-1" not in h for h in hits) and
          all(h.split("goroutine=")[1].split()[0] == h.split("hit_goroutine=")[1].split()[0] for h in hits),
          "\n".join(lines))
    cleared = [l for l in lines if l.startswith("cleared")]
    check("plugin_clears_its_breakpoint_and_no_hit_follows",
          len(cleared) == 1 and "rc=0" in cleared[0] and lines[-1] == cleared[0], "\n".join(lines))
    if cleared:
        pc = int(cleared[0].split("pc=")[1], 16)
        check("cleared_breakpoint_byte_is_gone", code_byte(pid, pc) != 0xCC, "int3 still at 0x%x" % pc)

    rc, out, err = run(sonde, ["attach", "-p", str(pid), "-b", "main.cold", "-n", "2", "--on-hit", "recorder record"], env)
    counts = [l for l in out.splitlines() if l.endswith(" goroutines")]
    check("on_hit_runs_the_command_with_a_goroutine_snapshot",
          rc == 0 and len(counts) == 2 and out.count("] main.cold") == 2 and out.count("goroutine 1 [") == 2, out + err)
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "-b", "main.cold", "-n", "1", "--on-hit", "tracer top"], env)
    check("on_hit_command_sees_the_hitting_goroutine",
          rc == 0 and "hit goroutine " in out and "  main.cold " in out and re.search(r"^  main\.main\.func\d+ ", out, re.M), out + err)
    open(rlog, "w").close()
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "--every", "400ms", "recorder record", "-d", "1.4"], env)
    counts = [l for l in out.splitlines() if l.endswith(" goroutines")]
    with open(rlog) as f:
        events = f.read().splitlines()
    check("every_runs_the_command_on_an_interval_with_the_target_stopped",
          rc == 0 and len(counts) == 3 and "on_state_change 2->3 reason 3" in events and
          "on_state_change 3->2 reason 3" in events, "%d runs\n%s\n%s" % (len(counts), err, "\n".join(events)))
    open(rlog, "w").close()
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "--on-attach", "recorder record", "--on-detach",
                               "recorder record", "-d", "0.3"], env)
    with open(rlog) as f:
        events = f.read().splitlines()
    runs = [i for i, e in enumerate(events) if e.startswith("run record")]
    detached = [i for i, e in enumerate(events) if e.startswith("on_state_change 2->5")]
    check("on_attach_and_on_detach_run_once_each_in_order",
          rc == 0 and len(runs) == 2 and detached and runs[1] < detached[0] and
          len([l for l in out.splitlines() if l.endswith(" goroutines")]) == 2, err + "\n".join(events))
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "-b", "main.cold", "--on-hit", "recorder nosuch"], env)
    check("unknown_plugin_command_refused_before_attaching",
          rc == 2 and "has no command 'nosuch'" in err and "attached" not in err, err)
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "--every", "1s"], env)
    check("every_without_a_command_is_a_usage_error", rc == 2 and "wants a plugin command" in err, err)
    rc, out, err = run(sonde, ["attach", "-p", str(pid), "-b", "main.cold", "-n", "2", "--non-stop", "--on-hit",
                               "tracer top"], env)
    check("non_stop_hits_reach_plugins", rc == 0 and out.count("hit goroutine ") == 2, out + err)


def main():
    sonde, built, fixture, hot = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    # Every directory above a plugin is checked: /tmp (sticky) and / are safe
    # on any machine; the build tree's parents might not be.
    base = tempfile.mkdtemp(prefix="sonde-plugins-e2e-", dir="/tmp")
    os.chmod(base, 0o755)
    pdir = os.path.join(base, "plugins")
    os.mkdir(pdir, 0o755)
    for n in PLUGINS:
        shutil.copy(os.path.join(built, n + ".so"), pdir)
        os.chmod(os.path.join(pdir, n + ".so"), 0o644)
    index = os.path.join(base, "plugins.yaml")
    log = os.path.join(base, "hooks.log")
    ini = os.path.join(base, "sonde.ini")
    with open(ini, "w") as f:
        f.write("[host]\nplugin_dir = plugins\nindex = plugins.yaml\n\n[recorder]\nlog = %s\n\n[crasher]\n" % log)
    env = dict(os.environ, SONDE_CONFIG=ini)
    proc = None
    try:
        rc, out, err = run(sonde, ["index", "update"] + [os.path.join(pdir, n + ".so") for n in PLUGINS], env)
        check("index_update_writes_every_built_plugin", rc == 0 and os.path.exists(index), err + out)
        rc, out, err = run(sonde, ["index", "check", index], env)
        check("index_check_accepts_what_update_wrote", rc == 0 and "ok, %d plugins" % len(PLUGINS) in out, err + out)

        rc, out, err = run(sonde, ["plugins", "--json"], env)
        doc = json.loads(out) if rc == 0 else {"plugins": []}
        v = {p["name"]: p for p in doc["plugins"]}
        check("plugins_lists_every_indexed_plugin", sorted(v) == sorted(PLUGINS), out + err)
        check("plugins_recorder_loads", v.get("recorder", {}).get("loads") is True, str(v.get("recorder")))
        fut = v.get("future", {})
        check("plugins_future_major_refused_naming_both_versions",
              fut.get("loads") is False and "ABI 2.0" in fut.get("reason", "") and "speaks %s" % HOST_ABI in fut.get("reason", ""),
              str(fut))
        rc, out, err = run(sonde, ["plugins"], env)
        check("plugins_text_says_refused_and_why", rc == 0 and "REFUSED" in out and "why:" in out, out + err)

        rc, out, err = run(sonde, ["future", "--help"], env)
        check("future_major_plugin_never_runs", rc == 12 and "ABI 2.0" in err and "speaks %s" % HOST_ABI in err, err)
        rc, out, err = run(sonde, ["noentry", "--help"], env)
        check("missing_entry_symbol_refused", rc == 12 and "does not export sonde_plugin_v1" in err, err)

        rc, out, err = run(sonde, ["recorder", "--help"], env)
        check("plugin_help_lists_commands", rc == 0 and "record -p PID" in out and "echo" in out, out + err)
        rc, out, err = run(sonde, ["recorder", "echo", "a", "b c"], env)
        check("command_without_target_runs", rc == 0 and out == "a\nb c\n", repr(out) + err)
        rc, out, err = run(sonde, ["recorder", "fail"], env)
        check("plugin_error_is_reported_with_its_message", rc == 12 and "recorder: fail: failing on purpose" in err,
              err)
        rc, out, err = run(sonde, ["recorder", "record"], env)
        check("target_command_without_pid_is_a_usage_error", rc == 2 and "give -p PID" in err, err)
        rc, out, err = run(sonde, ["recorder", "nosuch"], env)
        check("unknown_plugin_command_is_a_usage_error", rc == 2 and "has no command 'nosuch'" in err, err)

        # A live target.
        proc, _dump, _port = agree.start_fixture(fixture, base, 50, "")
        pid = agree.wait_ready(proc, base, 120)
        open(log, "w").close()
        rc, out, err = run(sonde, ["recorder", "record", "-p", str(pid)], env)
        lines = out.splitlines()
        count = int(lines[-1].split()[0]) if lines and lines[-1].endswith(" goroutines") else -1
        gj = json.loads(run(sonde, ["goroutines", "-p", str(pid), "--json"])[1])
        check("record_sees_every_goroutine", rc == 0 and count == len(gj["goroutines"]) and count >= 50,
              "%d vs %d: %s" % (count, len(gj["goroutines"]), err))
        check("record_sees_wait_reasons_and_frames",
              any("[chan receive]" in l and "main." in l for l in lines), "\n".join(lines[:5]))
        with open(log) as f:
            hooks = [l.split()[0] for l in f.read().splitlines()]
        check("hooks_run_in_order", hooks == ["on_load", "on_attach", "on_attach", "run", "on_detach", "on_unload"],
              str(hooks))
        with open(log) as f:
            text = f.read()
        go = gj["go_version"]
        check("on_attach_sees_the_target", "go=%s pid=%d" % (go, pid) in text and "goroutines=%d" % count in text,
              text)
        for p in agree.thread_states(pid):
            check("target_untraced_after_plugin", False, p)

        # Crashes: reported by plugin and hook, target unharmed.
        for cmd, sig in (("segv", "SIGSEGV"), ("abort", "SIGABRT")):
            rc, out, err = run(sonde, ["crasher", cmd, "-p", str(pid)], env)
            check("crash_in_%s_reported" % cmd,
                  rc == 12 and "plugin crasher crashed in command '%s' with %s" % (cmd, sig) in err, err)
            probs = agree.thread_states(pid) + ([] if proc.poll() is None else ["fixture died"])
            check("crash_in_%s_target_runs" % cmd, not probs, str(probs))
        rc, out, err = run(sonde, ["crasher", "fpe"], env)
        check("crash_without_target_reported", rc == 12 and "crashed in command 'fpe' with SIGFPE" in err, err)
        with open(ini, "a") as f:
            f.write("crash_in = on_attach\n")
        rc, out, err = run(sonde, ["crasher", "segv", "-p", str(pid)], env)
        check("crash_in_on_attach_reported", rc == 12 and "crashed in on_attach with SIGSEGV" in err, err)
        probs = agree.check_unharmed(proc, None)
        check("target_runs_after_all_crashes", not probs, str(probs))

        # Refusals of files and ranges.
        with open(index) as f:
            good_index = f.read()
        rec = os.path.join(pdir, "recorder.so")
        with open(rec, "ab") as f:
            f.write(b"\0")
        rc, out, err = run(sonde, ["recorder", "echo"], env)
        check("tampered_plugin_refused_by_sha256", rc == 12 and "sha256" in err and "index update" in err, err)
        with open(rec, "rb+") as f:
            f.truncate(os.path.getsize(rec) - 1)
        os.chmod(rec, 0o666)
        rc, out, err = run(sonde, ["recorder", "echo"], env)
        check("world_writable_plugin_refused", rc == 12 and "writable by everyone" in err, err)
        rc, out, err = run(sonde, ["recorder", "echo", "--allow-unsafe-plugins"], env)
        check("allow_unsafe_loads_with_a_warning", rc == 0 and "loading anyway" in err, err)
        os.chmod(rec, 0o644)
        with open(index, "w") as f:
            f.write(good_index.replace("- name: recorder\n", '- name: recorder\n  compat:\n    go: "<1.19"\n', 1))
        rc, out, err = run(sonde, ["index", "check", index], env)
        check("edited_index_still_valid", rc == 0, err + out)
        rc, out, err = run(sonde, ["recorder", "record", "-p", str(pid)], env)
        check("incompatible_go_range_refused", rc == 12 and "needs Go" in err and go in err, err)
        with open(index, "w") as f:
            f.write(good_index)

        # sonde attach with plugins, on the breakpoint fixture.
        hp = subprocess.Popen([hot], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = hp.stdout.readline().startswith("READY")
            check("hot_fixture_ready", ready)
            with open(ini, "w") as f:
                f.write("[host]\nplugin_dir = plugins\nindex = plugins.yaml\n\n[recorder]\nlog = %s\n\n"
                        "[crasher]\ncrash_in = on_breakpoint_hit\n" % log)
            open(log, "w").close()
            rc, out, err = run(sonde, ["attach", "-p", str(hp.pid), "-b", "main.hot", "-n", "3", "-q",
                                       "--plugin", "recorder"], env)
            with open(log) as f:
                events = f.read().splitlines()
            words = [e.split()[0] + ("" if not e.startswith("on_state_change") else " " + e.split()[1]) for e in events]
            want = (["on_load", "on_attach", "on_attach", "on_state_change 1->2"] +
                    ["on_state_change 2->3", "on_breakpoint_hit", "on_state_change 3->2"] * 3 +
                    ["on_state_change 2->5", "on_detach", "on_unload"])
            check("attach_hands_plugins_states_and_hits_in_order", rc == 0 and words == want,
                  "rc %d %s\n%s" % (rc, err, "\n".join(events)))
            hits = [e for e in events if e.startswith("on_breakpoint_hit")]
            check("breakpoint_hit_names_function_and_goroutine",
                  len(hits) == 3 and all("function=main.hot" in h and "goroutine=0" not in h for h in hits),
                  "\n".join(hits))
            rc, out, err = run(sonde, ["attach", "-p", str(hp.pid), "-b", "main.hot", "-n", "3", "-q",
                                       "--plugin", "crasher"], env)
            check("plugin_crash_in_on_breakpoint_hit_disables_it_and_the_session_goes_on",
                  rc == 12 and "crashed in on_breakpoint_hit with SIGSEGV" in err and "count reached" in err, err)
            probs = agree.thread_states(hp.pid) + ([] if hp.poll() is None else ["hot fixture died"])
            check("target_runs_after_plugin_crash_at_a_breakpoint", not probs, str(probs))
            session_checks(sonde, env, hp.pid, base)
            hp.send_signal(signal.SIGTERM)
            hout, herr = hp.communicate(timeout=30)
            check("hot_fixture_computed_every_result_correctly", hp.returncode == 0 and "wrong=0" in hout,
                  "rc %s %s %s" % (hp.returncode, hout, herr[-400:]))
        finally:
            if hp.poll() is None:
                hp.kill()
                hp.wait()

        bad = os.path.join(base, "bad.yaml")
        with open(bad, "w") as f:
            f.write("schema: 1\nplugins:\n  - name: x\n    file: [oops\n")
        rc, out, err = run(sonde, ["index", "check", bad], env)
        check("index_check_reports_line_and_column", rc == 11 and "bad.yaml:" in err, err)
    except agree.SetupError as e:
        check("setup", False, str(e))
    finally:
        agree.stop_fixture(proc)
        shutil.rmtree(base, ignore_errors=True)
    failed = sum(1 for _, ok in results if not ok)
    print("plugins: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
