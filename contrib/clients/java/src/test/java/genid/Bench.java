package genid;

/**
 * IDs per second from one thread against a running genid:
 * {@code java -cp build/genid-client.jar:build/test-classes genid.Bench HOST:PORT [SECONDS]}.
 * Prints one line per mode: next() without prefetch, next() with a
 * prefetch of 1000, and bulk(1000).
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: genid.Bench HOST:PORT [SECONDS]");
            System.exit(64);
        }
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        run(args[0], "next, no prefetch", 0, 1, seconds);
        run(args[0], "next, prefetch 1000", 1000, 1, seconds);
        run(args[0], "bulk(1000)", 0, 1000, seconds);
    }

    private static void run(String addr, String what, int prefetch, int bulk, double seconds) throws Exception {
        try (GenidClient c = GenidClient.builder(addr).connections(1).prefetch(prefetch).build()) {
            // Warm-up: the JIT, the connection.
            long end = System.nanoTime() + 500_000_000L;
            while (System.nanoTime() < end) {
                step(c, bulk);
            }
            long n = 0;
            long t0 = System.nanoTime();
            end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                n += step(c, bulk);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%-22s %12.0f IDs/s (%d IDs in %.2f s)%n", what, n / s, n, s);
        }
    }

    private static long step(GenidClient c, int bulk) throws Exception {
        if (bulk == 1) {
            c.next();
            return 1;
        }
        return c.bulk(bulk).length;
    }
}
