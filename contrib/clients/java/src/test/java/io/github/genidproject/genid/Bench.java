// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

/**
 * Calls next() in a loop from one thread for a while and prints how many
 * IDs it got: the Java row of contrib/clients/throughput.py.
 *
 * <pre>java -cp build/genid-client.jar:build/test-classes io.github.genidproject.genid.Bench ADDRESS SECONDS PREFETCH</pre>
 *
 * <p>Half a second of calls before the count starts lets the JIT compile
 * the loop.
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: io.github.genidproject.genid.Bench ADDRESS SECONDS PREFETCH");
            System.exit(64);
        }
        double seconds = Double.parseDouble(args[1]);
        int prefetch = Integer.parseInt(args[2]);
        try (GenidClient c = GenidClient.builder(args[0]).connections(1).prefetch(prefetch).build()) {
            long end = System.nanoTime() + 500_000_000L;
            while (System.nanoTime() < end) {
                c.next();
            }
            long n = 0;
            end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                for (int i = 0; i < 1000; i++) {
                    c.next();
                }
                n += 1000;
            }
            System.out.println(n);
        }
    }
}
