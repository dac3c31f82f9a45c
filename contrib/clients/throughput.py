#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""throughput.py - IDs/s of each client from one thread, with and without
prefetch, against one local genid.

    python3 contrib/clients/throughput.py BUILD/src/genid [SECONDS [RUNS]]

Starts one genid (tests/clients/run_genid.py, 2 workers, max_ahead_s
3600 so that a connection's bucket, 65,536 IDs a second sustained, does
not cap the runs), then runs each client's single-ID call in a loop for
SECONDS (3) on a fresh client: without prefetch (one round trip an ID)
and with prefetch 1000.  Each figure is the best of RUNS (3) runs, the
one least disturbed by other work on the machine.  A program, never a
test: numbers from a busy machine are noisy; compare rows of one run
only.  Each client is a command taking ADDRESS SECONDS PREFETCH that
prints the count of IDs it got, optionally followed by the seconds it
took; add a language to the list in main().
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "clients"))
import conformance  # noqa: E402

C_LOOP = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <genid.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	const char *addr[1] = {argv[1]};
	struct genid_options opt = {.prefetch = (size_t)atoi(argv[3])};
	struct genid_client *c = genid_open(addr, 1, &opt);
	double start = now(), end = start + atof(argv[2]);
	uint64_t id, n = 0;

	while (now() < end) {
		for (int i = 0; i < 100; i++, n++)
			if (genid_next(c, &id) == -1) {
				fprintf(stderr, "%s\n", genid_strerror(c));
				return 1;
			}
	}
	printf("%llu %f\n", (unsigned long long)n, now() - start);
	genid_close(c);
	return 0;
}
"""

PY_LOOP = """
import sys, time
sys.path.insert(0, %r)
import genid64
addr, secs, pre = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
with genid64.Client([addr], prefetch=pre) as c:
    n, start = 0, time.monotonic()
    while time.monotonic() < start + secs:
        for _ in range(100):
            c.next()
        n += 100
print(n, time.monotonic() - start)
""" % os.path.join(HERE, "python", "src")

PY_ASYNC_LOOP = """
import asyncio, sys, time
sys.path.insert(0, %r)
import genid64
async def main(addr, secs, pre):
    async with genid64.AsyncClient([addr], prefetch=pre) as c:
        n, start = 0, time.monotonic()
        while time.monotonic() < start + secs:
            for _ in range(100):
                await c.next()
            n += 100
    print(n, time.monotonic() - start)
asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
""" % os.path.join(HERE, "python", "src")

NODE_LOOP = """
const genid = require(%r);
const [addr, secs, pre] = process.argv.slice(1);
(async () => {
  const c = new genid.Client([addr], { prefetch: Number(pre) });
  let n = 0;
  const start = performance.now();
  while (performance.now() < start + Number(secs) * 1000) {
    for (let i = 0; i < 100; i++) await c.next();
    n += 100;
  }
  await c.close();
  console.log(n, (performance.now() - start) / 1000);
})();
""" % os.path.join(HERE, "node")


def c_command(genid, tmp):
    build = os.path.dirname(os.path.dirname(os.path.abspath(genid)))
    src = os.path.join(tmp, "loop.c")
    exe = os.path.join(tmp, "loop")
    with open(src, "w") as f:
        f.write(C_LOOP)
    libs = os.path.join(build, "src", "client", ".libs")
    subprocess.run(["cc", "-O2", "-o", exe, src,
                    "-I" + os.path.join(TOP, "src", "client"), "-L" + libs,
                    "-Wl,-rpath," + libs, "-lgenid"], check=True)
    return [exe]


def best(cmd, address, secs, prefetch, runs):
    """The best IDs/s of runs runs, or why a run failed."""
    rates = []
    for _ in range(runs):
        out = subprocess.run(cmd + [address, secs, prefetch],
                             capture_output=True, text=True,
                             timeout=float(secs) * 3 + 30)
        if out.returncode != 0:
            return "failed: " + out.stderr.strip()[-80:]
        # "COUNT SECONDS", or only the count of the nominal seconds.
        words = out.stdout.split() + [secs]
        rates.append(int(words[0]) / float(words[1]))
    return "%.0f" % max(rates)


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 64
    genid = sys.argv[1]
    secs = sys.argv[2] if len(sys.argv) > 2 else "3"
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with tempfile.TemporaryDirectory(prefix="genid-throughput-") as tmp:
        clients = [("C (libgenid)", c_command(genid, tmp)),
                   ("Python", [sys.executable, "-c", PY_LOOP]),
                   ("Python asyncio", [sys.executable, "-c", PY_ASYNC_LOOP]),
                   ("Node.js", ["node", "-e", NODE_LOOP])]
        srv = conformance.Server({"genid": [
            "--set", "max_ahead_s=3600",
            "--why", "max_ahead_s=the clients, not the clock, set the pace"]},
            genid)
        try:
            with open("/proc/loadavg") as f:
                load = " ".join(f.read().split()[:3])
            print("# best of %d runs of %g s, load average %s"
                  % (runs, float(secs), load))
            print("%-16s %14s %14s" % ("client", "IDs/s", "IDs/s prefetch"))
            for name, cmd in clients:
                row = [best(cmd, srv.address, secs, pre, runs)
                       for pre in ("0", "1000")]
                print("%-16s %14s %14s" % (name, row[0], row[1]), flush=True)
        finally:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
