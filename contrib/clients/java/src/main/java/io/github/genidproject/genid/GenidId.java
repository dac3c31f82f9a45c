// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import java.time.Instant;

/**
 * The fields of a genid ID, bit 63 first: the timestamp (32 bits, seconds
 * since the servers' epoch), the zone (5 bits), the data centre (3), the
 * machine (3), the bucket (5) and a counter (16).
 *
 * <p>An ID is 64 bits without a sign.  Java keeps it in a {@code long}:
 * IDs of 2^63 and above (from 2038-01-19 on with the default epoch 0)
 * are negative there.  Compare IDs with {@link Long#compareUnsigned} and
 * print them with {@link #format}; a recent epoch (genid.json(5)) keeps
 * them positive for 68 years.
 *
 * @param timestamp seconds since the epoch, 0..4294967295
 * @param zone 0..31, region
 * @param dc 0..7, data centre in the zone
 * @param machine 0..7, node in the data centre
 * @param bucket 0..31, token bucket inside the node
 * @param counter 0..65535, sequence inside (bucket, second)
 */
public record GenidId(long timestamp, int zone, int dc, int machine, int bucket, int counter) {

    /** The largest timestamp. */
    public static final long MAX_TIMESTAMP = 0xFFFF_FFFFL;

    /** Checks every field: one out of range is an IllegalArgumentException naming it. */
    public GenidId {
        check("ts", timestamp, MAX_TIMESTAMP);
        check("zone", zone, 31);
        check("dc", dc, 7);
        check("machine", machine, 7);
        check("bucket", bucket, 31);
        check("counter", counter, 65535);
    }

    private static void check(String name, long v, long max) {
        if (v < 0 || v > max) {
            throw new IllegalArgumentException(name + " " + v + " is out of range 0.." + max);
        }
    }

    /** Splits an ID into its fields. */
    public static GenidId decode(long id) {
        return new GenidId(id >>> 32, (int) (id >>> 27) & 31, (int) (id >>> 24) & 7,
                (int) (id >>> 21) & 7, (int) (id >>> 16) & 31, (int) id & 0xFFFF);
    }

    /** Packs the fields into an ID, for instance a bound for SQL {@code WHERE id BETWEEN}. */
    public long encode() {
        return timestamp << 32 | (long) zone << 27 | (long) dc << 24 | (long) machine << 21
                | (long) bucket << 16 | counter;
    }

    /**
     * The fields of an ID of the time t (truncated to the second) under the
     * epoch (Unix seconds); a time outside the 136 years of IDs from the
     * epoch is an IllegalArgumentException.
     */
    public static GenidId of(Instant t, long epoch, int zone, int dc, int machine, int bucket, int counter) {
        long ts = t.getEpochSecond() - epoch;
        if (ts < 0 || ts > MAX_TIMESTAMP) {
            throw new IllegalArgumentException(t + " is outside the IDs of epoch " + epoch + " ("
                    + Instant.ofEpochSecond(epoch) + " to " + Instant.ofEpochSecond(epoch + MAX_TIMESTAMP) + ")");
        }
        return new GenidId(ts, zone, dc, machine, bucket, counter);
    }

    /** The Unix time of the timestamp, in seconds, under the epoch (Unix seconds). */
    public long unixSeconds(long epoch) {
        return epoch + timestamp;
    }

    /** The time of the timestamp under the epoch (Unix seconds). */
    public Instant time(long epoch) {
        return Instant.ofEpochSecond(unixSeconds(epoch));
    }

    /** The ID in decimal, without a sign (as genidctl prints it). */
    public static String format(long id) {
        return Long.toUnsignedString(id);
    }

    /** The ID in hexadecimal after 0x, 16 digits. */
    public static String formatHex(long id) {
        return String.format("0x%016x", id);
    }

    /**
     * Reads an ID in decimal, or in hexadecimal after 0x, as genidctl prints
     * and takes them; spaces around it are allowed.  Anything else is a
     * NumberFormatException that says what is wrong.
     */
    public static long parse(String s) {
        String t = s.strip();
        String digits = t;
        int radix = 10;
        if (t.length() > 1 && t.charAt(0) == '0' && (t.charAt(1) == 'x' || t.charAt(1) == 'X')) {
            digits = t.substring(2);
            radix = 16;
        }
        if (digits.isEmpty()) {
            throw new NumberFormatException("ID \"" + s + "\": no digits");
        }
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            boolean ok = c >= '0' && c <= '9' || radix == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F');
            if (!ok) {
                throw new NumberFormatException("ID \"" + s + "\": unexpected character '" + c + "'");
            }
        }
        try {
            return Long.parseUnsignedLong(digits, radix);
        } catch (NumberFormatException e) {
            throw new NumberFormatException("ID \"" + s + "\" is larger than 18446744073709551615");
        }
    }
}
