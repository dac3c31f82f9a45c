#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""lint_overrides.py - every setting a test changes, with its reason.

Tests run what operators run: etc/genid.json and its defaults
(tests/integration/harness.py starts every daemon from it).  A test that
changes a setting says why, in one line: Daemon(t, max_ahead_s=0,
why="..."), d.set(key=value, why={"key": "..."}), serve(t, ..., why=...);
so does one that passes a flag that changes how genid starts
(--wait-clock, --wait-coordination, --init-lost) to spawn(), start() or
init_state().  The harness refuses a changed setting without a reason
when the test runs; this lint finds them all without running anything.

It reads the test scripts (tests/*.py, tests/integration/*.py,
tests/clients/*.py under GENID_SRCDIR or the tree it sits in), prints one
line per setting, "file:line: key=value - reason", and exits 1 when one
has no reason (or no reason the lint can read: a string, a dict of
strings, or the name of a module-level one).  "port" is not a setting:
the tests pick a free loopback port.  A value equal to the shipped one is
no change, and so is None (the key removed) for a key the shipped file
does not have.

It first checks itself on two fixtures, one that must pass and one that
must fail, so that a lint that finds nothing fails too.

    python3 tests/lint_overrides.py [FILE...]

Python standard library only.
"""

import ast
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("GENID_SRCDIR") or os.path.join(HERE, "..")

# The harness's names (tests/integration/harness.py).
LAUNCHERS = ("Daemon", "serve")
SETTERS = ("set",)
STARTERS = ("spawn", "start", "init_state")
NOT_SETTINGS = ("t", "dir", "why")
FREE_KEYS = ("port",)
BEHAVIOUR_FLAGS = ("--wait-clock", "--wait-coordination", "--init-lost")

GOOD_FIXTURE = '''
import harness
WHY = "one bucket: every connection lands on the same worker"
d = harness.Daemon(t, workers=1, why=WHY)
d.set(port=d.port)
e = harness.Daemon(t, max_ahead_s=0, checkpoint_interval_ms=100,
                   why={"max_ahead_s": "no lead: requests wait",
                        "checkpoint_interval_ms": "raises come fast"})
e.spawn(args=["--wait-clock"], why="the test is about the wait")
e.init_state(lost=True, why="the test is about a lost file")
f = harness.Daemon(t, zone_id=0)
'''

BAD_FIXTURE = '''
import harness
d = harness.Daemon(t, workers=1, max_ahead_s=0, why={"workers": "one"})
d.set(idle_timeout_s=1)
d.spawn(args=["--wait-clock"])
d.init_state(lost=True)
args = ["--wait-coordination"]
'''
BAD_EXPECTED = {"max_ahead_s", "idle_timeout_s", "--wait-clock",
                "--init-lost", "--wait-coordination"}


def shipped():
    with open(os.path.join(SRCDIR, "etc", "genid.json")) as f:
        return json.load(f)


def callee(call):
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return None


def constants(tree):
    """Module-level NAME = "string" and NAME = {"k": "string"}."""
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and
                isinstance(node.targets[0], ast.Name)):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


class Lint:
    def __init__(self, shipped_conf):
        self.shipped = shipped_conf
        self.rows = []  # (file, line, what, value, reason or None)

    def reason(self, call, key, consts):
        """The reason the call gives for key, or None."""
        why = next((k.value for k in call.keywords if k.arg == "why"), None)
        if why is None:
            return None
        if isinstance(why, ast.Name):
            val = consts.get(why.id)
        else:
            try:
                val = ast.literal_eval(why)
            except ValueError:
                if isinstance(why, ast.Dict):
                    val = {}
                    for k, v in zip(why.keys, why.values):
                        if isinstance(k, ast.Constant):
                            val[k.value] = (consts.get(v.id) if isinstance(
                                v, ast.Name) else getattr(v, "value", None))
                else:
                    val = None
        if isinstance(val, dict):
            if key is None:
                # **settings: the harness checks each key when it runs.
                return "reasons for %s" % ", ".join(sorted(val)) if all(
                    isinstance(v, str) and v.strip()
                    for v in val.values()) and val else None
            val = val.get(key)
        return val if isinstance(val, str) and val.strip() else None

    def settings(self, name, call, consts):
        passthrough = any(k.arg == "why" and isinstance(k.value, ast.Name)
                          and k.value.id == "why" for k in call.keywords)
        for kw in call.keywords:
            if kw.arg in NOT_SETTINGS or kw.arg in FREE_KEYS:
                continue
            if kw.arg is None:
                # The harness hands on its caller's settings and reasons;
                # the caller is the one listed.
                if passthrough:
                    continue
                self.add(name, call, "**" + ast.unparse(kw.value), "",
                         self.reason(call, None, consts))
                continue
            try:
                value = ast.literal_eval(kw.value)
                # None removes the key: no change when the shipped file
                # has none either (its default is what operators run).
                if value == self.shipped.get(kw.arg, object()) or (
                        value is None and kw.arg not in self.shipped):
                    continue
            except ValueError:
                pass
            self.add(name, call, kw.arg, ast.unparse(kw.value),
                     self.reason(call, kw.arg, consts))

    def flags(self, name, tree, parents, consts):
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and
                    node.value in BEHAVIOUR_FLAGS and
                    isinstance(parents.get(node), ast.List)):
                continue
            call = parents.get(node)
            while call is not None and not isinstance(call, ast.Call):
                call = parents.get(call)
            if call is not None and callee(call) in STARTERS:
                self.add(name, node, node.value, "",
                         self.reason(call, node.value, consts))
            else:
                self.add(name, node, node.value, "", None,
                         "not in a spawn()/start() call that gives why=")
        for call in ast.walk(tree):
            if (isinstance(call, ast.Call) and callee(call) == "init_state"
                    and any(k.arg == "lost" for k in call.keywords)):
                self.add(name, call, "--init-lost", "",
                         self.reason(call, "--init-lost", consts))

    def add(self, name, node, what, value, reason, missing=None):
        self.rows.append((name, node.lineno, what, value, reason, missing))

    def check_source(self, name, text):
        tree = ast.parse(text, name)
        consts = constants(tree)
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            c = callee(call)
            if c in LAUNCHERS or (c in SETTERS and call.keywords):
                self.settings(name, call, consts)
        self.flags(name, tree, parents, consts)

    def missing(self):
        return [r for r in self.rows if not r[4]]

    def report(self, out):
        for name, line, what, value, reason, why_missing in sorted(
                self.rows, key=lambda r: (r[0], r[1])):
            if len(value) > 48:
                value = value[:45] + "..."
            setting = "%s=%s" % (what, value) if value else what
            out.write("%s:%d: %s - %s\n" % (
                name, line, setting, reason or "NO REASON (%s)" % (
                    why_missing or "give why=...")))


def self_check():
    """The lint on the fixtures: [] when it passes the good one and finds
    exactly what is wrong in the bad one, else what went wrong."""
    conf = {"zone_id": 0, "dc_id": 0, "machine_id": 0}
    errors = []
    good = Lint(conf)
    good.check_source("good", GOOD_FIXTURE)
    if good.missing():
        errors.append("the good fixture fails: %r" % good.missing())
    if len(good.rows) != 5:
        errors.append("the good fixture: %d settings listed, want 5: %r"
                      % (len(good.rows), good.rows))
    bad = Lint(conf)
    bad.check_source("bad", BAD_FIXTURE)
    found = {r[2] for r in bad.missing()}
    if found != BAD_EXPECTED:
        errors.append("the bad fixture: found %s, want %s"
                      % (sorted(found), sorted(BAD_EXPECTED)))
    return errors


def test_files():
    me = os.path.abspath(__file__)
    files = []
    for pattern in ("tests/*.py", "tests/integration/*.py",
                    "tests/clients/*.py"):
        files += sorted(glob.glob(os.path.join(SRCDIR, pattern)))
    return [f for f in files if os.path.abspath(f) != me]


def main(argv):
    errors = self_check()
    for e in errors:
        print("not ok - lint self-check: %s" % e)
    if not errors:
        print("ok - lint self-check: the good fixture passes, the bad one "
              "fails on each of %d settings" % len(BAD_EXPECTED))
    lint = Lint(shipped())
    files = argv or test_files()
    for path in files:
        with open(path) as f:
            lint.check_source(os.path.relpath(path, SRCDIR), f.read())
    lint.report(sys.stdout)
    bare = lint.missing()
    print("# %d settings and flags changed from etc/genid.json in %d files,"
          " %d without a reason" % (len(lint.rows), len(files), len(bare)))
    return 1 if errors or bare or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
