/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c - read and validate genid.json (genid.json(5)): the table of
 * its keys, their setters, the rules between them, and the load.  Every
 * error names file, line, column and key (cfgfile.h), those of the nested
 * "coordination" object too.
 */
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "cidr.h"
#include "cfgfile.h"
#include "config.h"
#include "id.h"
#include "jsonpos.h"
#include "suggest.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef RUNSTATEDIR
#define RUNSTATEDIR "/run"
#endif

#define NO_PORT UINT_MAX

/*
 * Where a node listens when the file names no "listen": loopback, both
 * families, as the clients' examples list them (genid.json(5)).  A host
 * without IPv6 skips ::1 at the start (sock.h).
 */
static const char *const default_listen[] = {"127.0.0.1", "::1"};

/* An epoch above this (the year 5138 in seconds) was given in ms. */
#define EPOCH_MS_LIKELY 100000000000LL

struct key;

/*
 * Reads the value v of key k into c.  0, or -1 with the reason in err,
 * which names the place w.
 */
typedef int key_setter(struct cfg *c, json_t *v, const struct key *k,
    struct cfg_where *w, char *err, size_t errlen);

struct key {
	const char *name;
	key_setter *set;
	size_t off;
	long long min;
	long long max;
};

static key_setter set_uint, set_rate, set_epoch, set_path, set_log_file,
    set_log_level, set_user, set_group, set_listen, set_peers, set_allow,
    set_metrics, set_machine, set_coordination, set_etcd, set_prefix;

static const struct key keys[] = {
    {"port", set_uint, offsetof(struct cfg, port), 0, 65535},
    {"listen", set_listen, 0, 1, CFG_MAX_LISTEN},
    {"zone_id", set_uint, offsetof(struct cfg, zone), 0, ID_ZONE_MAX},
    {"dc_id", set_uint, offsetof(struct cfg, dc), 0, ID_DC_MAX},
    {"machine_id", set_machine, offsetof(struct cfg, machine), 0,
	ID_MACHINE_MAX},
    {"workers", set_uint, offsetof(struct cfg, workers), 1, 32},
    {"epoch", set_epoch, 0, 0, 0},
    {"state_file", set_path, offsetof(struct cfg, state_file), 1, 0},
    {"pid_file", set_path, offsetof(struct cfg, pid_file), 0, 0},
    {"log_file", set_log_file, 0, 0, 0},
    {"log_level", set_log_level, 0, 0, 0},
    {"user", set_user, 0, 0, 0},
    {"group", set_group, 0, 0, 0},
    {"max_connections", set_uint, offsetof(struct cfg, max_connections), 1,
	1000000},
    {"idle_timeout_s", set_uint, offsetof(struct cfg, idle_timeout_s), 0,
	86400},
    {"max_ahead_s", set_uint, offsetof(struct cfg, max_ahead_s), 0, 3600},
    {"max_peer_skew_s", set_uint, offsetof(struct cfg, max_peer_skew_s), 0,
	86400},
    {"max_slew_s", set_uint, offsetof(struct cfg, max_slew_s), 0,
	CFG_MAX_SLEW_S},
    {"clock_slew", set_rate, offsetof(struct cfg, clock_slew), 0, 1},
    {"checkpoint_interval_ms", set_uint,
	offsetof(struct cfg, checkpoint_interval_ms), 10, 60000},
    {"worker_timeout_ms", set_uint, offsetof(struct cfg, worker_timeout_ms), 0,
	600000},
    {"allow", set_allow, 0, 0, CFG_MAX_ALLOW},
    {"peers", set_peers, 0, 0, CFG_MAX_PEERS},
    {"metrics_listen", set_metrics, 0, 0, 0},
    {"coordination", set_coordination, 0, 0, 0},
};

/* The keys of the "coordination" object. */
static const struct key coord_keys[] = {
    {"etcd", set_etcd, 0, 1, CFG_MAX_ETCD},
    {"prefix", set_prefix, 0, 0, CFG_PREFIX_MAX},
    {"lease_ttl_s", set_uint, offsetof(struct cfg, lease_ttl_s), 3, 600},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
#define NCOORD_KEYS (sizeof(coord_keys) / sizeof(coord_keys[0]))

void
cfg_slew(const struct cfg *c, struct slew_conf *sc)
{
	long ppm = (long)(c->clock_slew * SLEW_PPM + 0.5);

	sc->max_ahead = c->max_ahead_s;
	sc->max_slew = c->max_slew_s;
	sc->rate_ppm = ppm < 1	       ? 1
	    : ppm > (long)SLEW_PPM - 1 ? SLEW_PPM - 1
				       : (uint32_t)ppm;
}

void
cfg_defaults(struct cfg *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned i;

	memset(c, 0, sizeof(*c));
	c->port = CFG_DEFAULT_PORT;
	c->nlisten = sizeof(default_listen) / sizeof(default_listen[0]);
	for (i = 0; i < c->nlisten; i++) {
		snprintf(c->listen[i].host, sizeof(c->listen[i].host), "%s",
		    default_listen[i]);
		c->listen[i].port = CFG_DEFAULT_PORT;
	}
	c->workers = n < 1 ? 1 : n > 32 ? 32 : (unsigned)n;
	snprintf(c->state_file, sizeof(c->state_file), "%s",
	    LOCALSTATEDIR "/lib/genid/genid.state");
	snprintf(
	    c->pid_file, sizeof(c->pid_file), "%s", RUNSTATEDIR "/genid.pid");
	c->log_level = LOG_LEVEL_INFO;
	c->max_connections = 10000;
	c->max_ahead_s = 5;
	c->max_peer_skew_s = 5;
	c->max_slew_s = 86400;
	c->clock_slew = 0.25;
	c->checkpoint_interval_ms = 1000;
	c->worker_timeout_ms = 3000;
	snprintf(c->etcd_prefix, sizeof(c->etcd_prefix), "/genid");
	c->lease_ttl_s = 10;
}

static int
set_uint(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want an integer %lld..%lld", cfgfile_type(v),
		    k->min, k->max);
	n = json_integer_value(v);
	if (n < k->min || n > k->max)
		return cfgfile_fail(w, err, errlen,
		    "%lld is out of range %lld..%lld", (long long)n, k->min,
		    k->max);
	*(unsigned *)(void *)((char *)c + k->off) = (unsigned)n;
	return 0;
}

/* A number k->min..k->max, or "auto": an id leased from etcd at start. */
static int
set_machine(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	char shown[64];

	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "auto") != 0) {
			jsonpos_escape(
			    json_string_value(v), shown, sizeof(shown));
			return cfgfile_fail(w, err, errlen,
			    "\"%s\" is neither a number %lld..%lld nor"
			    " \"auto\"",
			    shown, k->min, k->max);
		}
		c->machine_auto = 1;
		c->machine_set = 1;
		return 0;
	}
	if (!json_is_integer(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want an integer %lld..%lld or \"auto\"",
		    cfgfile_type(v), k->min, k->max);
	if (set_uint(c, v, k, w, err, errlen) == -1)
		return -1;
	c->machine_auto = 0;
	c->machine_set = 1;
	return 0;
}

/* A number strictly between k->min and k->max, kept to six decimals. */
static int
set_rate(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	double x;

	if (!json_is_number(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want a number between %lld and %lld (exclusive)",
		    cfgfile_type(v), k->min, k->max);
	x = json_number_value(v);
	if (!(x >= k->min + 1e-6 && x <= k->max - 1e-6))
		return cfgfile_fail(w, err, errlen,
		    "%g is out of range: want more than %lld and less than"
		    " %lld, e.g. 0.25",
		    x, k->min, k->max);
	*(double *)(void *)((char *)c + k->off) = x;
	return 0;
}

static int
set_epoch(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want Unix seconds (an integer)", cfgfile_type(v));
	n = json_integer_value(v);
	if (n > EPOCH_MS_LIKELY && n / 1000 <= w->now)
		return cfgfile_fail(w, err, errlen,
		    "%lld looks like milliseconds: the epoch is in Unix"
		    " seconds (%lld?)",
		    (long long)n, (long long)(n / 1000));
	if (n < 0 || n > w->now)
		return cfgfile_fail(w, err, errlen,
		    "%lld is out of range 0..%lld (now): an epoch may not lie"
		    " in the future",
		    (long long)n, (long long)w->now);
	c->epoch = n;
	c->epoch_set = 1;
	return 0;
}

/* Makes a relative path absolute against the current directory. */
static int
absolute(const char *s, char *out, size_t len, struct cfg_where *w, char *err,
    size_t errlen)
{
	char cwd[PATH_MAX];
	int n;

	if (s[0] == '/' || s[0] == '\0')
		n = snprintf(out, len, "%s", s);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return cfgfile_fail(
		    w, err, errlen, "getcwd: %s", strerror(errno));
	else
		n = snprintf(out, len, "%s/%s", cwd, s);
	if (n < 0 || (size_t)n >= len)
		return cfgfile_fail(w, err, errlen, "path too long");
	return 0;
}

static int
set_path(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (k->min > 0 && s[0] == '\0')
		return cfgfile_fail(w, err, errlen, "may not be empty");
	return absolute(s, (char *)c + k->off, PATH_MAX, w, err, errlen);
}

static int
set_log_file(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (strcmp(s, "syslog") == 0) {
		snprintf(c->log_file, sizeof(c->log_file), "syslog");
		return 0;
	}
	return absolute(s, c->log_file, sizeof(c->log_file), w, err, errlen);
}

static int
set_log_level(struct cfg *c, json_t *v, const struct key *k,
    struct cfg_where *w, char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (log_level_parse(s, &c->log_level) == 0)
		return 0;
	return cfgfile_fail(w, err, errlen,
	    "\"%s\" is not a level: error, warning, notice, info or debug", s);
}

static int
set_user(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (s[0] != '\0' && getpwnam(s) == NULL)
		return cfgfile_fail(w, err, errlen, "no such user \"%s\"", s);
	if (strlen(s) >= sizeof(c->user))
		return cfgfile_fail(w, err, errlen, "name too long");
	snprintf(c->user, sizeof(c->user), "%s", s);
	return 0;
}

static int
set_group(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (s[0] != '\0' && getgrnam(s) == NULL)
		return cfgfile_fail(w, err, errlen, "no such group \"%s\"", s);
	if (strlen(s) >= sizeof(c->group))
		return cfgfile_fail(w, err, errlen, "name too long");
	snprintf(c->group, sizeof(c->group), "%s", s);
	return 0;
}

/* Reads an address; without a port it keeps NO_PORT, filled in later. */
static int
parse_addr(const char *s, struct cfg_addr *a, struct cfg_where *w, char *err,
    size_t errlen)
{
	char why[256], shown[CFG_HOST_LEN];
	int has_port;

	if (addr_parse(s, a->host, sizeof(a->host), &a->port, &has_port, why,
		sizeof(why)) == -1) {
		/* As the file has it: quotes and line breaks escaped. */
		jsonpos_escape(s, shown, sizeof(shown));
		return cfgfile_fail(w, err, errlen, "\"%s\": %s", shown, why);
	}
	if (!has_port)
		a->port = NO_PORT;
	return 0;
}

static int
listen_item(struct cfg *c, const char *s, unsigned i, struct cfg_where *w,
    char *err, size_t errlen)
{
	c->nlisten = i + 1;
	return parse_addr(s, &c->listen[i], w, err, errlen);
}

static int
set_listen(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	return cfgfile_strings(
	    v, k->min, k->max, w, err, errlen, listen_item, c);
}

static int
peer_item(struct cfg *c, const char *s, unsigned i, struct cfg_where *w,
    char *err, size_t errlen)
{
	c->npeers = i + 1;
	if (parse_addr(s, &c->peers[i], w, err, errlen) == -1)
		return -1;
	if (c->peers[i].host[0] == '\0')
		return cfgfile_fail(
		    w, err, errlen, "\"%s\": a peer needs a host", s);
	if (c->peers[i].port == NO_PORT)
		c->peers[i].port = CFG_DEFAULT_PORT;
	return 0;
}

static int
set_peers(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	return cfgfile_strings(v, k->min, k->max, w, err, errlen, peer_item, c);
}

static int
allow_item(struct cfg *c, const char *s, unsigned i, struct cfg_where *w,
    char *err, size_t errlen)
{
	char why[512];

	c->nallow = i + 1;
	if (cidr_parse(s, &c->allow[i], why, sizeof(why)) == -1)
		return cfgfile_fail(w, err, errlen, "%s", why);
	return 0;
}

static int
set_allow(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	return cfgfile_strings(
	    v, k->min, k->max, w, err, errlen, allow_item, c);
}

static int
set_metrics(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	if (parse_addr(s, &c->metrics_listen, w, err, errlen) == -1)
		return -1;
	if (c->metrics_listen.port == NO_PORT)
		return cfgfile_fail(
		    w, err, errlen, "\"%s\": want host:port", s);
	c->has_metrics = 1;
	return 0;
}

static int
etcd_item(struct cfg *c, const char *s, unsigned i, struct cfg_where *w,
    char *err, size_t errlen)
{
	struct cfg_addr *a = &c->etcd[i];
	char shown[CFG_HOST_LEN];

	c->netcd = i + 1;
	jsonpos_escape(s, shown, sizeof(shown));
	/* genid speaks plain HTTP to etcd's gateway: it takes no URL. */
	if (strstr(s, "://") != NULL)
		return cfgfile_fail(w, err, errlen,
		    "\"%s\": want host:port, without a scheme, like"
		    " \"127.0.0.1:%u\"",
		    shown, CFG_ETCD_PORT);
	if (parse_addr(s, a, w, err, errlen) == -1)
		return -1;
	if (a->host[0] == '\0')
		return cfgfile_fail(w, err, errlen,
		    "\"%s\": an etcd endpoint needs a host", shown);
	if (a->port == NO_PORT)
		a->port = CFG_ETCD_PORT;
	else if (a->port == 0)
		return cfgfile_fail(w, err, errlen,
		    "\"%s\": port 0: give etcd's client port (%u unless"
		    " changed)",
		    shown, CFG_ETCD_PORT);
	return 0;
}

static int
set_etcd(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	return cfgfile_strings(v, k->min, k->max, w, err, errlen, etcd_item, c);
}

/* The keys of one fleet are PREFIX/machines/... and PREFIX/checkpoints/... */
static int
set_prefix(struct cfg *c, json_t *v, const struct key *k, struct cfg_where *w,
    char *err, size_t errlen)
{
	const char *s = NULL;
	char shown[64];
	size_t len;

	if (cfgfile_string(v, w, err, errlen, &s) == -1)
		return -1;
	len = strlen(s);
	jsonpos_escape(s, shown, sizeof(shown));
	if (len > (size_t)k->max)
		return cfgfile_fail(w, err, errlen,
		    "is %zu bytes long, at most %lld", len, k->max);
	if (s[0] != '/')
		return cfgfile_fail(w, err, errlen,
		    "\"%s\" does not start with \"/\": want a path of etcd"
		    " keys like \"/genid\"",
		    shown);
	if (s[len - 1] == '/')
		return cfgfile_fail(w, err, errlen,
		    "\"%s\" ends with \"/\": want a path of etcd keys like"
		    " \"/genid\", without the last \"/\"",
		    shown);
	snprintf(c->etcd_prefix, sizeof(c->etcd_prefix), "%s", s);
	return 0;
}

/* The index of name in table[0..n-1], or -1. */
static int
key_index(const struct key *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, table[i].name) == 0)
			return (int)i;
	return -1;
}

/*
 * The error of an unknown key of table, with the key it likely meant, or
 * where it belongs when it is a key of the other level (a top-level key
 * inside "coordination", or the other way round).
 */
static int
unknown_key(const char *name, const struct key *table, size_t n,
    struct cfg_where *w, char *err, size_t errlen)
{
	const char *names[NKEYS > NCOORD_KEYS ? NKEYS : NCOORD_KEYS];
	size_t i;
	int pick;

	if (w->parent == NULL && key_index(coord_keys, NCOORD_KEYS, name) >= 0)
		return cfgfile_fail(w, err, errlen,
		    "unknown key here; it belongs inside \"coordination\""
		    " (see genid.json(5))");
	if (w->parent != NULL && key_index(keys, NKEYS, name) >= 0)
		return cfgfile_fail(w, err, errlen,
		    "unknown key here; it belongs at the top level, outside"
		    " \"%s\" (see genid.json(5))",
		    w->parent);
	for (i = 0; i < n; i++)
		names[i] = table[i].name;
	pick = suggest_closest(name, names, n);
	if (pick >= 0)
		return cfgfile_fail(w, err, errlen,
		    "unknown key; did you mean \"%s\"? (see genid.json(5)"
		    " for the keys)",
		    names[pick]);
	return cfgfile_fail(
	    w, err, errlen, "unknown key (see genid.json(5) for the keys)");
}

/* Sets every key of the object obj from table (its keys are w->parent's). */
static int
apply_keys(struct cfg *c, json_t *obj, const struct key *table, size_t n,
    struct cfg_where *w, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	int i;

	json_object_foreach(obj, name, v)
	{
		w->key = name;
		w->index = -1;
		if ((i = key_index(table, n, name)) < 0)
			return unknown_key(name, table, n, w, err, errlen);
		if (table[i].set(c, v, &table[i], w, err, errlen) == -1)
			return -1;
	}
	return 0;
}

static int
set_coordination(struct cfg *c, json_t *v, const struct key *k,
    struct cfg_where *w, char *err, size_t errlen)
{
	int rc;

	if (!json_is_object(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want an object like {\"etcd\": [\"127.0.0.1:%u\"]}",
		    cfgfile_type(v), CFG_ETCD_PORT);
	w->parent = k->name;
	rc = apply_keys(c, v, coord_keys, NCOORD_KEYS, w, err, errlen);
	w->parent = NULL;
	w->key = k->name;
	w->index = -1;
	if (rc == -1)
		return -1;
	if (c->netcd == 0)
		return cfgfile_fail(w, err, errlen,
		    "has no \"etcd\": list the etcd endpoints, like"
		    " {\"etcd\": [\"127.0.0.1:%u\"]}",
		    CFG_ETCD_PORT);
	return 0;
}

/* The first listen address of c beyond loopback, or -1. */
static int
first_beyond(const struct cfg *c)
{
	unsigned i;

	for (i = 0; i < c->nlisten; i++)
		if (!addr_is_loopback(c->listen[i].host))
			return (int)i;
	return -1;
}

int
cfg_beyond_loopback(const struct cfg *c)
{
	return first_beyond(c) >= 0;
}

/* The rules between keys, checked once every key is read. */
static int
check_identity(struct cfg *c, struct cfg_where *w, char *err, size_t errlen)
{
	char addr[CFG_HOST_LEN + 16];
	int i;

	w->parent = NULL;
	w->index = -1;
	if (c->machine_auto && c->netcd == 0) {
		w->key = "machine_id";
		return cfgfile_fail(w, err, errlen,
		    "\"auto\" leases the machine id from etcd, and there is no"
		    " \"coordination\": {\"etcd\": [...]}: list the etcd"
		    " endpoints there, or set a number 0..%u unique in the dc",
		    ID_MACHINE_MAX);
	}
	if (c->machine_set || (i = first_beyond(c)) < 0)
		return 0;
	if (c->listen[i].host[0] == '\0')
		snprintf(addr, sizeof(addr), "*:%u (any address)",
		    c->listen[i].port);
	else
		addr_format(
		    c->listen[i].host, c->listen[i].port, addr, sizeof(addr));
	w->key = "listen";
	w->index = i;
	return cfgfile_fail(w, err, errlen,
	    "%s is beyond loopback and \"machine_id\" is not set: two nodes"
	    " with the same machine_id hand out the same IDs; choose this"
	    " node's identity in %s: \"machine_id\" a number 0..%u unique in"
	    " dc %u of zone %u (\"dc_id\", \"zone_id\"), or \"auto\" with"
	    " coordination.etcd, and the fleet's \"epoch\" (genid.json(5))",
	    addr, c->path, ID_MACHINE_MAX, c->dc, c->zone);
}

static int
apply(
    struct cfg *c, json_t *root, struct cfg_where *w, char *err, size_t errlen)
{
	unsigned i;

	if (apply_keys(c, root, keys, NKEYS, w, err, errlen) == -1)
		return -1;
	/* "port" is the port of every listen address that names none. */
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].port == NO_PORT ||
		    json_object_get(root, "listen") == NULL)
			c->listen[i].port = c->port;
	return check_identity(c, w, err, errlen);
}

int
cfg_load(struct cfg *c, const char *path, int64_t now, char *err, size_t errlen)
{
	struct cfg_where w = {path, NULL, NULL, NULL, -1, now};
	json_error_t jerr;
	json_t *root;
	char *text;
	int rc;

	cfg_defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	if ((text = cfgfile_read(path, err, errlen)) == NULL)
		return -1;
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		cfgfile_syntax(path, text, &jerr, err, errlen);
		free(text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen,
		    "%s:1:1: the configuration must be a JSON"
		    " object, like {\"port\": 3778}",
		    path);
		rc = -1;
	} else {
		w.text = text;
		rc = apply(c, root, &w, err, errlen);
	}
	json_decref(root);
	free(text);
	return rc;
}

int
cfg_allowed(const struct cfg *c, const struct sockaddr *sa)
{
	return c->nallow == 0 || cidr_match(c->allow, c->nallow, sa);
}
