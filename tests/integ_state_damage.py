#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_damage.py - a damaged state file is refused, with a message
that says it is damaged (not "correct the clock") and gives genid(8)'s one
rule for it, and a bucket never resumes below the word it stored.

- a zeroed or made-up checkpoint fails its checksum;
- a checkpoint beyond 32 bits is out of range (it was cast unchecked);
- a file shorter than a header is too short;
- a bucket word changed after a clean stop fails the table's checksum;
- after a crash, a bucket word above what the checkpoint allows is damage;
- after a crash and a reboot, a word at checkpoint + 1 with a counter is
  resumed from, not replaced by the lower checkpoint + 1, counter 0.
"""

import os
import random
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


# The rule for an unreadable or damaged state file, as genid(8) words it.
RULE = ("restore it from a copy taken while genid was stopped, if genid has "
        "not run since, or move it away and make a new one with genid "
        "--init-lost")


def refused(t, d, what, says):
    d.spawn()
    rc = d.wait_exit(20)
    out = d.output().strip()
    if rc is None:
        d.cleanup()
    t.check(rc == harness.EX_DATAERR, "%s: refused (exit 65)" % what,
            "exit %r; output:\n%s" % (rc, out))
    t.check(says in out, "%s: the message says \"%s\"" % (what, says), out)
    t.check("clock" not in out, "%s: the message does not blame the clock"
            % what, out)
    t.check(RULE in out and "never issued IDs under it" not in out,
            "%s: the message gives the one rule of genid(8)" % what, out)


def raw(d):
    with open(d.state_path, "rb") as f:
        return f.read()


def fresh(t, kill=False):
    """A node that issued IDs and stopped: cleanly, or by kill -9."""
    d = harness.Daemon(t)
    d.start()
    with harness.connect(d.addr) as s:
        harness.get_ids(s, 100)
    if kill:
        d.kill_all()
    else:
        rc, _ = d.stop()
        t.check(rc == 0, "clean stop", "exit %r" % rc)
    return d


def put(d, field, value):
    off = harness.header_offset(field)
    harness.patch_bytes(d.state_path, off, struct.pack("<Q", value))


def put_word(d, i, word):
    harness.patch_bytes(d.state_path,
                        harness.bucket_word_offset(d.state(), i),
                        struct.pack("<Q", word))


def test(t):
    rnd = random.Random(8)

    d = fresh(t)
    put(d, "checkpoint", 0)
    put(d, "checkpoint_seal", 0)
    refused(t, d, "zeroed checkpoint", "checkpoint fails its checksum")

    d = fresh(t)
    v = rnd.getrandbits(32)
    put(d, "checkpoint", v)
    put(d, "checkpoint_seal", v << 32 | rnd.getrandbits(32))
    refused(t, d, "random checkpoint", "checkpoint fails its checksum")

    d = fresh(t)
    put(d, "checkpoint", (1 << 32) + d.state().h.checkpoint)
    refused(t, d, "checkpoint beyond 32 bits", "out of range")

    d = fresh(t)
    put(d, "created", rnd.getrandbits(63))
    refused(t, d, "header field changed", "header fails its checksum")

    d = fresh(t)
    os.truncate(d.state_path, 64)
    refused(t, d, "file shorter than a header", "too short")

    d = fresh(t)
    st = d.state()
    put_word(d, 7, st.buckets[7].word + 1000)
    refused(t, d, "bucket word changed after a clean stop",
            "bucket table fails the checksum")

    d = fresh(t, kill=True)
    st = d.state()
    t.check(st.h.clean == 0, "kill -9 leaves the file marked not clean")
    put_word(d, 3, (st.h.checkpoint + 100) << 32)
    refused(t, d, "bucket word far above the checkpoint after a crash",
            "damaged")

    # A word at checkpoint + 1 with a counter, after a crash and a reboot.
    d = fresh(t, kill=True)
    st = d.state()
    ckpt = st.h.checkpoint
    harness.patch_bytes(d.state_path, harness.header_offset("kernel_boot"),
                        b"\x5a" * 16)
    for i in range(st.h.bucket_count):
        put_word(d, i, (ckpt + 1) << 32 | 500)
    d.start()
    with harness.connect(d.addr) as s:
        ids = list(harness.get_ids(s, 50)) + [harness.get_id(s)]
    d.stop()
    low = [i for i in ids if (i >> 32) < ckpt + 1 or
           ((i >> 32) == ckpt + 1 and (i & 0xFFFF) < 500)]
    t.check(not low, "after a crash and a reboot no bucket resumes below "
            "its stored word (second %d, counter 500)" % (ckpt + 1),
            "%d of %d IDs below, first %s" % (
                len(low), len(ids), low[:1] and harness.decode(low[0])))


harness.run(test, control=True)
