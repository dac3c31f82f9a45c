/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check.c - the check verb: validate a configuration the way genid does,
 * and optionally ask its peers who they are (genid(8) from outside).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>

#include "../src/config.h"
#include "genidctl.h"
#include "peer.h"
#include "peers.h"
#include "statefile.h"

static void self_identity(const struct cfg *c, struct peer_identity *self);
static int check_peers(const struct cfg *c, int timeout_ms);
static void print_report(const struct peers_report *r, void *arg);

int
ctl_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"peers", no_argument, NULL, 'P'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = CTL_DEFAULT_CONFIG;
	struct cfg *c;
	uint64_t timeout = CTL_TIMEOUT_MS;
	int ch, peers = 0, rc;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "c:PT:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'P':
			peers = 1;
			break;
		case 'T':
			if (ctl_parse_timeout(optarg, &timeout) == -1)
				return EX_USAGE;
			break;
		case 'h':
			return ctl_usage("check", 1);
		default:
			return ctl_usage("check", 0);
		}
	}
	if (optind != argc)
		return ctl_usage("check", 0);
	if ((c = ctl_config(path, &rc)) == NULL)
		return rc;
	/* A peer check that fails makes the configuration not OK. */
	rc = peers ? check_peers(c, (int)timeout) : 0;
	if (rc == 0)
		printf("%s: configuration OK\n", path);
	else if (rc == EX_CONFIG)
		warnx("%s: not OK: a peer hands out the IDs of this node: give"
		      " one of the two a machine_id no other node in zone %u"
		      " dc %u has",
		    path, c->zone, c->dc);
	else
		warnx("%s: not OK: a peer did not answer as genid: list the"
		      " genid listen address of each node in \"peers\" (not"
		      " its metrics_listen)",
		    path);
	free(c);
	return ctl_finish(rc);
}

/*
 * This node's identity for the peer check, with the instance of the genid
 * running on the configuration's state file when there is one, so that a
 * node listed among its own peers is recognised.
 */
static void
self_identity(const struct cfg *c, struct peer_identity *self)
{
	struct statefile sf;
	char why[512];

	self->zone = c->zone;
	self->dc = c->dc;
	self->machine = c->machine;
	self->instance = 0;
	if (statefile_open_ro(&sf, c->state_file, why, sizeof(why)) == 0) {
		if (statefile_in_use(&sf) == 1)
			self->instance = state_load(&sf.h->instance);
		statefile_close(&sf);
	}
}

/*
 * The exit code: EX_CONFIG for a conflict, EX_PROTOCOL for a peer that
 * answers no genid INFO (of several, the last peer's); an unreachable
 * peer or one in another data centre is only a warning (it may be down
 * for maintenance, or listed by mistake).
 */
static int
check_peers(const struct cfg *c, int timeout_ms)
{
	struct peer_identity self;
	int code = 0;

	self_identity(c, &self);
	if (c->npeers == 0)
		printf("no peers configured\n");
	peers_ask(c, &self, timeout_ms, print_report, &code);
	return code;
}

static void
print_report(const struct peers_report *r, void *arg)
{
	int *code = arg;

	if (r->code == EX_PROTOCOL) {
		warnx("peer %s: %s", r->name, r->why);
		*code = EX_PROTOCOL;
		return;
	}
	if (r->code != 0) {
		warnx("warning: peer %s: %s", r->name, r->why);
		return;
	}
	switch (r->verdict) {
	case PEER_SELF:
		printf("peer %s: this node itself\n", r->name);
		break;
	case PEER_CONFLICT:
		warnx("peer %s: conflict: it has the same zone %lld dc %lld"
		      " machine %lld and hands out the same IDs",
		    r->name, r->self->zone, r->self->dc, r->self->machine);
		*code = EX_CONFIG;
		break;
	case PEER_OTHER_DC:
		warnx("warning: peer %s is in zone %lld dc %lld, this node in"
		      " zone %lld dc %lld: peers should share a data centre",
		    r->name, r->peer->zone, r->peer->dc, r->self->zone,
		    r->self->dc);
		break;
	case PEER_OK:
		printf(
		    "peer %s: OK, machine %lld\n", r->name, r->peer->machine);
		break;
	}
}
