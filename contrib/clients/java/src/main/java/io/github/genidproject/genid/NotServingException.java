// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import java.io.IOException;

/**
 * A server answered, but its INFO says it cannot issue IDs now: its
 * "state" is not "serving" (clock-behind, checkpoint-stuck, stopping,
 * peer-conflict).  The client asks INFO once per new connection, before
 * its first request for IDs, and treats such a server as down: this is
 * the cause of a {@link GenidException} when no other server served.
 */
public class NotServingException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String state;

    NotServingException(String message, String state) {
        super(message);
        this.state = state;
    }

    /** The state the server reported. */
    public String state() {
        return state;
    }
}
