/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.h - tell a supervisor (systemd, Type=notify) what the master is
 * doing, with the sd_notify datagram protocol.  Does nothing unless the
 * environment names a NOTIFY_SOCKET.
 */
#ifndef GENID_NOTIFY_H
#define GENID_NOTIFY_H

#include "state.h"

/*
 * Takes NOTIFY_SOCKET from the environment (a path, or "@name" for an
 * abstract socket) and removes it, so that no child sends in the master's
 * name.  0 when there is none or it is usable, -1 (logged) when not.
 */
int notify_init(void);

/*
 * Sends one message of NAME=value lines ("READY=1\nSTATUS=serving"); 0,
 * or -1 when it could not be sent (the first failure is logged).
 */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sends RELOADING=1 with the monotonic time systemd asks to go with it. */
int notify_reloading(void);

/*
 * Sends STATUS= with the connections, the checkpoint's lead and the
 * largest bucket lead read from h, at most every few seconds.
 */
void notify_status(const struct state_header *h);

#endif
