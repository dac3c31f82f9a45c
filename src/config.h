/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.h - the genid.json configuration (genid.json(5)).
 */
#ifndef GENID_CONFIG_H
#define GENID_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cidr.h"
#include "log.h"
#include "slew.h"

#define CFG_MAX_LISTEN 16
#define CFG_MAX_ALLOW 64
#define CFG_MAX_PEERS 16
/* An error shows at most this much of a key (escaped as JSON has it). */
#define CFG_KEY_SHOWN 256
#define CFG_HOST_LEN 256

#define CFG_DEFAULT_PORT 3778
#define CFG_MAX_ETCD 8
#define CFG_ETCD_PORT 2379
/* The longest coordination.prefix, in bytes. */
#define CFG_PREFIX_MAX 200
/*
 * The largest max_slew_s: ten years.  It only says when a slew is far
 * (genid.json(5)); every step back is slewed.
 */
#define CFG_MAX_SLEW_S (10u * 366 * 86400)

struct cfg_addr {
	char host[CFG_HOST_LEN]; /* numeric or name; "" = any address */
	unsigned port;		 /* 0 = pick a free port (tests) */
};

struct cfg {
	char path[PATH_MAX]; /* the file it was read from */
	unsigned port;	     /* for listen addresses that name none */
	struct cfg_addr listen[CFG_MAX_LISTEN];
	unsigned nlisten;
	unsigned zone;
	unsigned dc;
	unsigned machine;
	int machine_set;  /* machine_id is in the file (a number or "auto") */
	int machine_auto; /* "auto": machine is only the default */
	unsigned workers;
	int64_t epoch;
	int epoch_set;		   /* epoch is in the file (0 included) */
	char state_file[PATH_MAX]; /* made absolute at load */
	char pid_file[PATH_MAX];   /* "" = none */
	char log_file[PATH_MAX];   /* "" = stderr, "syslog" = syslog */
	enum log_level log_level;
	char user[64];	/* "" = keep the starting user */
	char group[64]; /* "" = the user's primary group */
	unsigned max_connections;
	unsigned idle_timeout_s; /* 0 = never */
	unsigned max_ahead_s;
	unsigned max_peer_skew_s; /* 0 = the peers' clocks are not checked */
	unsigned max_slew_s;	  /* a slew past it is far (logged) */
	double clock_slew;	  /* 0 < clock_slew < 1 */
	unsigned checkpoint_interval_ms;
	unsigned worker_timeout_ms; /* 0 = never */
	struct cidr allow[CFG_MAX_ALLOW];
	unsigned nallow; /* 0 = everybody */
	struct cfg_addr peers[CFG_MAX_PEERS];
	unsigned npeers;
	struct cfg_addr metrics_listen;
	int has_metrics;
	struct cfg_addr etcd[CFG_MAX_ETCD]; /* coordination.etcd */
	unsigned netcd;			    /* 0 = no coordination */
	char etcd_prefix[256];		    /* coordination.prefix */
	unsigned lease_ttl_s;		    /* coordination.lease_ttl_s */
};

/* Fills c with the built-in defaults. */
void cfg_defaults(struct cfg *c);

/*
 * Reads and validates the JSON file path into c (defaults first).  Besides
 * the rules of each key, "machine_id": "auto" needs coordination.etcd, and
 * a listen address beyond loopback needs machine_id in the file.  0, or -1
 * with "file:line:col: "key": reason" in err ("parent.key" for a key of
 * the coordination object).
 */
int cfg_load(
    struct cfg *c, const char *path, int64_t now, char *err, size_t errlen);

/* The slew rules of the configuration (slew.h). */
void cfg_slew(const struct cfg *c, struct slew_conf *sc);

/* Whether some listen address of c is beyond loopback: 1 or 0. */
int cfg_beyond_loopback(const struct cfg *c);

/* Whether a peer address matches the allow list (always when empty). */
int cfg_allowed(const struct cfg *c, const struct sockaddr *sa);

#endif
