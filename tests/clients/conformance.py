# SPDX-License-Identifier: BSD-2-Clause
"""conformance.py - run the cases of cases.json against a client.

A client is driven through an adapter with five methods:

    open(addresses, options) -> handle   options: connect_timeout_ms,
                                          io_timeout_ms, prefetch, epoch
    next(handle) -> int
    bulk(handle, n) -> list of int
    info(handle) -> dict
    close(handle)

A failed call raises ClientFailure(kind, message, ids), kind one of
refused, timeout, closed, protocol (README.md).  run_case() starts the
servers of a case (fake_server.py, run_genid.py), runs its steps, checks
what it expects, stops the servers whatever happens, and returns the list
of what did not hold (empty: the case passed).  It raises Skip when the
case needs genid and there is none.  Python 3 standard library only; the
Python client's tests and the libgenid runner (libgenid_cases.py) use it.
"""

import json
import os
import selectors
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases.json")
FAKE = os.path.join(HERE, "fake_server.py")
RUN_GENID = os.path.join(HERE, "run_genid.py")
START_DEADLINE_S = 20
SKIP = 77

STEP_KEYS = {"do", "times", "n", "info", "server", "ms", "fails", "ids",
             "error_names", "within_ms", "at_least_ms"}
EXPECT_KEYS = {"count", "unique", "increasing", "equals", "machines",
               "fields", "near_now_s"}
CASE_KEYS = {"name", "about", "servers", "client", "steps", "expect"}


class ClientFailure(Exception):
    def __init__(self, kind, message, ids=()):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.ids = list(ids)


class Skip(Exception):
    pass


def load(path=CASES):
    with open(path) as f:
        return json.load(f)


def fields(id_):
    return {"ts": id_ >> 32, "zone": (id_ >> 27) & 31, "dc": (id_ >> 24) & 7,
            "machine": (id_ >> 21) & 7, "bucket": (id_ >> 16) & 31,
            "counter": id_ & 0xFFFF}


def _read_line(proc, deadline_s, what):
    """The next line of proc's stdout, waiting at most deadline_s."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        if not sel.select(deadline_s):
            raise RuntimeError("%s: no answer within %d s"
                               % (what, deadline_s))
    finally:
        sel.close()
    line = proc.stdout.readline()
    if not line:
        rc = proc.wait(timeout=10)
        if rc == SKIP:
            raise Skip("%s: no genid binary (set GENID)" % what)
        raise RuntimeError("%s exited with %s before answering" % (what, rc))
    return line.strip()


class Server:
    """One server of a case: a fake_server.py or a run_genid.py."""

    def __init__(self, spec, genid):
        self.spec = spec
        self.is_genid = "genid" in spec
        if self.is_genid:
            if not genid:
                raise Skip("the case needs genid (set GENID)")
            cmd = [sys.executable, RUN_GENID, "--genid", genid] + \
                spec["genid"]
        else:
            cmd = [sys.executable, FAKE] + spec["fake"]
        self.what = " ".join(os.path.basename(c) for c in cmd[1:])
        stdin = subprocess.PIPE if self.is_genid else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE,
                                     text=True)
        line = _read_line(self.proc, START_DEADLINE_S, self.what)
        if not line.isdigit():
            raise RuntimeError("%s: %s" % (self.what, line))
        self.port = int(line)
        self.address = "127.0.0.1:%d" % self.port
        self.first = int(spec["first"]) if "first" in spec else None

    def command(self, cmd):
        if not self.is_genid:
            if cmd != "kill":
                raise RuntimeError("a fake server can only be killed")
            self.proc.kill()
            self.proc.wait(timeout=10)
            return
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        answer = _read_line(self.proc, START_DEADLINE_S, self.what + " " + cmd)
        if answer.startswith("error"):
            raise RuntimeError("%s %s: %s" % (self.what, cmd, answer))

    def stop(self):
        if self.proc.poll() is None:
            if self.is_genid:
                self.proc.stdin.close()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None and not f.closed:
                f.close()


def run_case(case, adapter, genid=None, defaults=None):
    """Runs one case; returns the list of problems (empty: passed)."""
    problems = []
    unknown = set(case) - CASE_KEYS
    if unknown:
        return ["unknown case keys %s: update the runner" % sorted(unknown)]
    servers = []
    handle = None
    try:
        for spec in case["servers"]:
            servers.append(Server(spec, genid))
        options = dict(case.get("client", {}))
        handle = adapter.open([s.address for s in servers], options)
        ids = []
        for i, step in enumerate(case["steps"]):
            problems += _step(adapter, handle, servers, step, ids,
                              "step %d (%s)" % (i, step["do"]))
        problems += _expect(case["expect"], ids, servers,
                            options.get("epoch", 0))
    finally:
        if handle is not None:
            adapter.close(handle)
        for s in servers:
            s.stop()
    return problems


def _step(adapter, handle, servers, step, ids, where):
    unknown = set(step) - STEP_KEYS
    if unknown:
        return ["%s: unknown keys %s: update the runner"
                % (where, sorted(unknown))]
    do = step["do"]
    if do in ("kill", "start", "restart", "stop"):
        servers[step["server"]].command(do)
        return []
    if do == "sleep":
        # Time itself is under test here (the prefetch age).
        time.sleep(step["ms"] / 1000)
        return []
    problems = []
    got = []
    error = None
    t0 = time.monotonic()
    try:
        if do == "next":
            for _ in range(step.get("times", 1)):
                got.append(adapter.next(handle))
        elif do == "bulk":
            got = list(adapter.bulk(handle, step["n"]))
        elif do == "info":
            info = adapter.info(handle)
            for k, v in step.get("info", {}).items():
                if info.get(k) != v:
                    problems.append("%s: INFO %s is %r, want %r"
                                    % (where, k, info.get(k), v))
        else:
            return ["%s: unknown step: update the runner" % where]
    except ClientFailure as e:
        error = e
        got += e.ids
    took_ms = (time.monotonic() - t0) * 1000
    ids += got
    if "fails" in step:
        if error is None:
            problems.append("%s: succeeded, want a failure (%s)"
                            % (where, step["fails"]))
        elif step["fails"] != "any" and error.kind != step["fails"]:
            problems.append("%s: failed as %s, want %s: %s"
                            % (where, error.kind, step["fails"],
                               error.message))
        if error is not None and "ids" in step and \
                len(error.ids) != step["ids"]:
            problems.append("%s: the failure handed out %d IDs, want %d"
                            % (where, len(error.ids), step["ids"]))
        for i in step.get("error_names", []):
            if error is not None and servers[i].address not in error.message:
                problems.append("%s: the error does not name %s: %s"
                                % (where, servers[i].address, error.message))
    elif error is not None:
        problems.append("%s: failed (%s): %s" % (where, error.kind,
                                                 error.message))
    if do == "bulk" and error is None and len(got) != step["n"]:
        problems.append("%s: bulk(%d) gave %d IDs"
                        % (where, step["n"], len(got)))
    if "within_ms" in step and took_ms > step["within_ms"]:
        problems.append("%s: took %.0f ms, want at most %d"
                        % (where, took_ms, step["within_ms"]))
    if "at_least_ms" in step and took_ms < step["at_least_ms"]:
        problems.append("%s: took %.0f ms, want at least %d"
                        % (where, took_ms, step["at_least_ms"]))
    return problems


def _expect(expect, ids, servers, epoch):
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        return ["expect: unknown keys %s: update the runner"
                % sorted(unknown)]
    problems = []
    bad = [i for i in ids if not isinstance(i, int) or not
           0 <= i <= 0xFFFFFFFFFFFFFFFF]
    if bad:
        return ["not 64-bit unsigned integers: %r" % bad[:5]]
    if "count" in expect and len(ids) != expect["count"]:
        problems.append("%d IDs, want %d" % (len(ids), expect["count"]))
    if expect.get("unique") and len(set(ids)) != len(ids):
        seen, dups = set(), []
        for i in ids:
            if i in seen:
                dups.append(i)
            seen.add(i)
        problems.append("%d IDs repeat, first %d" % (len(dups), dups[0]))
    if expect.get("increasing"):
        for j in range(1, len(ids)):
            if ids[j] <= ids[j - 1]:
                problems.append("ID %d (%d) is not above the one before (%d)"
                                % (j, ids[j], ids[j - 1]))
                break
    if "equals" in expect:
        want = []
        for part in expect["equals"]:
            first = servers[part["server"]].first
            want += [first + k for k in range(*part["k"])]
        if ids != want:
            problems.append("IDs %s, want %s" % (_show(ids, servers),
                                                 _show(want, servers)))
    if "machines" in expect:
        runs = []
        for i in ids:
            m = fields(i)["machine"]
            if runs and runs[-1][0] == m:
                runs[-1][1] += 1
            else:
                runs.append([m, 1])
        if runs != expect["machines"]:
            problems.append("runs of [machine, count] %r, want %r"
                            % (runs, expect["machines"]))
    for k, v in expect.get("fields", {}).items():
        off = [i for i in ids if fields(i)[k] != v]
        if off:
            problems.append("%d IDs have %s != %d, first %d"
                            % (len(off), k, v, off[0]))
    if "near_now_s" in expect:
        now = time.time()
        far = [i for i in ids
               if abs((i >> 32) + epoch - now) > expect["near_now_s"]]
        if far:
            problems.append("%d IDs are more than %d s from now, first %d "
                            "(Unix time %d)"
                            % (len(far), expect["near_now_s"], far[0],
                               (far[0] >> 32) + epoch))
    return problems


def _show(ids, servers):
    """IDs as server:k where a fake's k is known, for readable failures."""
    out = []
    for i in ids[:12]:
        for n, s in enumerate(servers):
            if s.first is not None and 0 <= i - s.first < 1 << 16:
                out.append("s%d:k%d" % (n, i - s.first))
                break
        else:
            out.append(str(i))
    return "[%s%s] (%d)" % (", ".join(out), ", ..." if len(ids) > 12 else "",
                            len(ids))
