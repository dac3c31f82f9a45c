// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Java-specific behaviour beyond the shared cases: threads, close, settings. */
class ClientTest {

    /**
     * 16 threads share a client of 4 connections against the real genid:
     * every ID is unique and the IDs of each call increase.
     */
    @Test
    void manyThreads() throws Exception {
        try (Helper h = Helper.genid("--machine", "5");
                GenidClient c = GenidClient.builder(h.addr()).connections(4).prefetch(64).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(16);
            try {
                List<Future<List<Long>>> results = new ArrayList<>();
                for (int t = 0; t < 16; t++) {
                    results.add(pool.submit(() -> {
                        List<Long> mine = new ArrayList<>();
                        for (int r = 0; r < 50; r++) {
                            mine.add(c.next());
                            long[] ids = c.bulk(300);
                            for (int i = 1; i < ids.length; i++) {
                                assertTrue(Long.compareUnsigned(ids[i], ids[i - 1]) > 0,
                                        "the IDs of one bulk call increase");
                            }
                            for (long id : ids) {
                                mine.add(id);
                            }
                        }
                        return mine;
                    }));
                }
                Set<Long> seen = new HashSet<>();
                for (Future<List<Long>> f : results) {
                    for (long id : f.get(60, TimeUnit.SECONDS)) {
                        assertTrue(seen.add(id), "ID " + GenidId.format(id) + " handed out twice");
                    }
                }
                assertEquals(16 * 50 * 301, seen.size());
            } finally {
                pool.shutdownNow();
            }
            Map<String, Object> info = c.info();
            assertEquals(5L, info.get("machine"));
        }
    }

    /** A call beyond the pool's connections waits for one to be free. */
    @Test
    void waitsForAConnection() throws Exception {
        try (Helper silent = Helper.fake("--mode", "silent");
                GenidClient c = GenidClient.builder(silent.addr()).connections(1)
                        .ioTimeout(Duration.ofMillis(300)).build()) {
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                long t0 = System.nanoTime();
                Future<?> a = pool.submit(() -> c.bulk(10));
                Future<?> b = pool.submit(() -> c.bulk(10));
                for (Future<?> f : List.of(a, b)) {
                    Exception e = assertThrows(Exception.class, () -> f.get(10, TimeUnit.SECONDS));
                    assertTrue(e.getCause() instanceof GenidException, "fails with GenidException: " + e);
                    assertTrue(e.getCause().getCause() instanceof SocketTimeoutException, "as a timeout: " + e);
                }
                // One after the other on the one connection: two timeouts.
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms >= 590, "two calls on one connection took " + ms + " ms, want about 600 or more");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void closed() throws Exception {
        try (Helper h = Helper.fake("--mode", "normal")) {
            GenidClient c = GenidClient.builder(h.addr()).build();
            c.next();
            c.close();
            assertThrows(IllegalStateException.class, c::next);
            c.close(); // twice is harmless
        }
    }

    @Test
    void settingsChecked() {
        assertThrows(IllegalArgumentException.class, () -> GenidClient.builder());
        assertThrows(IllegalArgumentException.class, () -> GenidClient.builder("127.0.0.1").prefetch(-1));
        assertThrows(IllegalArgumentException.class,
                () -> GenidClient.builder("127.0.0.1").prefetch(GenidClient.PREFETCH_MAX + 1));
        assertThrows(IllegalArgumentException.class, () -> GenidClient.builder("127.0.0.1").connections(0));
        assertThrows(IllegalArgumentException.class,
                () -> GenidClient.builder("127.0.0.1").ioTimeout(Duration.ZERO).build());
        assertThrows(IllegalArgumentException.class,
                () -> GenidClient.builder("127.0.0.1").connectTimeout(Duration.ofMillis(-5)).build());
        try (GenidClient c = GenidClient.builder("127.0.0.1").build()) {
            assertThrows(IllegalArgumentException.class, () -> c.bulk(-1));
        }
    }

    @Test
    void timeOfAnId() {
        long epoch = 1_767_225_600L;
        GenidId f = GenidId.of(Instant.ofEpochSecond(epoch + 1000), epoch, 3, 2, 5, 17, 4242);
        long id = f.encode();
        GenidClient c = GenidClient.builder("127.0.0.1").epoch(Instant.ofEpochSecond(epoch)).build();
        assertEquals(Instant.ofEpochSecond(epoch + 1000), c.time(id));
        assertEquals(f, GenidId.decode(id));
        assertThrows(IllegalArgumentException.class,
                () -> GenidId.of(Instant.ofEpochSecond(epoch - 1), epoch, 0, 0, 0, 0, 0));
        assertEquals("0xffffffffffffffff", GenidId.formatHex(-1L));
        assertEquals("18446744073709551615", GenidId.format(-1L));
        c.close();
    }
}
