/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * idkeys.c - the etcd keys of machine ids and their JSON records (idkeys.h).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "clock.h"
#include "idkeys.h"

static const char *number(const char *s, char end, unsigned *v);

void
idkeys_key(char *key, size_t len, const char *prefix, const char *kind,
    unsigned zone, unsigned dc, unsigned machine)
{
	snprintf(key, len, "%s/%s/%u/%u/%u", prefix, kind, zone, dc, machine);
}

void
idkeys_kind_dir(char *out, size_t len, const char *prefix, const char *kind)
{
	snprintf(out, len, "%s/%s/", prefix, kind);
}

void
idkeys_dc_dir(char *out, size_t len, const char *prefix, const char *kind,
    unsigned zone, unsigned dc)
{
	snprintf(out, len, "%s/%s/%u/%u/", prefix, kind, zone, dc);
}

/* A number of digits up to end (a '/' or the NUL) into *v; the rest, or NULL. */
static const char *
number(const char *s, char end, unsigned *v)
{
	unsigned long n = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && n <= UINT_MAX; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (p == s || *p != end || n > UINT_MAX)
		return NULL;
	*v = (unsigned)n;
	return end == '\0' ? p : p + 1;
}

int
idkeys_parse(const char *key, const char *prefix, const char *kind,
    unsigned *zone, unsigned *dc, unsigned *machine)
{
	size_t n = strlen(prefix), k = strlen(kind);
	const char *p;

	if (strncmp(key, prefix, n) != 0 || key[n] != '/' ||
	    strncmp(key + n + 1, kind, k) != 0 || key[n + 1 + k] != '/')
		return -1;
	p = key + n + k + 2;
	if ((p = number(p, '/', zone)) == NULL ||
	    (p = number(p, '/', dc)) == NULL ||
	    number(p, '\0', machine) == NULL)
		return -1;
	return 0;
}

char *
idkeys_holder_value(
    const struct claim_node *self, pid_t pid, const char *listen, int64_t lease)
{
	json_t *l = json_loads(listen, 0, NULL), *v;
	char node[17];
	char *s;

	snprintf(node, sizeof(node), "%016" PRIx64, self->node);
	v = json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:I}", "node", node,
	    "host", self->host, "boot", self->boot, "pid", (json_int_t)pid,
	    "listen", l != NULL ? l : json_array(), "since",
	    (json_int_t)clock_real_s(), "lease", (json_int_t)lease);
	s = v == NULL ? NULL : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	return s;
}

int
idkeys_parse_holder(const char *value, struct claim_node *by, char *desc,
    size_t desc_len, char *addr, size_t addr_len)
{
	json_t *j = json_loads(value, 0, NULL), *l = NULL;
	const char *node = NULL, *host = "?", *boot = "", *listen = "?";
	json_int_t pid = 0;

	memset(by, 0, sizeof(*by));
	snprintf(desc, desc_len, "an unknown holder");
	addr[0] = '\0';
	if (j == NULL ||
	    json_unpack(j, "{s:s, s?s, s?s, s?I, s?o}", "node", &node, "host",
		&host, "boot", &boot, "pid", &pid, "listen", &l) == -1) {
		json_decref(j);
		return -1;
	}
	by->node = strtoull(node, NULL, 16);
	snprintf(by->host, sizeof(by->host), "%s", host);
	snprintf(by->boot, sizeof(by->boot), "%s", boot);
	if (json_is_array(l) && json_is_string(json_array_get(l, 0))) {
		listen = json_string_value(json_array_get(l, 0));
		snprintf(addr, addr_len, "%s", listen);
	}
	snprintf(desc, desc_len, "node %s on %s (pid %lld, %s)", node, host,
	    (long long)pid, listen);
	json_decref(j);
	return 0;
}

void
idkeys_checkpoint_value(char *out, size_t len, int64_t at, uint64_t node)
{
	snprintf(out, len, "{\"checkpoint\":%lld,\"node\":\"%016" PRIx64 "\"}",
	    (long long)at, node);
}

int
idkeys_parse_checkpoint(const char *value, int64_t *at, uint64_t *node)
{
	json_t *j = json_loads(value, 0, NULL);
	const char *n = "0";
	json_int_t t = 0;
	int rc = 0;

	*at = (int64_t)json_integer_value(json_object_get(j, "checkpoint"));
	*node = 0;
	if (j == NULL)
		return -1;
	if (json_unpack(j, "{s:I, s?s}", "checkpoint", &t, "node", &n) == -1)
		rc = -1;
	else
		*node = strtoull(n, NULL, 16);
	json_decref(j);
	return rc;
}
