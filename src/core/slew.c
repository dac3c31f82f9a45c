/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slew.c - the decaying borrowing allowance after a clock step back.
 */
#include "slew.h"

void
slew_start(struct slew *s, int64_t now_ms, int64_t extra_ms)
{
	s->extra_ms = extra_ms > 0 ? extra_ms : 0;
	s->since_ms = now_ms;
}

int64_t
slew_extra_ms(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	int64_t spent;

	/* A monotonic clock never goes back; a caller's odd sample would
	 * otherwise grow the extra. */
	if (now_ms <= s->since_ms)
		return s->extra_ms;
	spent = (now_ms - s->since_ms) * (int64_t)c->rate_ppm / SLEW_PPM;
	return spent >= s->extra_ms ? 0 : s->extra_ms - spent;
}

uint32_t
slew_allowance(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	int64_t extra = slew_extra_ms(s, c, now_ms);

	return c->max_ahead + (uint32_t)((extra + 999) / 1000);
}

int64_t
slew_left_ms(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	int64_t extra = slew_extra_ms(s, c, now_ms);

	return (extra * SLEW_PPM + c->rate_ppm - 1) / c->rate_ppm;
}

enum slew_event
slew_step(
    struct slew *s, const struct slew_conf *c, int64_t now_ms, int64_t step_ms)
{
	int64_t extra = slew_extra_ms(s, c, now_ms);

	if (step_ms >= 0) {
		slew_start(s, now_ms, extra - step_ms);
		if (extra == 0)
			return SLEW_NONE;
		return s->extra_ms == 0 ? SLEW_ENDED : SLEW_SHRANK;
	}
	/*
	 * Beyond max_slew the buckets wait for the clock instead: a clock
	 * that is far off must not stamp IDs far away.  What was granted
	 * before goes on shrinking.
	 */
	if (extra - step_ms > (int64_t)c->max_slew * 1000) {
		slew_start(s, now_ms, extra);
		return SLEW_REFUSED;
	}
	slew_start(s, now_ms, extra - step_ms);
	return extra == 0 ? SLEW_STARTED : SLEW_GREW;
}

enum slew_event
slew_tick(struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	if (s->extra_ms == 0 || slew_extra_ms(s, c, now_ms) > 0)
		return SLEW_NONE;
	slew_start(s, now_ms, 0);
	return SLEW_ENDED;
}

uint32_t
slew_boot_extra(uint32_t now, uint32_t highest, const struct slew_conf *c)
{
	if (highest <= now || highest - now <= c->max_ahead)
		return 0;
	return highest - now - c->max_ahead;
}
