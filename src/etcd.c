/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * etcd.c - a client of etcd's v3 JSON gateway (etcd.h).  Keys and values
 * travel base64-encoded, 64-bit numbers as JSON strings.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "base64.h"
#include "etcd.h"

/* A reply larger than this is not etcd's answer to genid. */
#define REPLY_MAX (1024 * 1024)

static size_t collect(char *data, size_t size, size_t n, void *arg);
static json_t *post(struct etcd *e, unsigned i, const char *path,
    const char *body, long *status);
static const char *reply_message(json_t *j, const char *otherwise);
static void add_reason(char *all, size_t len, const char *why);
static json_t *call(struct etcd *e, const char *path, json_t *body);
static int64_t get_int(json_t *o, const char *name);
static json_t *int_string(int64_t v);
static json_t *b64(const char *s);
static int unb64(json_t *o, const char *name, char *out, size_t room);
static int read_kv(json_t *o, struct etcd_kv *kv);
static long read_kvs(
    struct etcd *e, json_t *range, struct etcd_kv *kvs, unsigned max);

struct reply {
	char *buf;
	size_t len;
};

int
etcd_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int
etcd_open(struct etcd *e, const struct cfg *c, long timeout_ms)
{
	char hostport[CFG_HOST_LEN + 16];
	unsigned i;

	memset(e, 0, sizeof(*e));
	e->timeout_ms = timeout_ms;
	for (i = 0; i < c->netcd && i < CFG_MAX_ETCD; i++) {
		addr_format(c->etcd[i].host, c->etcd[i].port, hostport,
		    sizeof(hostport));
		snprintf(e->urls[i], sizeof(e->urls[i]), "http://%s", hostport);
	}
	e->n = i;
	if ((e->curl = curl_easy_init()) == NULL) {
		snprintf(e->err, sizeof(e->err), "curl_easy_init failed");
		return -1;
	}
	return 0;
}

void
etcd_close(struct etcd *e)
{
	if (e->curl != NULL)
		curl_easy_cleanup(e->curl);
	e->curl = NULL;
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char *p;

	if (r->len + len > REPLY_MAX ||
	    (p = realloc(r->buf, r->len + len + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, len);
	r->len += len;
	p[r->len] = '\0';
	r->buf = p;
	return len;
}

/*
 * POSTs body to path at one endpoint: the parsed reply (HTTP status in
 * *status), or NULL with e->err set when the endpoint did not answer.
 */
static json_t *
post(struct etcd *e, unsigned i, const char *path, const char *body,
    long *status)
{
	struct curl_slist *hdr =
	    curl_slist_append(NULL, "Content-Type: application/json");
	struct reply r = {NULL, 0};
	char url[sizeof(e->urls[0]) + 64];
	json_error_t jerr;
	json_t *j = NULL;
	CURLcode rc;
	CURL *c = e->curl;

	snprintf(url, sizeof(url), "%s%s", e->urls[i], path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	/* No http_proxy from the environment: etcd is spoken to directly. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(e->err, sizeof(e->err), "%s: %s", e->urls[i],
		    curl_easy_strerror(rc));
		free(r.buf);
		return NULL;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (r.buf == NULL ||
	    (j = json_loads(r.buf, JSON_DECODE_ANY, &jerr)) == NULL ||
	    !json_is_object(j)) {
		snprintf(e->err, sizeof(e->err),
		    "%s: HTTP %ld, not a reply of etcd's v3 JSON gateway"
		    " (is it etcd >= 3.4?)",
		    e->urls[i], *status);
		json_decref(j);
		j = NULL;
	}
	free(r.buf);
	return j;
}

/*
 * etcd's reason in an error reply: its "message", or the "message" of its
 * "error" (how a stream, the lease keep-alive, fails); else otherwise.
 */
static const char *
reply_message(json_t *j, const char *otherwise)
{
	json_t *msg = json_object_get(j, "message");

	if (!json_is_string(msg))
		msg = json_object_get(json_object_get(j, "error"), "message");
	return json_is_string(msg) ? json_string_value(msg) : otherwise;
}

/* Appends why to the list in all ("; " between), as far as it fits. */
static void
add_reason(char *all, size_t len, const char *why)
{
	size_t n = strlen(all), w = strlen(why);

	if (n > 0 && n + 2 < len) {
		memcpy(all + n, "; ", 2);
		n += 2;
	}
	if (w > len - 1 - n)
		w = len - 1 - n;
	memcpy(all + n, why, w);
	all[n + w] = '\0';
}

/*
 * Calls path with body (taken over) at the endpoint that answered last,
 * then at the others: the reply, or NULL with e->err (e->unreachable when
 * no endpoint answered: why each one failed, else etcd's own error).
 */
static json_t *
call(struct etcd *e, const char *path, json_t *body)
{
	char *text = body == NULL ? NULL : json_dumps(body, JSON_COMPACT);
	char failed[sizeof(e->err)] = "";
	json_t *j = NULL;
	unsigned k;
	long status = 0;

	json_decref(body);
	e->unreachable = 1;
	if (text == NULL) {
		snprintf(e->err, sizeof(e->err), "out of memory");
		return NULL;
	}
	for (k = 0; k < e->n; k++) {
		unsigned i = (e->cur + k) % e->n;

		if ((j = post(e, i, path, text, &status)) == NULL) {
			add_reason(failed, sizeof(failed), e->err);
			continue;
		}
		/*
		 * An endpoint without a leader, or whose gateway lost its
		 * member (a member that stops answers HTTP 408 "grpc: the
		 * client connection is closing"): try the next one.
		 */
		if (status >= 500 || status == 408) {
			snprintf(e->err, sizeof(e->err), "%s: HTTP %ld: %s",
			    e->urls[i], status,
			    reply_message(j, "server error"));
			add_reason(failed, sizeof(failed), e->err);
			json_decref(j);
			j = NULL;
			continue;
		}
		if (k > 0)
			snprintf(e->failover, sizeof(e->failover),
			    "%s; now using %s", failed, e->urls[i]);
		e->cur = i;
		e->unreachable = 0;
		if (status != 200) {
			snprintf(e->err, sizeof(e->err), "%s: HTTP %ld: %s",
			    e->urls[i], status, reply_message(j, "refused"));
			json_decref(j);
			j = NULL;
		}
		break;
	}
	/* No endpoint answered: say why for each, not only the last. */
	if (e->unreachable)
		snprintf(e->err, sizeof(e->err), "%s", failed);
	free(text);
	return j;
}

/* A 64-bit field: a JSON string of digits (or a number); 0 when absent. */
static int64_t
get_int(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_string(v))
		return (int64_t)strtoll(json_string_value(v), NULL, 10);
	return 0;
}

/* A 64-bit number as the gateway takes it: a string. */
static json_t *
int_string(int64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRId64, v);
	return json_string(s);
}

static json_t *
b64(const char *s)
{
	char out[BASE64_LEN(ETCD_VALUE_LEN)];

	if (base64_encode(s, strlen(s), out, sizeof(out)) == -1)
		return NULL;
	return json_string(out);
}

/* Decodes a base64 field into out, NUL-terminated; -1 if it does not fit. */
static int
unb64(json_t *o, const char *name, char *out, size_t room)
{
	json_t *v = json_object_get(o, name);
	long n;

	out[0] = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v) ||
	    (n = base64_decode(json_string_value(v), out, room - 1)) == -1)
		return -1;
	out[n] = '\0';
	return 0;
}

int
etcd_grant(struct etcd *e, unsigned ttl, int64_t *lease)
{
	json_t *j = call(e, "/v3/lease/grant",
	    json_pack("{s:o}", "TTL", int_string((int64_t)ttl)));

	if (j == NULL)
		return -1;
	*lease = get_int(j, "ID");
	json_decref(j);
	if (*lease == 0) {
		snprintf(e->err, sizeof(e->err), "no lease in etcd's reply");
		return -1;
	}
	return 0;
}

int
etcd_keepalive(struct etcd *e, int64_t lease, int64_t *ttl)
{
	json_t *j = call(e, "/v3/lease/keepalive",
	    json_pack("{s:o}", "ID", int_string(lease)));

	if (j == NULL)
		return -1;
	*ttl = get_int(json_object_get(j, "result"), "TTL");
	if (*ttl < 0)
		*ttl = 0;
	json_decref(j);
	return 0;
}

int
etcd_revoke(struct etcd *e, int64_t lease)
{
	json_t *j = call(
	    e, "/v3/lease/revoke", json_pack("{s:o}", "ID", int_string(lease)));

	json_decref(j);
	return j == NULL ? -1 : 0;
}

/* One element of "kvs" into kv; -1 when it does not fit genid's sizes. */
static int
read_kv(json_t *o, struct etcd_kv *kv)
{
	if (unb64(o, "key", kv->key, sizeof(kv->key)) == -1 ||
	    unb64(o, "value", kv->value, sizeof(kv->value)) == -1)
		return -1;
	kv->lease = get_int(o, "lease");
	kv->create_revision = get_int(o, "create_revision");
	kv->mod_revision = get_int(o, "mod_revision");
	return 0;
}

/* The "kvs" of a range reply into kvs[0..max): how many keys, or -1. */
static long
read_kvs(struct etcd *e, json_t *range, struct etcd_kv *kvs, unsigned max)
{
	json_t *arr = json_object_get(range, "kvs"), *o;
	size_t i;

	json_array_foreach(arr, i, o)
	{
		if (i < max && read_kv(o, &kvs[i]) == -1) {
			snprintf(e->err, sizeof(e->err),
			    "a key or value in etcd is longer than genid's"
			    " (%d, %d bytes)",
			    ETCD_KEY_LEN - 1, ETCD_VALUE_LEN - 1);
			return -1;
		}
	}
	return (long)json_array_size(arr);
}

void
etcd_prefix_end(const char *prefix, char *end, size_t len)
{
	size_t n;

	snprintf(end, len, "%s", prefix);
	/* The prefix with its last byte one higher (genid's are ASCII). */
	if ((n = strlen(end)) > 0)
		end[n - 1]++;
}

long
etcd_range(struct etcd *e, const char *key, const char *end,
    struct etcd_kv *kvs, unsigned max)
{
	json_t *body = json_pack("{s:o}", "key", b64(key)), *j;
	long n;

	if (end != NULL)
		json_object_set_new(body, "range_end", b64(end));
	if ((j = call(e, "/v3/kv/range", body)) == NULL)
		return -1;
	n = read_kvs(e, j, kvs, max);
	json_decref(j);
	return n;
}

json_t *
etcd_cmp_created(const char *key, int64_t create_revision)
{
	return json_pack("{s:s, s:o, s:o, s:s}", "target", "CREATE", "key",
	    b64(key), "create_revision", int_string(create_revision), "result",
	    "EQUAL");
}

json_t *
etcd_cmp_modified(const char *key, int64_t mod_revision)
{
	return json_pack("{s:s, s:o, s:o, s:s}", "target", "MOD", "key",
	    b64(key), "mod_revision", int_string(mod_revision), "result",
	    "EQUAL");
}

json_t *
etcd_cmp_lease(const char *key, int64_t lease)
{
	return json_pack("{s:s, s:o, s:o, s:s}", "target", "LEASE", "key",
	    b64(key), "lease", int_string(lease), "result", "EQUAL");
}

json_t *
etcd_op_put(const char *key, const char *value, int64_t lease)
{
	json_t *put =
	    json_pack("{s:o, s:o}", "key", b64(key), "value", b64(value));

	if (lease != 0)
		json_object_set_new(put, "lease", int_string(lease));
	return json_pack("{s:o}", "request_put", put);
}

json_t *
etcd_op_range(const char *key)
{
	return json_pack("{s:{s:o}}", "request_range", "key", b64(key));
}

int
etcd_txn(struct etcd *e, json_t *compare, json_t *success, json_t *failure,
    int *succeeded, struct etcd_kv *kvs)
{
	json_t *j = call(e, "/v3/kv/txn",
		   json_pack("{s:o, s:o, s:o}", "compare", compare, "success",
		       success, "failure", failure)),
	       *resp;
	size_t i;

	if (kvs != NULL)
		memset(kvs, 0, sizeof(*kvs));
	if (j == NULL)
		return -1;
	/* proto3's JSON leaves out a false "succeeded". */
	*succeeded = json_is_true(json_object_get(j, "succeeded"));
	json_array_foreach(json_object_get(j, "responses"), i, resp)
	{
		json_t *range = json_object_get(resp, "response_range");

		if (kvs != NULL && range != NULL && kvs->key[0] == '\0' &&
		    read_kvs(e, range, kvs, 1) == -1) {
			json_decref(j);
			return -1;
		}
	}
	json_decref(j);
	return 0;
}
