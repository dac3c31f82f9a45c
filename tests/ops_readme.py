#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""ops_readme.py - README.md says only what can be checked, and it holds.

What it checks, each failure on a line of its own with README's line:
- the first screen: the first code block comes within the first 24 lines
  and holds the two set-up commands, sh contrib/quickstart.sh and
  sh contrib/test.sh, and nothing else;
- no section title twice, and every link to a section (#anchor) or a
  file finds it;
- every manual page named in the prose, as genid(8), is in man/, and a
  section quoted after it, as genid(8) "The first start", is one of its
  .Sh or .Ss titles;
- every repository path named in a code span or code block
  (contrib/..., src/..., man/..., LICENSE ...) exists in the source tree,
  or for build/... in the build tree;
- every src/*.c is named in the section "Layout of the source", and every
  .c file named there is in src/;
- every json code block parses, and each of its keys is one
  genid.json(5) documents;
- every exit status the prose gives ("exits 66", "exit 75") is one
  genid(8) lists under EXIT STATUS;
- every option given to genid or genidctl in a code span or block is one
  its manual page documents (PENDING lists those another change adds);
- every command of a code block marked with the line
  <!-- ops_readme: run --> runs and exits 0, in a temporary directory,
  with genid and genidctl from the build tree first in PATH, and
  /etc/genid.json standing for a copy of the shipped etc/genid.json with
  port 0 in place of 3778 (a test machine may have 3778 in use; the
  kernel picks a free one).  A block marked
  <!-- ops_readme: run with genid --> runs the same way while a genid
  started from that configuration serves (its state file made with
  --init when none is there yet), with its port in place of
  127.0.0.1:3778's.  A leading "sudo " is left out.  A comment "# => TEXT" after a
  command is output it must print (spaces compared loosely).  A command
  whose program is not installed here is skipped and said so.  Commands
  that install packages, need root or systemd, or run for ever are not
  marked: the files and scripts they name are checked above.

It first checks itself on a README with one fault of each kind, which
must all be found.  GENID, GENIDCTL, GENID_SRCDIR and GENID_BUILDDIR come
from make check (tests/Makemodule.am); run by hand, the tree this file
sits in and its build/ are used.  Standard library only.  Exit status 0 when all holds.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("GENID_SRCDIR") or os.path.join(HERE, "..")
BUILDDIR = os.environ.get("GENID_BUILDDIR") or os.path.join(SRCDIR, "build")
GENID = os.environ.get("GENID") or os.path.join(BUILDDIR, "src", "genid")
GENIDCTL = os.environ.get("GENIDCTL") or os.path.join(BUILDDIR, "cli",
                                                      "genidctl")
README = os.environ.get("GENID_README") or os.path.join(SRCDIR, "README.md")

RUN_MARK = "<!-- ops_readme: run -->"
SERVER_MARK = "<!-- ops_readme: run with genid -->"
DEADLINE = 60  # seconds for genid to start or stop on a busy machine
SETUP = ["sh contrib/quickstart.sh", "sh contrib/test.sh"]
FIRST_SCREEN = 24
LAYOUT = "Layout of the source"
# Options the README gives that a change of the same wave adds to the
# manual page (issue 20); remove each once its page documents it.
PENDING = {}
# The first element of a repository path, and files at the top.
TOP_DIRS = ("contrib", "src", "cli", "man", "etc", "tests", "debian", "m4")
TOP_FILES = ("LICENSE", "README.md", "configure.ac", "Makefile.am")

failures = []
passes = 0


def fail(line, msg):
    failures.append("README.md:%d: %s" % (line, msg))


def ok():
    global passes
    passes += 1


def parse(text):
    """Returns (prose, blocks, headings): prose is a list of (line, text)
    outside code blocks; blocks a list of (line, info, lines, marked), the
    lines as (line, text); headings a list of (line, level, title)."""
    prose, blocks, headings = [], [], []
    block = None
    marked_next = False
    for n, line in enumerate(text.split("\n"), 1):
        if block is not None:
            if line.startswith("```"):
                blocks.append(block)
                block = None
            else:
                block[2].append((n, line))
            continue
        if line.startswith("```"):
            block = (n, line[3:].strip(), [], marked_next)
            marked_next = False
            continue
        if line.strip() in (RUN_MARK, SERVER_MARK):
            marked_next = "server" if line.strip() == SERVER_MARK else "run"
            continue
        if line.strip():
            marked_next = False
        m = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            headings.append((n, len(m.group(1)), m.group(2)))
        prose.append((n, line))
    if block is not None:
        fail(block[0], "code block never closed")
    return prose, blocks, headings


def slug(title):
    """The anchor GitHub makes of a title."""
    s = re.sub(r"[^\w\- ]", "", title.lower())
    return s.replace(" ", "-")


def check_first_screen(blocks):
    if not blocks:
        fail(1, "no code block: the two set-up commands are missing")
        return
    n, _, lines, _ = blocks[0]
    cmds = [re.sub(r"\s*#.*$", "", t).strip() for _, t in lines]
    cmds = [c for c in cmds if c]
    if n > FIRST_SCREEN:
        fail(n, "the first code block starts after line %d" % FIRST_SCREEN)
    elif cmds != SETUP:
        fail(n, "the first code block holds %s, not %s" % (cmds, SETUP))
    else:
        ok()


def check_headings(headings, prose):
    seen = {}
    for n, _, title in headings:
        key = title.strip().lower()
        if key in seen:
            fail(n, "section title \"%s\" again (line %d)" % (title,
                                                              seen[key]))
        else:
            seen[key] = n
            ok()
    anchors = {slug(t) for _, _, t in headings}
    for n, line in prose:
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if target.startswith("#"):
                if target[1:] in anchors:
                    ok()
                else:
                    fail(n, "link to no section: %s" % target)
            elif "://" not in target:
                check_path(n, target.split("#")[0])


def man_titles(page):
    titles = []
    with open(page, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\.S[hs]\s+(.*)", line)
            if m:
                titles.append(m.group(1).strip().strip('"'))
    return titles


def check_manrefs(prose):
    # Join the prose so that a reference broken over two lines is one.
    lines = [(n, t) for n, t in prose]
    text = " ".join(t for _, t in lines)
    starts = []
    pos = 0
    for n, t in lines:
        starts.append((pos, n))
        pos += len(t) + 1

    def line_at(offset):
        n = 1
        for p, ln in starts:
            if p > offset:
                break
            n = ln
        return n

    ref = re.compile(r"\b([a-z][a-z0-9_.-]*)\(([1-9])\)"
                     r"((?:,?\s*(?:and\s+)?\"[^\"]+\")*)")
    for m in ref.finditer(text):
        name, sec, quoted = m.group(1), m.group(2), m.group(3)
        n = line_at(m.start())
        page = os.path.join(SRCDIR, "man", "%s.%s" % (name, sec))
        if not os.path.isfile(page):
            fail(n, "%s(%s): no man/%s.%s" % (name, sec, name, sec))
            continue
        ok()
        titles = man_titles(page)
        for title in re.findall(r"\"([^\"]+)\"", quoted):
            title = re.sub(r"\s+", " ", title)
            if title in titles:
                ok()
            else:
                fail(n, "%s(%s) has no section \"%s\"" % (name, sec, title))


def code_spans(prose):
    """(line, text) of every inline code span, joined over line breaks."""
    spans = []
    text = "\n".join(t for _, t in prose)
    first = prose[0][0] if prose else 1
    line_of = [n for n, _ in prose]
    for m in re.finditer(r"`([^`]+)`", text):
        idx = text.count("\n", 0, m.start())
        n = line_of[idx] if idx < len(line_of) else first
        spans.append((n, re.sub(r"\s+", " ", m.group(1))))
    return spans


def check_path(n, token):
    token = token.strip("\"'(),;:")
    if token.startswith("build/"):
        path = os.path.join(BUILDDIR, token[len("build/"):])
    else:
        path = os.path.join(SRCDIR, token)
    if os.path.exists(path):
        ok()
    else:
        fail(n, "names %s, which is not in the %s tree" %
             (token, "build" if token.startswith("build/") else "source"))


def is_repo_path(token):
    token = token.strip("\"'(),;:")
    if token in TOP_FILES:
        return True
    first = token.split("/")[0]
    return "/" in token and (first in TOP_DIRS or first == "build") and \
        "*" not in token


def check_paths(spans, blocks):
    for n, span in spans:
        for token in span.split():
            if is_repo_path(token):
                check_path(n, token)
    for _, info, lines, _ in blocks:
        if info not in ("sh", ""):
            continue
        for n, line in lines:
            for token in re.sub(r"#.*$", "", line).split():
                if is_repo_path(token):
                    check_path(n, token)


def check_layout(headings, prose):
    start = end = None
    for i, (n, _, title) in enumerate(headings):
        if title == LAYOUT:
            start = n
            end = headings[i + 1][0] if i + 1 < len(headings) else 1 << 30
    if start is None:
        fail(1, "no section \"%s\"" % LAYOUT)
        return
    named = set()
    for n, line in prose:
        if start < n < end:
            for name in re.findall(r"`([a-z0-9_]+\.c)`", line):
                named.add(name)
                if os.path.isfile(os.path.join(SRCDIR, "src", name)):
                    ok()
                else:
                    fail(n, "the layout names %s: no src/%s" % (name, name))
    for name in sorted(os.listdir(os.path.join(SRCDIR, "src"))):
        if name.endswith(".c"):
            if name in named:
                ok()
            else:
                fail(start, "the layout does not name src/%s" % name)


def check_json(blocks):
    keys = set()
    with open(os.path.join(SRCDIR, "man", "genid.json.5"),
              encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\.It Cm (\w+)", line)
            if m:
                keys.add(m.group(1))

    def walk(n, obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in keys:
                    ok()
                else:
                    fail(n, "\"%s\": genid.json(5) documents no such key"
                         % k)
                walk(n, v)

    for n, info, lines, _ in blocks:
        if info != "json":
            continue
        try:
            walk(n, json.loads("\n".join(t for _, t in lines)))
        except ValueError as e:
            fail(n, "the json block does not parse: %s" % e)


def check_exits(prose):
    statuses = set()
    inside = False
    with open(os.path.join(SRCDIR, "man", "genid.8"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(".Sh"):
                inside = line.strip() == ".Sh EXIT STATUS"
            m = re.match(r"\.It (\d+)", line)
            if inside and m:
                statuses.add(m.group(1))
    for n, line in prose:
        for code in re.findall(r"\bexit(?:s| status)? (\d+)", line):
            if code in statuses:
                ok()
            else:
                fail(n, "exit status %s: genid(8) EXIT STATUS has none"
                     % code)


def man_options(page):
    opts = set()
    with open(page, encoding="utf-8") as f:
        for line in f:
            for m in re.finditer(r"\bFl\s+(\\-[\w\\-]+|[A-Za-z0-9]+)", line):
                o = m.group(1).replace("\\", "")
                if o.startswith("-"):
                    opts.add("-" + o)
                else:
                    opts.update("-" + c for c in o)
    return opts


def check_options(spans, blocks):
    pages = {"genid": "genid.8", "genidctl": "genidctl.1"}
    known = {p: man_options(os.path.join(SRCDIR, "man", f))
             for p, f in pages.items()}
    cmds = list(spans)
    for _, info, lines, _ in blocks:
        if info in ("sh", ""):
            cmds += [(n, re.sub(r"#.*$", "", t)) for n, t in lines]
    for n, cmd in cmds:
        words = cmd.split()
        for i, w in enumerate(words):
            if w not in pages or (i > 0 and words[i - 1] not in
                                  ("sudo", "--", "exec", "&&", ";")):
                continue
            for arg in words[i + 1:]:
                if arg in ("|", "&&", ";", ")"):
                    break
                if not re.match(r"--?[A-Za-z]", arg):
                    continue
                opt = arg.split("=")[0]
                flags = [opt] if opt.startswith("--") else \
                    ["-" + c for c in opt[1:]]
                for f in flags:
                    if f in known[w] and f in PENDING.get(w, ()):
                        fail(n, "%s %s is in man/%s now: take it out of "
                             "PENDING" % (w, f, pages[w]))
                    elif f in known[w]:
                        ok()
                    elif f in PENDING.get(w, ()):
                        print("pending: README.md:%d: %s %s is not in "
                              "man/%s yet (PENDING)" % (n, w, f, pages[w]))
                    else:
                        fail(n, "%s %s: man/%s documents no such option"
                             % (w, f, pages[w]))


def shipped_config(dest):
    """etc/genid.json with port 0 wherever it gives 3778."""
    with open(os.path.join(SRCDIR, "etc", "genid.json"),
              encoding="utf-8") as f:
        conf = json.load(f)
    if "listen" in conf:
        conf["listen"] = [re.sub(r":3778$", ":0", a) for a in conf["listen"]]
    conf["port"] = 0
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(conf, f, indent=2)


def run_blocks(blocks):
    tmp = tempfile.mkdtemp(prefix="genid-readme.")
    try:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        for name, path in (("genid", GENID), ("genidctl", GENIDCTL)):
            wrapper = os.path.join(bindir, name)
            with open(wrapper, "w", encoding="utf-8") as f:
                f.write('#!/bin/sh\nexec "%s" "$@"\n' % path)
            os.chmod(wrapper, 0o755)
        work = os.path.join(tmp, "work")
        os.mkdir(work)
        for entry in os.listdir(SRCDIR):
            if entry in TOP_DIRS or entry in TOP_FILES:
                os.symlink(os.path.join(os.path.abspath(SRCDIR), entry),
                           os.path.join(work, entry))
        shipped_config(os.path.join(work, "genid.json"))
        env = dict(os.environ)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        server = None
        try:
            for n0, _, lines, marked in blocks:
                if not marked:
                    continue
                addr = None
                if marked == "server":
                    if server is None:
                        server = start_genid(n0, work, env)
                    if server is None or server[1] is None:
                        continue
                    addr = server[1]
                for n, line in lines:
                    run_line(n, line, work, env, addr)
        finally:
            if server is not None:
                stop_genid(server[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def start_genid(n, work, env):
    """Starts genid on work/genid.json; returns (process, "127.0.0.1:port"),
    (process, None) when it did not come up, or None."""
    if not os.path.exists(os.path.join(work, "genid.state")):
        r = subprocess.run([GENID, "-c", "genid.json", "--init"], cwd=work,
                           env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False)
        if r.returncode != 0:
            fail(n, "genid --init for the server: %s" % r.stdout.decode())
            return None
    log = open(os.path.join(work, "genid.log"), "wb")
    proc = subprocess.Popen([GENID, "-c", "genid.json"], cwd=work, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    end = time.monotonic() + DEADLINE
    port = None
    text = ""
    while time.monotonic() < end and proc.poll() is None:
        with open(os.path.join(work, "genid.log"), encoding="utf-8",
                  errors="replace") as f:
            text = f.read()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", text)
        if m:
            port = m.group(1)
        if port and "ready:" in text:
            print("ok: genid serves on 127.0.0.1:%s for the marked blocks"
                  % port)
            return proc, "127.0.0.1:" + port
        time.sleep(0.1)
    fail(n, "genid did not come up on 127.0.0.1 within %d s: %s" %
         (DEADLINE, text.strip()))
    return proc, None


def stop_genid(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            fail(0, "genid did not stop within %d s of SIGTERM" % DEADLINE)


def run_line(n, line, work, env, addr=None):
    cmd, _, comment = line.partition("#")
    cmd = cmd.strip()
    if not cmd:
        return
    expect = comment.split("=>", 1)[1].strip() if "=>" in comment else ""
    cmd = re.sub(r"^sudo\s+", "", cmd)
    program = cmd.split()[0]
    if shutil.which(program, path=env["PATH"]) is None:
        print("skip: README.md:%d: %s is not installed here" % (n, program))
        return
    cmd = cmd.replace("/etc/genid.json", "genid.json")
    if addr is not None:
        cmd = cmd.replace("127.0.0.1:3778", addr)
    try:
        r = subprocess.run(["sh", "-c", cmd], cwd=work, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120, check=False)
    except subprocess.TimeoutExpired:
        fail(n, "%s: still running after 120 s" % cmd)
        return
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0:
        fail(n, "%s: exit status %d: %s" % (cmd, r.returncode, out.strip()))
    elif expect and " ".join(expect.split()) not in " ".join(out.split()):
        fail(n, "%s: printed %r, not %r" % (cmd, out.strip(), expect))
    else:
        print("ok: README.md:%d: %s" % (n, cmd))
        ok()


def check_static(text):
    """Every check but the commands; returns the parsed blocks."""
    prose, blocks, headings = parse(text)
    spans = code_spans(prose)
    check_first_screen(blocks)
    check_headings(headings, prose)
    check_manrefs(prose)
    check_paths(spans, blocks)
    check_layout(headings, prose)
    check_options(spans, blocks)
    check_exits(prose)
    check_json(blocks)
    if not any(marked for _, _, _, marked in blocks):
        fail(1, "no code block is marked %s: nothing was run" % RUN_MARK)
    return blocks


# A README with one fault of each kind the static checks find: the test
# checks itself on it first, so that checks that find nothing fail too.
BAD_FIXTURE = """# genid

```sh
sh contrib/quickstart.sh
```

See genid(9), genid(8) "NO SUCH SECTION", `contrib/no-such-file.sh` and
[nothing](#no-such-section).  A start without it exits 99.

## Run

```sh
genid --no-such-option -c /etc/genid.json
```

## Run

```json
{"machineid": 3}
```

## Layout of the source

`no_such_file.c`
"""
BAD_EXPECTED = ("the first code block holds", "genid(9): no man/genid.9",
                "has no section \"NO SUCH SECTION\"",
                "names contrib/no-such-file.sh",
                "link to no section: #no-such-section",
                "section title \"Run\" again",
                "genid --no-such-option: man/genid.8 documents no such",
                "the layout names no_such_file.c: no src/no_such_file.c",
                "the layout does not name src/genid.c",
                "exit status 99: genid(8) EXIT STATUS has none",
                "\"machineid\": genid.json(5) documents no such key",
                "no code block is marked")


def selftest():
    global passes
    saved = passes
    check_static(BAD_FIXTURE)
    found = list(failures)
    del failures[:]
    passes = saved
    for want in BAD_EXPECTED:
        if any(want in msg for msg in found):
            ok()
        else:
            failures.append("self-test: the fixture's fault \"%s\" was "
                            "not found" % want)


def main():
    selftest()
    with open(README, encoding="utf-8") as f:
        text = f.read()
    blocks = check_static(text)
    run_blocks(blocks)
    for msg in failures:
        print("FAIL: " + msg)
    print("%d checks passed, %d failed" % (passes, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
