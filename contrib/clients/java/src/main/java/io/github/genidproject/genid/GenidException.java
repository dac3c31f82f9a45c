// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import java.io.IOException;
import java.util.List;

/**
 * No genid server answered a request.  The message names each address
 * tried and why it failed, in turn; {@link #failures()} holds those
 * failures and {@link #getCause()} the last one, of a standard type:
 * {@link java.net.ConnectException} (refused), {@link
 * java.net.SocketTimeoutException} (no connection or no reply in time),
 * {@link java.io.EOFException} (the server closed or reset the
 * connection; genid does that to a client its allow list or its
 * connection limit keeps out), {@link java.net.ProtocolException} (the
 * server broke the protocol), {@link java.net.UnknownHostException}, or
 * another IOException.
 *
 * <p>A bulk request that failed after some IDs came hands them over in
 * {@link #ids()}: they are valid and were handed out once.
 */
public class GenidException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient List<IOException> failures;
    private final long[] ids;

    GenidException(List<IOException> failures, long[] ids) {
        super(message(failures), failures.isEmpty() ? null : failures.get(failures.size() - 1));
        this.failures = List.copyOf(failures);
        this.ids = ids;
    }

    private static String message(List<IOException> failures) {
        StringBuilder b = new StringBuilder("no genid server answered: ");
        for (int i = 0; i < failures.size(); i++) {
            if (i > 0) {
                b.append("; ");
            }
            b.append(failures.get(i).getMessage());
        }
        return b.toString();
    }

    /** Each failure of the request in turn, oldest first. */
    public List<IOException> failures() {
        return failures;
    }

    /** The IDs that came before the request failed (bulk only; else empty). */
    public long[] ids() {
        return ids.clone();
    }
}
