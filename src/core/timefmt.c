/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timefmt.c - Unix time to and from ISO 8601 UTC; spans of time for a person.
 *
 * The civil-date arithmetic is the proleptic Gregorian calendar counted in
 * 400-year eras, so it holds for any year without tables or timegm().
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
static int digits(const char **p, unsigned n, unsigned *v);
static int parse_unix(const char *s, int64_t *t, char *err, size_t errlen);

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

char *
timefmt_iso(int64_t t, char *buf, size_t len)
{
	int64_t days = t / 86400, secs = t % 86400, y;
	unsigned m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, len, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m,
	    d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
	    (unsigned)(secs % 60));
	return buf;
}

char *
timefmt_span(int64_t secs, char *buf, size_t len)
{
	const char *sign = secs < 0 ? "-" : "";

	if (secs < 0)
		secs = -secs;
	if (secs < 120)
		snprintf(buf, len, "%s%llds", sign, (long long)secs);
	else if (secs < 7200)
		snprintf(buf, len, "%s%lldm%02llds", sign, (long long)secs / 60,
		    (long long)secs % 60);
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%s%lldh%02lldm", sign,
		    (long long)secs / 3600, (long long)secs / 60 % 60);
	else if (secs < 2 * 365 * 86400)
		snprintf(buf, len, "%s%lldd%02lldh", sign,
		    (long long)secs / 86400, (long long)secs / 3600 % 24);
	else
		snprintf(buf, len, "%s%lld years", sign,
		    (long long)(secs / (365.2425 * 86400)));
	return buf;
}

static int
digits(const char **p, unsigned n, unsigned *v)
{
	unsigned i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static int
parse_unix(const char *s, int64_t *t, char *err, size_t errlen)
{
	int64_t v = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s == '\0') {
		snprintf(err, errlen, "no digits");
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s)) {
			snprintf(err, errlen,
			    "unexpected '%c': want Unix seconds or"
			    " YYYY-MM-DD[THH:MM:SS[Z]]",
			    *s);
			return -1;
		}
		if (v > (INT64_MAX - 9) / 10) {
			snprintf(err, errlen, "too large");
			return -1;
		}
		v = v * 10 + (*s - '0');
	}
	*t = neg ? -v : v;
	return 0;
}

int
timefmt_parse(const char *s, int64_t *t, char *err, size_t errlen)
{
	static const unsigned mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, m, d, hh = 0, mm = 0, ss = 0;
	const char *p = s;

	if (*p == '@')
		return parse_unix(p + 1, t, err, errlen);
	if (strlen(p) < 10 || p[4] != '-')
		return parse_unix(p, t, err, errlen);
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &m) ||
	    *p++ != '-' || digits(&p, 2, &d))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &hh) || *p++ != ':' || digits(&p, 2, &mm))
			goto bad;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &ss))
				goto bad;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p != '\0')
		goto bad;
	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 &&
		!(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))) {
		snprintf(err, errlen, "no such date %04u-%02u-%02u", y, m, d);
		return -1;
	}
	if (hh > 23 || mm > 59 || ss > 59) {
		snprintf(
		    err, errlen, "no such time %02u:%02u:%02u", hh, mm, ss);
		return -1;
	}
	*t = days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
bad:
	snprintf(err, errlen,
	    "cannot read the time: want Unix seconds or "
	    "YYYY-MM-DD[THH:MM:SS[Z]]"
	    " in UTC");
	return -1;
}
