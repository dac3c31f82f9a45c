/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peers.c - ask other genid servers for INFO and who they are, and judge
 * the answers (genid(8)).  peers_ask only reports; the daemon logs the
 * reports (peers_check), genidctl prints them (cli/check.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "clock.h"
#include "addr.h"
#include "genid.h"
#include "log.h"
#include "peers.h"

/* The longest INFO reply (its length is 2 bytes) and a NUL. */
#define INFO_LEN 65536

/* What peers_check keeps between the reports of one check. */
struct daemon_check {
	unsigned conflicts;
	char *err;
	size_t errlen;
	int64_t offsets[CFG_MAX_PEERS];
	unsigned noffsets;
	struct peers_clock *clock;
};

static int identity(const char *addr, int timeout_ms, struct peer_identity *id,
    int *has_clock, int64_t *offset_ms, char *err, size_t errlen);
static int64_t real_ms(void);
static void log_report(const struct peers_report *r, void *arg);

int
peers_exit_code(int errnum)
{
	switch (errnum) {
	case ENXIO:
		/* libgenid's errno for a host name that does not resolve. */
		return EX_NOHOST;
	case EPROTO:
		return EX_PROTOCOL;
	case ENOMEM:
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
		return EX_OSERR;
	default:
		/* Refused, timed out, closed, reset, unreachable ... */
		return EX_UNAVAILABLE;
	}
}

int
peers_info(struct genid_client *c, json_t **info, char **text, char *err,
    size_t errlen)
{
	json_error_t je;
	char *buf;
	int len, errnum;

	*info = NULL;
	if ((buf = malloc(INFO_LEN)) == NULL) {
		snprintf(err, errlen, "malloc: %s", strerror(errno));
		return EX_OSERR;
	}
	if ((len = genid_info(c, buf, INFO_LEN)) == -1) {
		errnum = errno;
		snprintf(err, errlen, "%s", genid_strerror(c));
		free(buf);
		return peers_exit_code(errnum);
	}
	*info = json_loadb(buf, (size_t)len, 0, &je);
	if (*info == NULL || !json_is_object(*info)) {
		snprintf(err, errlen, "INFO from %s is not a JSON object: %s",
		    genid_server(c), *info == NULL ? je.text : "another type");
		json_decref(*info);
		*info = NULL;
		free(buf);
		return EX_PROTOCOL;
	}
	if (text != NULL)
		*text = buf;
	else
		free(buf);
	return 0;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_real(&ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Asks the genid at addr ("host:port") for INFO, waiting at most
 * timeout_ms to connect and for the reply, and reads the node's identity
 * into id and its clock against ours into offset_ms.  0, or the
 * sysexits.h code that fits with the reason in err.
 */
static int
identity(const char *addr, int timeout_ms, struct peer_identity *id,
    int *has_clock, int64_t *offset_ms, char *err, size_t errlen)
{
	struct genid_options opt;
	struct genid_client *c;
	const char *instance = NULL;
	json_int_t zone, dc, machine, now = -1;
	int64_t sent, mono;
	json_t *info;
	int code;

	memset(&opt, 0, sizeof(opt));
	opt.connect_timeout_ms = timeout_ms;
	opt.io_timeout_ms = timeout_ms;
	if ((c = genid_open(&addr, 1, &opt)) == NULL) {
		snprintf(
		    err, errlen, "genid_open %s: %s", addr, strerror(errno));
		return EX_OSERR;
	}
	sent = real_ms();
	mono = clock_mono_ms();
	code = peers_info(c, &info, NULL, err, errlen);
	mono = clock_mono_ms() - mono;
	genid_close(c);
	if (code != 0)
		return code;
	if (json_unpack(info, "{s:I, s:I, s:I, s?I, s?s}", "zone", &zone, "dc",
		&dc, "machine", &machine, "now", &now, "instance",
		&instance) == -1) {
		snprintf(err, errlen, "INFO from %s lacks zone, dc or machine",
		    addr);
		code = EX_PROTOCOL;
	} else {
		/*
		 * The peer read its clock somewhere in the round trip; a
		 * peer that does not say its time (not a genid) has none.
		 */
		*has_clock = now >= 0;
		*offset_ms = sent + mono / 2 - ((int64_t)now * 1000 + 500);
		id->zone = zone;
		id->dc = dc;
		id->machine = machine;
		id->instance =
		    instance != NULL ? strtoull(instance, NULL, 16) : 0;
	}
	json_decref(info);
	return code;
}

unsigned
peers_ask(const struct cfg *c, const struct peer_identity *self, int timeout_ms,
    void (*report)(const struct peers_report *, void *), void *arg)
{
	struct peer_identity peer;
	struct peers_report r;
	char why[512], name[CFG_HOST_LEN + 16];
	unsigned i, conflicts = 0;

	for (i = 0; i < c->npeers; i++) {
		memset(&r, 0, sizeof(r));
		r.name = addr_format(
		    c->peers[i].host, c->peers[i].port, name, sizeof(name));
		r.self = self;
		r.code = identity(name, timeout_ms, &peer, &r.has_clock,
		    &r.offset_ms, why, sizeof(why));
		if (r.code != 0) {
			r.why = why;
		} else {
			r.peer = &peer;
			r.verdict = peer_judge(self, &peer);
			if (r.verdict == PEER_CONFLICT)
				conflicts++;
		}
		report(&r, arg);
	}
	return conflicts;
}

static void
log_report(const struct peers_report *r, void *arg)
{
	struct daemon_check *d = arg;
	const struct peer_identity *self = r->self;

	if (r->code != 0) {
		log_warnx("peer %s: %s (it may be down; checked again in a"
			  " minute)",
		    r->name, r->why);
		return;
	}
	if (r->verdict != PEER_SELF && r->has_clock && d->clock != NULL) {
		size_t used = strlen(d->clock->peers);

		d->offsets[d->noffsets++] = r->offset_ms;
		snprintf(d->clock->peers + used, sizeof(d->clock->peers) - used,
		    "%s%s %+.1f s", used > 0 ? ", " : "", r->name,
		    -r->offset_ms / 1000.0);
	}
	switch (r->verdict) {
	case PEER_CONFLICT:
		if (d->conflicts++ == 0)
			snprintf(d->err, d->errlen,
			    "peer %s has this node's zone %lld dc %lld machine"
			    " %lld: both would hand out the same IDs; give one"
			    " of them another machine_id",
			    r->name, self->zone, self->dc, self->machine);
		log_warnx("CONFLICT: peer %s has this node's zone %lld dc %lld"
			  " machine %lld and hands out the same IDs",
		    r->name, self->zone, self->dc, self->machine);
		break;
	case PEER_OTHER_DC:
		log_warnx("peer %s is in zone %lld dc %lld, this node in zone"
			  " %lld dc %lld: \"peers\" should list the nodes of"
			  " this data centre",
		    r->name, r->peer->zone, r->peer->dc, self->zone, self->dc);
		break;
	case PEER_SELF:
		log_debug("peer %s is this node", r->name);
		break;
	case PEER_OK:
		log_debug("peer %s: machine %lld", r->name, r->peer->machine);
		break;
	}
}

unsigned
peers_check(const struct cfg *c, const struct peer_identity *self, char *err,
    size_t errlen, struct peers_clock *clock)
{
	struct daemon_check d;
	unsigned n;

	memset(&d, 0, sizeof(d));
	d.err = err;
	d.errlen = errlen;
	d.clock = clock;
	if (clock != NULL)
		memset(clock, 0, sizeof(*clock));
	n = peers_ask(c, self, PEERS_TIMEOUT_MS, log_report, &d);
	if (clock != NULL && d.noffsets > 0) {
		clock->answered = d.noffsets;
		clock->skew_ms = peer_median_ms(d.offsets, d.noffsets);
	}
	return n;
}

int
peers_skewed(const struct cfg *c, const struct peers_clock *clock)
{
	int64_t limit = (int64_t)c->max_peer_skew_s * 1000;

	return c->max_peer_skew_s > 0 && clock->answered > 0 &&
	    (clock->skew_ms > limit || clock->skew_ms < -limit);
}

void
peers_describe_skew(
    const struct cfg *c, const struct peers_clock *clock, char *buf, size_t len)
{
	double s = clock->skew_ms / 1000.0;

	snprintf(buf, len,
	    "this clock is %.1f s %s the median of %u peer%s (max_peer_skew_s"
	    " %u; each peer's clock against this one: %s)",
	    s < 0 ? -s : s, s < 0 ? "behind" : "ahead of", clock->answered,
	    clock->answered == 1 ? "" : "s", c->max_peer_skew_s, clock->peers);
}
