/*
 * net.c - INFO and the identity of a genid server for the daemon's peer
 * check and for genidctl, over libgenid: the wire protocol has one client
 * implementation, src/client/client.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "genid.h"
#include "net.h"

/* The longest INFO reply (its length is 2 bytes) and a NUL. */
#define INFO_LEN 65536

int
net_exit_code(int errnum)
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

const char *
net_name(const char *host, unsigned port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
	return buf;
}

int
net_info(struct genid_client *c, json_t **info, char **text, char *err,
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
		return net_exit_code(errnum);
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

int
net_identity(const char *addr, int timeout_ms, struct peer_identity *id,
    char *err, size_t errlen)
{
	struct genid_options opt;
	struct genid_client *c;
	const char *instance = NULL;
	json_int_t zone, dc, machine;
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
	code = net_info(c, &info, NULL, err, errlen);
	genid_close(c);
	if (code != 0)
		return code;
	if (json_unpack(info, "{s:I, s:I, s:I, s?s}", "zone", &zone, "dc", &dc,
		"machine", &machine, "instance", &instance) == -1) {
		snprintf(err, errlen, "INFO from %s lacks zone, dc or machine",
		    addr);
		code = EX_PROTOCOL;
	} else {
		id->zone = zone;
		id->dc = dc;
		id->machine = machine;
		id->instance =
		    instance != NULL ? strtoull(instance, NULL, 16) : 0;
	}
	json_decref(info);
	return code;
}
