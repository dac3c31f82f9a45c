// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Semaphore;

/**
 * A client of the genid 64-bit unique ID service, safe for use by many
 * threads.
 *
 * <p>The client keeps a small pool of connections (4 by default) to one of
 * a list of genid servers.  Each call takes one connection for its whole
 * length, so the IDs of one call come from one connection, and the IDs of
 * one connection strictly increase (the server pins it to one bucket).
 * IDs of different calls may come from different connections, or after a
 * failover from another server: unique, but ordered against each other
 * only by the time in them.  A thread that makes its calls one after
 * another reuses the same connection (the pool hands out the one given
 * back last).
 *
 * <p>When a server cannot be reached, does not answer within the timeout
 * or closes the connection, the call moves to the next address of the list
 * and asks there for what it still lacks; each address is tried once a
 * call.  IDs read before a connection broke are kept and handed out once;
 * replies not read are dropped: the server never issues those IDs again,
 * so they leave gaps, never duplicates.  When every address failed, the
 * call throws a {@link GenidException} naming each; the client stays
 * usable.
 *
 * <pre>{@code
 * try (GenidClient c = GenidClient.builder("127.0.0.1:3778", "[::1]:3778").build()) {
 *     long id = c.next();
 *     long[] many = c.bulk(1000);
 *     System.out.println(GenidId.format(id) + " of " + c.time(id));
 * }
 * }</pre>
 *
 * <p>IDs are unsigned 64-bit numbers in a {@code long}; see {@link GenidId}.
 */
public final class GenidClient implements AutoCloseable {
    /** The port of an address given without one. */
    public static final int DEFAULT_PORT = 3778;
    /** The most IDs prefetch may hold: one bucket's second. */
    public static final int PREFETCH_MAX = 65536;

    private static final int CHUNK = 255; // IDs asked for in one CMD 1 frame
    private static final int WINDOW = 32; // CMD 1 frames written before reading their replies
    // A CMD 0 waits in the server for the next second when its bucket is
    // used up: its reply may take this much longer than the I/O timeout.
    private static final int CLOCK_WAIT_MS = 1000;
    private static final int RBUF_LEN = 16384;

    private final Address[] addrs;
    private final int connectTimeoutMs;
    private final int ioTimeoutMs;
    private final int prefetch;
    private final long prefetchMaxAgeNanos;
    private final long epoch;
    private final Semaphore permits;
    private final ArrayDeque<Conn> free = new ArrayDeque<>(); // guarded by itself
    private volatile boolean closed;

    private GenidClient(Builder b) {
        addrs = b.addrs.toArray(new Address[0]);
        connectTimeoutMs = millis("connect timeout", b.connectTimeout);
        ioTimeoutMs = millis("I/O timeout", b.ioTimeout);
        if (ioTimeoutMs > Integer.MAX_VALUE - CLOCK_WAIT_MS) {
            throw new IllegalArgumentException("I/O timeout " + b.ioTimeout + " is too long");
        }
        prefetch = b.prefetch;
        prefetchMaxAgeNanos = b.prefetchMaxAge.toNanos();
        epoch = b.epoch;
        permits = new Semaphore(b.connections);
    }

    private static int millis(String what, Duration d) {
        long ms = d.toMillis();
        if (ms < 1 || ms > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + d + " is not between 1 ms and 24 days");
        }
        return (int) ms;
    }

    /**
     * A builder for a client of the addresses: "host", "host:port",
     * "[v6]:port" or a bare IPv6 address; the port is {@link #DEFAULT_PORT}
     * when none is given.  Host names are resolved at each connection.  A
     * malformed address is an IllegalArgumentException.
     */
    public static Builder builder(String... addresses) {
        return new Builder(Arrays.asList(addresses));
    }

    /** The same for a list of addresses. */
    public static Builder builder(List<String> addresses) {
        return new Builder(addresses);
    }

    /** The settings of a client; each has a default. */
    public static final class Builder {
        private final List<Address> addrs = new ArrayList<>();
        private Duration connectTimeout = Duration.ofSeconds(1);
        private Duration ioTimeout = Duration.ofSeconds(1);
        private int prefetch;
        private Duration prefetchMaxAge = Duration.ofSeconds(1);
        private long epoch;
        private int connections = 4;

        private Builder(List<String> addresses) {
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("no genid server address given");
            }
            for (String a : addresses) {
                addrs.add(Address.parse(Objects.requireNonNull(a, "address")));
            }
        }

        /** The longest wait for a connection to one address to be set up (1 s). */
        public Builder connectTimeout(Duration d) {
            connectTimeout = Objects.requireNonNull(d);
            return this;
        }

        /**
         * The longest wait for a server to send the next part of a reply
         * (1 s).  A request for a single ID may wait in the server for up to
         * a second when its bucket is used up, so its reply gets one second
         * more.
         */
        public Builder ioTimeout(Duration d) {
            ioTimeout = Objects.requireNonNull(d);
            return this;
        }

        /**
         * With n above 0, {@link #next()} fetches up to n IDs at once on a
         * connection and hands them out one by one from memory (0: none; at
         * most {@link #PREFETCH_MAX}).
         */
        public Builder prefetch(int n) {
            if (n < 0 || n > PREFETCH_MAX) {
                throw new IllegalArgumentException("prefetch " + n + " is out of range 0.." + PREFETCH_MAX);
            }
            prefetch = n;
            return this;
        }

        /**
         * Prefetched IDs fetched longer ago than this are dropped unused, so
         * that the time in an ID stays close to the time it is handed out
         * (1 s).
         */
        public Builder prefetchMaxAge(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("prefetch max age " + d + " is not above 0");
            }
            prefetchMaxAge = d;
            return this;
        }

        /** The servers' epoch in Unix seconds (0), for {@link #time(long)}. */
        public Builder epoch(long unixSeconds) {
            epoch = unixSeconds;
            return this;
        }

        /** The same as an Instant. */
        public Builder epoch(Instant t) {
            return epoch(t.getEpochSecond());
        }

        /**
         * The most connections open at once (4); calls beyond them wait
         * for a connection to be free.  Connections are opened when first
         * needed.
         */
        public Builder connections(int n) {
            if (n < 1) {
                throw new IllegalArgumentException(n + " connections: give at least 1");
            }
            connections = n;
            return this;
        }

        /** Makes the client; no connection is made before the first call. */
        public GenidClient build() {
            return new GenidClient(this);
        }
    }

    /**
     * One ID.  Without prefetch it asks for one (protocol command 0); with
     * prefetch it hands one out from the connection's buffer, refilling it
     * when empty.
     *
     * @throws GenidException when no server answered
     */
    public long next() throws IOException {
        Conn s = take();
        try {
            if (prefetch == 0) {
                long[] one = new long[1];
                if (s.fetch(one, 0, 1, 1, true) == 1) {
                    return one[0];
                }
                throw s.error(new long[0]);
            }
            if (s.prepos < s.prelen && System.nanoTime() - s.preAt > prefetchMaxAgeNanos) {
                s.prepos = s.prelen = 0;
            }
            if (s.prepos == s.prelen) {
                s.prepos = s.prelen = 0;
                int got = s.fetch(s.pre, 0, prefetch, 1, false);
                if (got == 0) {
                    throw s.error(new long[0]);
                }
                s.prelen = got;
                s.preAt = System.nanoTime();
            }
            return s.pre[s.prepos++];
        } finally {
            give(s);
        }
    }

    /**
     * n IDs, increasing when they all come from one connection.  It asks for
     * 255 IDs a request (protocol command 1), 32 requests at once; a short
     * reply means the connection's bucket is used up for this second, and
     * the next requests ask for the rest.  IDs left from prefetch come
     * first.
     *
     * @throws GenidException when every server failed; the IDs that came
     *     before are in its {@link GenidException#ids()}
     */
    public long[] bulk(int n) throws IOException {
        if (n < 0) {
            throw new IllegalArgumentException("bulk of " + n + " IDs");
        }
        Conn s = take();
        try {
            long[] ids = new long[n];
            int got = 0;
            // Prefetched IDs come first: they are older than any the
            // connection gives now, and the caller sees one increasing run.
            if (s.prepos < s.prelen && System.nanoTime() - s.preAt <= prefetchMaxAgeNanos) {
                got = Math.min(s.prelen - s.prepos, n);
                System.arraycopy(s.pre, s.prepos, ids, 0, got);
                s.prepos += got;
            } else {
                s.prepos = s.prelen = 0;
            }
            if (got < n) {
                got += s.fetch(ids, got, n - got, n - got, false);
                if (got < n) {
                    throw s.error(Arrays.copyOf(ids, got));
                }
            }
            return ids;
        } finally {
            give(s);
        }
    }

    /**
     * What a server says about itself (protocol command 2): its JSON object
     * with the keys version, zone, dc, machine, epoch, buckets, workers,
     * pid, uptime_s, now, checkpoint, bucket and state.  Whole numbers are
     * Long, text String.
     *
     * @throws GenidException when no server answered
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> info() throws IOException {
        String text = infoJson();
        Object v;
        try {
            v = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("INFO reply is not JSON (" + e.getMessage() + "): " + text);
        }
        if (!(v instanceof Map)) {
            throw new ProtocolException("INFO reply is not a JSON object: " + text);
        }
        return (Map<String, Object>) v;
    }

    /** The INFO reply as the server sent it, JSON text. */
    public String infoJson() throws IOException {
        Conn s = take();
        try {
            String[] out = new String[1];
            if (!s.call(() -> out[0] = s.info())) {
                throw s.error(new long[0]);
            }
            return out[0];
        } finally {
            give(s);
        }
    }

    /** The time of an ID under the client's epoch. */
    public Instant time(long id) {
        return GenidId.decode(id).time(epoch);
    }

    /** The servers' epoch of the client's settings, Unix seconds. */
    public long epoch() {
        return epoch;
    }

    /** The connect timeout of the client's settings. */
    public Duration connectTimeout() {
        return Duration.ofMillis(connectTimeoutMs);
    }

    /** The I/O timeout of the client's settings. */
    public Duration ioTimeout() {
        return Duration.ofMillis(ioTimeoutMs);
    }

    /** The prefetch of the client's settings (0: none). */
    public int prefetch() {
        return prefetch;
    }

    /** The prefetch age bound of the client's settings. */
    public Duration prefetchMaxAge() {
        return Duration.ofNanos(prefetchMaxAgeNanos);
    }

    /**
     * Closes the idle connections at once and the others when their calls
     * end; prefetched IDs not handed out are lost.  Calls after close throw
     * IllegalStateException.
     */
    @Override
    public void close() {
        closed = true;
        synchronized (free) {
            for (Conn s : free) {
                s.close();
            }
            free.clear();
        }
    }

    private Conn take() throws IOException {
        if (closed) {
            throw new IllegalStateException("the genid client is closed");
        }
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a free genid connection");
        }
        Conn s;
        synchronized (free) {
            s = free.pollFirst();
        }
        if (closed) {
            if (s != null) {
                s.close();
            }
            permits.release();
            throw new IllegalStateException("the genid client is closed");
        }
        return s != null ? s : new Conn();
    }

    private void give(Conn s) {
        synchronized (free) {
            if (closed) {
                s.close();
            } else {
                free.addFirst(s);
            }
        }
        permits.release();
    }

    /** One address of the list. */
    record Address(String host, int port, String name) {
        static Address parse(String s) {
            String host = s;
            String port = null;
            if (s.isEmpty()) {
                throw new IllegalArgumentException("empty genid server address");
            }
            if (s.startsWith("[")) {
                int end = s.indexOf(']');
                if (end < 0) {
                    throw new IllegalArgumentException("address \"" + s + "\" has no closing ]");
                }
                host = s.substring(1, end);
                String rest = s.substring(end + 1);
                if (!rest.isEmpty()) {
                    if (rest.charAt(0) != ':') {
                        throw new IllegalArgumentException("address \"" + s + "\": expected :port after ]");
                    }
                    port = rest.substring(1);
                }
            } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
                int c = s.indexOf(':');
                host = s.substring(0, c);
                port = s.substring(c + 1);
            }
            // More than one colon without brackets: a bare IPv6 address.
            if (host.isEmpty()) {
                throw new IllegalArgumentException("address \"" + s + "\" has no host");
            }
            int p = DEFAULT_PORT;
            if (port != null) {
                p = -1;
                if (!port.isEmpty() && port.length() <= 5 && port.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                    p = Integer.parseInt(port);
                }
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException(
                            "address \"" + s + "\": port \"" + port + "\" is not a number in 1..65535");
                }
            }
            String name = host.indexOf(':') >= 0 ? "[" + host + "]:" + p : host + ":" + p;
            return new Address(host, p, name);
        }
    }

    @FunctionalInterface
    private interface Request {
        void run() throws IOException;
    }

    /** One connection of the pool and what was read on it; one call at a time uses it. */
    private final class Conn {
        Socket sock;
        InputStream in;
        OutputStream out;
        int cur; // the address connected to or tried next
        long last; // the last ID read on this connection
        long nread; // IDs read on this connection
        boolean answered; // the server has sent something on it
        boolean vetted; // its INFO said "serving" (or named no state)
        final byte[] rbuf = new byte[RBUF_LEN];
        int rpos;
        int rlen;
        final long[] pre = new long[prefetch]; // prefetched IDs: pre[prepos..prelen)
        int prepos;
        int prelen;
        long preAt; // when pre was filled, System.nanoTime
        List<IOException> failures = new ArrayList<>(); // of the last call

        GenidException error(long[] ids) {
            return new GenidException(failures, ids);
        }

        Address addr() {
            return addrs[cur];
        }

        /**
         * Runs req on the open connection or a new one, moving round the
         * addresses from the one that failed.  Each address is tried once;
         * a connection open from an earlier call may have been closed by the
         * server meanwhile (idle timeout, restart), so its address may come
         * round once more.  False when every try failed (see failures);
         * the next call then starts from the address this one started with.
         */
        boolean call(Request req) {
            failures = new ArrayList<>();
            int start = cur;
            int budget = addrs.length + (sock != null ? 1 : 0);
            for (int tries = 0; tries < budget; tries++) {
                try {
                    open();
                    req.run();
                    return true;
                } catch (IOException e) {
                    close();
                    failures.add(e);
                    cur = (cur + 1) % addrs.length;
                }
            }
            // The next call goes round the list again from where this one began.
            cur = start;
            return false;
        }

        /**
         * Reads IDs into dst[off...] until at least min of n are there or no
         * server is left; returns how many.  A round that brought nothing is followed by
         * one command 0, which waits in the server for the clock instead of
         * spinning here.
         */
        int fetch(long[] dst, int off, int n, int min, boolean single) {
            int[] got = {0};
            boolean one = single;
            while (got[0] < min) {
                int before = got[0];
                boolean s = one;
                if (!call(() -> round(dst, off, n, got, s))) {
                    break;
                }
                one = !one && got[0] == before;
            }
            return got[0];
        }

        /**
         * Writes up to 32 CMD 1 frames for the IDs still missing (or one CMD
         * 0) and reads their replies.  A short reply is not an error: the
         * next round asks again.
         */
        void round(long[] dst, int off, int n, int[] got, boolean single) throws IOException {
            if (!vetted) {
                vet();
            }
            byte[] req = new byte[WINDOW * 2];
            int frames = 0;
            if (single) {
                frames = 1; // 00 00
            } else {
                for (int asked = 0; frames < WINDOW && got[0] + asked < n; frames++) {
                    int k = Math.min(n - got[0] - asked, CHUNK);
                    req[frames * 2] = 1;
                    req[frames * 2 + 1] = (byte) k;
                    asked += k;
                }
            }
            write(req, frames * 2);
            for (int i = 0; i < frames; i++) {
                if (req[i * 2] == 0) {
                    takeIds(dst, off, 1, got, ioTimeoutMs + CLOCK_WAIT_MS);
                    continue;
                }
                while (rpos == rlen) {
                    fill(ioTimeoutMs);
                }
                int m = rbuf[rpos++] & 0xFF;
                int asked = req[i * 2 + 1] & 0xFF;
                if (m > asked) {
                    throw new ProtocolException(
                            "read " + addr().name() + ": " + m + " IDs in reply to a request for " + asked);
                }
                takeIds(dst, off, m, got, ioTimeoutMs);
            }
        }

        /**
         * Reads m IDs into dst[off + got...], counting each as soon as it is whole:
         * IDs read before a connection breaks are kept.  An ID not above the
         * one before it on this connection breaks the server's promise of
         * order, and maybe of uniqueness: it is not handed out.
         */
        void takeIds(long[] dst, int off, int m, int[] got, int timeoutMs) throws IOException {
            while (m > 0) {
                if (rlen - rpos < 8) {
                    fill(timeoutMs);
                    continue;
                }
                for (; rlen - rpos >= 8 && m > 0; m--) {
                    long id = 0;
                    for (int b = 0; b < 8; b++) {
                        id = id << 8 | (rbuf[rpos + b] & 0xFF);
                    }
                    if (nread > 0 && Long.compareUnsigned(id, last) <= 0) {
                        throw new ProtocolException("read " + addr().name() + ": ID " + GenidId.format(id)
                                + " is not above the one before it, " + GenidId.format(last));
                    }
                    rpos += 8;
                    last = id;
                    nread++;
                    dst[off + got[0]++] = id;
                }
            }
        }

        /** Reads the INFO reply: a 2-byte length, then the JSON text. */
        /**
         * Asks the server of a new connection for INFO: one that says it is
         * not serving counts as down.  A server that names no state is taken
         * as serving.
         */
        void vet() throws IOException {
            String text = info();
            Object v;
            try {
                v = Json.parse(text);
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("read " + addr().name() + ": INFO reply is not JSON (" + e.getMessage() + ")");
            }
            Object state = v instanceof Map ? ((Map<?, ?>) v).get("state") : null;
            if (state != null && !"serving".equals(state)) {
                String st = String.valueOf(state);
                st = st.length() > 64 ? st.substring(0, 64) : st;
                throw new NotServingException(addr().name() + " is not serving: its state is " + st, st);
            }
            vetted = true;
        }

        String info() throws IOException {
            write(new byte[] {2, 0}, 2);
            while (rlen - rpos < 2) {
                fill(ioTimeoutMs);
            }
            int left = (rbuf[rpos] & 0xFF) << 8 | (rbuf[rpos + 1] & 0xFF);
            rpos += 2;
            byte[] text = new byte[left];
            int at = 0;
            while (left > 0) {
                while (rpos == rlen) {
                    fill(ioTimeoutMs);
                }
                int k = Math.min(rlen - rpos, left);
                System.arraycopy(rbuf, rpos, text, at, k);
                rpos += k;
                at += k;
                left -= k;
            }
            return new String(text, StandardCharsets.UTF_8);
        }

        /** Connects to the current address, trying each address it resolves to. */
        void open() throws IOException {
            if (sock != null) {
                return;
            }
            Address a = addr();
            InetAddress[] ips;
            try {
                ips = InetAddress.getAllByName(a.host());
            } catch (UnknownHostException e) {
                UnknownHostException u = new UnknownHostException("resolve " + a.name() + ": " + e.getMessage());
                u.initCause(e);
                throw u;
            }
            IOException last = null;
            for (InetAddress ip : ips) {
                Socket so = new Socket();
                try {
                    so.setTcpNoDelay(true); // requests are 2-byte frames: send each at once
                    so.connect(new InetSocketAddress(ip, a.port()), connectTimeoutMs);
                    sock = so;
                    in = so.getInputStream();
                    out = so.getOutputStream();
                    rpos = rlen = 0;
                    nread = 0;
                    answered = false;
                    vetted = false;
                    return;
                } catch (IOException e) {
                    try {
                        so.close();
                    } catch (IOException ignored) {
                        // nothing was sent on it
                    }
                    last = reword("connect", e, connectTimeoutMs);
                }
            }
            throw last;
        }

        /**
         * Closes the connection, dropping whatever the server still sends:
         * replies to requests that are asked again elsewhere, so IDs are
         * skipped, never repeated.
         */
        void close() {
            if (sock != null) {
                try {
                    sock.close();
                } catch (IOException ignored) {
                    // the connection is dropped either way
                }
            }
            sock = null;
            in = null;
            out = null;
            rpos = rlen = 0;
        }

        void write(byte[] b, int len) throws IOException {
            try {
                out.write(b, 0, len);
            } catch (IOException e) {
                throw reword("write", e, ioTimeoutMs);
            }
        }

        /** Reads what the server has sent into rbuf, waiting at most timeoutMs. */
        void fill(int timeoutMs) throws IOException {
            if (rpos > 0) {
                System.arraycopy(rbuf, rpos, rbuf, 0, rlen - rpos);
                rlen -= rpos;
                rpos = 0;
            }
            int n;
            try {
                sock.setSoTimeout(timeoutMs);
                n = in.read(rbuf, rlen, rbuf.length - rlen);
            } catch (IOException e) {
                throw reword("read", e, timeoutMs);
            }
            if (n < 0) {
                throw closedError("read", "closed", null);
            }
            rlen += n;
            answered = true;
        }

        /** Words a failure of what on the current address with a type that tells its kind. */
        IOException reword(String what, IOException e, int timeoutMs) {
            String where = what + " " + addr().name() + ": ";
            IOException r;
            if (e instanceof SocketTimeoutException) {
                r = new SocketTimeoutException(where + "timed out after " + timeoutMs + " ms");
            } else if (e instanceof ConnectException) {
                r = new ConnectException(where + lower(e.getMessage()));
            } else if (e instanceof SocketException && !what.equals("connect")) {
                // Reset, broken pipe: the server dropped the connection.
                String m = String.valueOf(e.getMessage()).toLowerCase();
                return closedError(what, m.contains("reset") ? "reset" : "closed", e);
            } else {
                r = new IOException(where + lower(e.getMessage()));
            }
            r.initCause(e);
            return r;
        }

        EOFException closedError(String what, String how, IOException cause) {
            // genid closes a connection it refuses (allow list, connection
            // limit) without a word.
            EOFException r = new EOFException(what + " " + addr().name() + ": connection " + how
                    + " by the server" + (answered ? "" : " (allow list or connection limit?)"));
            if (cause != null) {
                r.initCause(cause);
            }
            return r;
        }
    }

    private static String lower(String m) {
        if (m == null || m.isEmpty()) {
            return "failed";
        }
        // "Connection refused" reads as the libgenid message does.
        return Character.toLowerCase(m.charAt(0)) + m.substring(1);
    }
}
