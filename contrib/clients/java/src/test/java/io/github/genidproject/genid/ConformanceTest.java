// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The language-neutral conformance cases of tests/clients/cases.json, run
 * against the real genid (run_genid.py, with $GENID) and the scripted fake
 * server (fake_server.py).
 */
class ConformanceTest {

    @SuppressWarnings("unchecked")
    static Map<String, Object> file() throws IOException {
        Map<String, Object> f = (Map<String, Object>) Helper.cases();
        assertEquals(1L, f.get("format"), "cases.json format this runner knows");
        known("cases.json", f, "format", "about", "defaults", "genid_identity", "fake_ts", "cases", "decode",
                "encode_errors", "parse", "addresses");
        return f;
    }

    /**
     * Fails on a key this runner does not know, so that a case added later
     * is never passed by accident.
     */
    static void known(String where, Map<String, Object> m, String... keys) {
        Set<String> unknown = new HashSet<>(m.keySet());
        unknown.removeAll(List.of(keys));
        assertTrue(unknown.isEmpty(), where + ": unknown keys " + unknown + ": update the runner");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object o) {
        return o == null ? List.of() : (List<Map<String, Object>>) o;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<String> strings(Object o) {
        return (List<String>) o;
    }

    static long num(Map<String, Object> m, String k, long dflt) {
        Object v = m.get(k);
        return v == null ? dflt : ((Number) v).longValue();
    }

    @TestFactory
    Stream<DynamicTest> cases() throws IOException {
        return list(file().get("cases")).stream()
                .map(c -> DynamicTest.dynamicTest((String) c.get("name"), () -> runCase(c)));
    }

    /** Whether e is of the case's kind of failure. */
    static boolean failsAs(IOException e, String kind) {
        Throwable c = e.getCause();
        switch (kind) {
            case "refused":
                return c instanceof ConnectException;
            case "timeout":
                return c instanceof SocketTimeoutException;
            case "closed":
                return c instanceof EOFException;
            case "protocol":
                return c instanceof ProtocolException;
            case "unavailable":
                return c instanceof NotServingException;
            case "resolve":
                return c instanceof UnknownHostException;
            default:
                return false;
        }
    }

    static void runCase(Map<String, Object> c) throws Exception {
        known("case", c, "name", "about", "servers", "client", "steps", "expect");
        List<Map<String, Object>> servers = list(c.get("servers"));
        for (Map<String, Object> s : servers) {
            known("server", s, "genid", "fake", "machine", "epoch", "first");
        }
        List<Helper> hs = new ArrayList<>();
        try {
            List<String> addrs = new ArrayList<>();
            for (Map<String, Object> s : servers) {
                Helper h = s.containsKey("genid")
                        ? new Helper(strings(s.get("genid")), null)
                        : new Helper(null, strings(s.get("fake")));
                hs.add(h);
                addrs.add(h.addr());
            }
            Map<String, Object> o = map(c.get("client"));
            known("client", o, "connect_timeout_ms", "io_timeout_ms", "prefetch", "prefetch_max_age_ms", "epoch");
            GenidClient.Builder b = GenidClient.builder(addrs).connections(1);
            if (o.containsKey("connect_timeout_ms")) {
                b.connectTimeout(Duration.ofMillis(num(o, "connect_timeout_ms", 0)));
            }
            if (o.containsKey("io_timeout_ms")) {
                b.ioTimeout(Duration.ofMillis(num(o, "io_timeout_ms", 0)));
            }
            if (o.containsKey("prefetch_max_age_ms")) {
                b.prefetchMaxAge(Duration.ofMillis(num(o, "prefetch_max_age_ms", 0)));
            }
            b.prefetch((int) num(o, "prefetch", 0)).epoch(num(o, "epoch", 0));
            List<Long> ids = new ArrayList<>();
            try (GenidClient client = b.build()) {
                int i = 0;
                for (Map<String, Object> st : list(c.get("steps"))) {
                    i++;
                    runStep(client, hs, "step " + i + " (" + st.get("do") + ")", st, ids);
                }
                check(map(c.get("expect")), servers, client.epoch(), ids);
            }
        } finally {
            for (Helper h : hs) {
                h.close();
            }
        }
    }

    static void runStep(GenidClient client, List<Helper> hs, String where, Map<String, Object> st, List<Long> ids)
            throws Exception {
        known(where, st, "do", "times", "n", "info", "server", "ms", "fails", "ids", "error_names", "within_ms",
                "at_least_ms");
        String what = (String) st.get("do");
        switch (what) {
            case "kill":
            case "start":
            case "restart":
            case "stop":
                hs.get((int) num(st, "server", 0)).command(what);
                return;
            case "sleep":
                Thread.sleep(num(st, "ms", 0));
                return;
            default:
                break;
        }
        long times = num(st, "times", 1);
        long t0 = System.nanoTime();
        IOException err = null;
        for (long k = 0; k < times && err == null; k++) {
            try {
                switch (what) {
                    case "next":
                        ids.add(client.next());
                        break;
                    case "bulk": {
                        int n = (int) num(st, "n", 0);
                        long[] got = client.bulk(n);
                        assertEquals(n, got.length, where + ": bulk(" + n + ") IDs");
                        for (long id : got) {
                            ids.add(id);
                        }
                        break;
                    }
                    case "info": {
                        Map<String, Object> in = client.info();
                        for (Map.Entry<String, Object> e : map(st.get("info")).entrySet()) {
                            assertEquals(e.getValue(), in.get(e.getKey()),
                                    where + ": INFO " + e.getKey() + " (INFO " + in + ")");
                        }
                        break;
                    }
                    default:
                        fail(where + ": unknown step");
                }
            } catch (GenidException e) {
                err = e;
                if (what.equals("bulk")) {
                    if (st.containsKey("ids")) {
                        assertEquals(num(st, "ids", 0), e.ids().length,
                                where + ": IDs handed over by the failed bulk: " + e.getMessage());
                    }
                    for (long id : e.ids()) {
                        ids.add(id);
                    }
                }
            }
        }
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        String kind = (String) st.get("fails");
        if (kind != null) {
            if (err == null) {
                fail(where + ": succeeded, want a failure (" + kind + ")");
            }
            assertTrue(kind.equals("any") || failsAs(err, kind), where + ": failed with \"" + err.getMessage() + "\" (cause "
                    + err.getCause() + "), not of the kind " + kind);
            for (Object s : (List<?>) st.getOrDefault("error_names", List.of())) {
                String a = hs.get(((Number) s).intValue()).addr();
                assertTrue(err.getMessage().contains(a),
                        where + ": the error does not name server " + s + " (" + a + "): " + err.getMessage());
            }
        } else if (err != null) {
            throw new AssertionError(where + ": " + err.getMessage(), err);
        }
        long within = num(st, "within_ms", 0);
        long atLeast = num(st, "at_least_ms", 0);
        assertTrue(within == 0 || tookMs <= within, where + ": took " + tookMs + " ms, more than " + within);
        assertTrue(atLeast == 0 || tookMs >= atLeast, where + ": took " + tookMs + " ms, less than " + atLeast);
    }

    static void check(Map<String, Object> e, List<Map<String, Object>> servers, long epoch, List<Long> ids) {
        known("expect", e, "count", "unique", "increasing", "equals", "machines", "fields", "near_now_s");
        assertEquals(num(e, "count", 0), ids.size(), "IDs handed out");
        if (Boolean.TRUE.equals(e.get("unique"))) {
            Set<Long> seen = new HashSet<>();
            for (long id : ids) {
                assertTrue(seen.add(id), "ID " + GenidId.format(id) + " handed out twice");
            }
        }
        if (Boolean.TRUE.equals(e.get("increasing"))) {
            for (int i = 1; i < ids.size(); i++) {
                assertTrue(Long.compareUnsigned(ids.get(i), ids.get(i - 1)) > 0, "ID #" + i + " "
                        + GenidId.format(ids.get(i)) + " is not above the one before it");
            }
        }
        Map<String, Object> fields = map(e.get("fields"));
        long near = num(e, "near_now_s", 0);
        long now = Instant.now().getEpochSecond();
        for (long id : ids) {
            GenidId f = GenidId.decode(id);
            Map<String, Long> got = Map.of("ts", f.timestamp(), "zone", (long) f.zone(), "dc", (long) f.dc(),
                    "machine", (long) f.machine(), "bucket", (long) f.bucket(), "counter", (long) f.counter());
            for (Map.Entry<String, Object> kv : fields.entrySet()) {
                assertTrue(got.containsKey(kv.getKey()), "expect.fields: unknown field " + kv.getKey());
                assertEquals(kv.getValue(), got.get(kv.getKey()), "ID " + GenidId.format(id) + ": " + kv.getKey());
            }
            if (near > 0) {
                long d = f.unixSeconds(epoch) - now;
                assertTrue(Math.abs(d) <= near, "ID " + GenidId.format(id) + " is of " + f.time(epoch)
                        + ", " + d + " s away from now");
            }
        }
        if (e.containsKey("machines")) {
            List<List<Long>> runs = new ArrayList<>();
            for (long id : ids) {
                long m = GenidId.decode(id).machine();
                List<Long> lastRun = runs.isEmpty() ? null : runs.get(runs.size() - 1);
                if (lastRun != null && lastRun.get(0) == m) {
                    lastRun.set(1, lastRun.get(1) + 1);
                } else {
                    runs.add(new ArrayList<>(List.of(m, 1L)));
                }
            }
            assertEquals(e.get("machines"), runs, "(machine, count) runs of the IDs");
        }
        if (e.containsKey("equals")) {
            List<Long> want = new ArrayList<>();
            for (Map<String, Object> q : list(e.get("equals"))) {
                Map<String, Object> s = servers.get((int) num(q, "server", 0));
                long first = Long.parseUnsignedLong((String) Objects.requireNonNull(s.get("first")));
                List<?> k = (List<?>) q.get("k");
                for (long j = ((Number) k.get(0)).longValue(); j < ((Number) k.get(1)).longValue(); j++) {
                    want.add(first + j);
                }
            }
            assertEquals(want, ids, "the IDs, against the fake servers' sequences");
        }
    }

    /** The client's defaults are the contract's. */
    @Test
    void defaults() throws Exception {
        Map<String, Object> d = map(file().get("defaults"));
        known("defaults", d, "port", "connect_timeout_ms", "io_timeout_ms", "prefetch", "prefetch_max_age_ms",
                "prefetch_max", "epoch");
        assertEquals(num(d, "port", -1), GenidClient.DEFAULT_PORT);
        assertEquals(num(d, "prefetch_max", -1), GenidClient.PREFETCH_MAX);
        GenidClient c = GenidClient.builder("127.0.0.1").build();
        assertEquals(num(d, "connect_timeout_ms", -1), c.connectTimeout().toMillis());
        assertEquals(num(d, "io_timeout_ms", -1), c.ioTimeout().toMillis());
        assertEquals(num(d, "prefetch", -1), c.prefetch());
        assertEquals(num(d, "prefetch_max_age_ms", -1), c.prefetchMaxAge().toMillis());
        assertEquals(num(d, "epoch", -1), c.epoch());
        c.close();
    }

    @Test
    void decode() throws IOException {
        List<Map<String, Object>> ds = list(file().get("decode"));
        assertTrue(!ds.isEmpty(), "decode cases");
        for (Map<String, Object> d : ds) {
            long id = Long.parseUnsignedLong((String) d.get("id"));
            assertEquals(id, GenidId.parse((String) d.get("hex")), "parse of " + d.get("hex"));
            GenidId f = GenidId.decode(id);
            Map<String, Object> want = map(d.get("fields"));
            String what = "decode of " + d.get("id");
            assertEquals(num(want, "ts", -1), f.timestamp(), what + ": ts");
            assertEquals(num(want, "zone", -1), f.zone(), what + ": zone");
            assertEquals(num(want, "dc", -1), f.dc(), what + ": dc");
            assertEquals(num(want, "machine", -1), f.machine(), what + ": machine");
            assertEquals(num(want, "bucket", -1), f.bucket(), what + ": bucket");
            assertEquals(num(want, "counter", -1), f.counter(), what + ": counter");
            long epoch = num(d, "epoch", 0);
            assertEquals(num(d, "unix", -1), f.unixSeconds(epoch), what + ": Unix time");
            assertEquals(Instant.ofEpochSecond(num(d, "unix", -1)), f.time(epoch), what + ": time");
            assertEquals(d.get("signed64"), id >= 0, what + ": fits a signed 64-bit integer");
            assertEquals(id, f.encode(), "encode of " + what);
            assertEquals(d.get("id"), GenidId.format(id));
        }
    }

    @Test
    void encodeErrors() throws IOException {
        List<Map<String, Object>> es = list(file().get("encode_errors"));
        assertTrue(!es.isEmpty(), "encode error cases");
        for (Map<String, Object> e : es) {
            Map<String, Object> f = map(e.get("fields"));
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
                    () -> new GenidId(num(f, "ts", 0), (int) num(f, "zone", 0), (int) num(f, "dc", 0),
                            (int) num(f, "machine", 0), (int) num(f, "bucket", 0), (int) num(f, "counter", 0)),
                    "fields " + f);
            assertTrue(x.getMessage().contains((String) e.get("message")),
                    "\"" + x.getMessage() + "\" says \"" + e.get("message") + "\"");
        }
    }

    @Test
    void parse() throws IOException {
        Map<String, Object> p = map(file().get("parse"));
        for (Object o : (List<?>) p.get("ok")) {
            List<?> pair = (List<?>) o;
            assertEquals(Long.parseUnsignedLong((String) pair.get(1)), GenidId.parse((String) pair.get(0)),
                    "parse of \"" + pair.get(0) + "\"");
        }
        for (Object s : (List<?>) p.get("bad")) {
            assertThrows(NumberFormatException.class, () -> GenidId.parse((String) s), "parse of \"" + s + "\"");
        }
    }

    @Test
    void addresses() throws IOException {
        Map<String, Object> a = map(file().get("addresses"));
        for (Object o : (List<?>) a.get("ok")) {
            List<?> t = (List<?>) o;
            GenidClient.Address got = GenidClient.Address.parse((String) t.get(0));
            assertEquals(t.get(1), got.host(), "host of \"" + t.get(0) + "\"");
            assertEquals(((Number) t.get(2)).intValue(), got.port(), "port of \"" + t.get(0) + "\"");
        }
        for (Object s : (List<?>) a.get("bad")) {
            assertThrows(IllegalArgumentException.class, () -> GenidClient.builder((String) s),
                    "address \"" + s + "\"");
        }
    }
}
