/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slew.c - the decaying borrowing allowance after a clock step back.
 */
#include "id.h"
#include "slew.h"

void
slew_start(
    struct slew *s, const struct slew_conf *c, int64_t now_ms, int64_t extra_ms)
{
	/* Rounded up: the extra at now_ms is never below extra_ms. */
	s->end_ms = extra_ms > 0
	    ? now_ms + (extra_ms * SLEW_PPM + c->rate_ppm - 1) / c->rate_ppm
	    : 0;
}

int64_t
slew_extra_until(int64_t end_ms, uint32_t rate_ppm, int64_t now_ms)
{
	if (end_ms == 0 || end_ms <= now_ms)
		return 0;
	return ((end_ms - now_ms) * (int64_t)rate_ppm + SLEW_PPM - 1) /
	    SLEW_PPM;
}

int64_t
slew_extra_ms(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	return slew_extra_until(s->end_ms, c->rate_ppm, now_ms);
}

uint32_t
slew_allowance(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	int64_t a = c->max_ahead + (slew_extra_ms(s, c, now_ms) + 999) / 1000;

	return a > UINT32_MAX ? UINT32_MAX : (uint32_t)a;
}

int64_t
slew_left_ms(const struct slew *s, int64_t now_ms)
{
	return s->end_ms > now_ms ? s->end_ms - now_ms : 0;
}

int
slew_far(const struct slew *s, const struct slew_conf *c, int64_t now_ms)
{
	return slew_extra_ms(s, c, now_ms) >
	    (int64_t)c->max_slew * 1000 + SLEW_WHOLE_MS;
}

enum slew_event
slew_step(
    struct slew *s, const struct slew_conf *c, int64_t now_ms, int64_t step_ms)
{
	int64_t extra = slew_extra_ms(s, c, now_ms), add = -step_ms;

	/*
	 * Out of a slew the buckets borrow whole seconds: up to a second
	 * past the position now + max_ahead the slew's top starts from.  A
	 * slew that starts adds that second, so that no bucket waits for
	 * the top to reach it.
	 */
	if (step_ms < 0 && extra == 0)
		add += SLEW_WHOLE_MS;
	slew_start(s, c, now_ms, extra + add);
	if (step_ms >= 0) {
		if (extra == 0)
			return SLEW_NONE;
		return s->end_ms == 0 ? SLEW_ENDED : SLEW_SHRANK;
	}
	/*
	 * However large the step, the buckets go on issuing: their lead only
	 * shrinks in a slew, so a reduced rate never takes the IDs further
	 * from the clock than the step left them.  Beyond max_slew the node
	 * says so loudly.
	 */
	if (extra + add > (int64_t)c->max_slew * 1000 + SLEW_WHOLE_MS)
		return SLEW_FAR;
	return extra == 0 ? SLEW_STARTED : SLEW_GREW;
}

enum slew_event
slew_tick(struct slew *s, int64_t now_ms)
{
	if (s->end_ms == 0 || s->end_ms > now_ms)
		return SLEW_NONE;
	s->end_ms = 0;
	return SLEW_ENDED;
}

uint32_t
slew_boot_extra(uint32_t now, uint32_t highest, const struct slew_conf *c)
{
	if (highest <= now || highest - now <= c->max_ahead)
		return 0;
	return highest - now - c->max_ahead;
}

uint64_t
slew_top_word(int64_t now_ms, uint32_t max_ahead, int64_t extra_ms)
{
	int64_t pos = now_ms + (int64_t)max_ahead * 1000 + extra_ms;
	int64_t sec = pos / 1000;

	if (pos < 0)
		return 0;
	if (sec > UINT32_MAX)
		return (uint64_t)UINT32_MAX << 32 | ID_COUNTERS;
	return (uint64_t)sec << 32 |
	    (uint64_t)(pos % 1000) * ID_COUNTERS / 1000;
}
