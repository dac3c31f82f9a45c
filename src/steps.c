/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * steps.c - the master's answer to the clock's steps: counts and logs
 * them, slews after a step back, writes the allowance workers borrow under.
 */
#include "clock.h"
#include "log.h"
#include "steps.h"
#include "timefmt.h"

static void on_step(int64_t step_ns, void *arg);
static void count_step(struct state_header *h, int64_t step_ns);
static void log_slew(enum slew_event ev);
static void log_far(void);

/* How often a slew past max_slew is told again in the log. */
#define FAR_EVERY_MS (600 * 1000)

static struct {
	struct state_header *h;
	struct slew_conf conf;
	struct slew slew;
	int64_t now_ms;	    /* the monotonic clock at the last tick */
	enum slew_event ev; /* what this tick's step did to the slew */
	int64_t step_ns;    /* this tick's step, 0 = none */
	int64_t far_told;   /* when the far slew was last told, 0 = never */
	int started;	    /* this tick's step started the slew */
} st;

void
steps_start(struct state_header *h, const struct slew_conf *conf)
{
	st.h = h;
	st.conf = *conf;
	st.now_ms = clock_mono_ms();
	slew_start(
	    &st.slew, conf, st.now_ms, (int64_t)state_load(&h->slew_extra_ms));
	/* The workers compute the extra from the end at this rate. */
	state_store(&h->slew_rate_ppm, conf->rate_ppm);
	clock_on_step(on_step, NULL);
	clock_watch(STEPS_TOLERANCE_NS);
}

/* A step clock_watch found: counted and logged, and the slew told. */
static void
on_step(int64_t step_ns, void *arg)
{
	int64_t was = slew_extra_ms(&st.slew, &st.conf, st.now_ms);

	(void)arg;
	count_step(st.h, step_ns);
	st.step_ns = step_ns;
	st.started = step_ns < 0 && was == 0;
	st.ev = slew_step(&st.slew, &st.conf, st.now_ms, step_ns / 1000000);
	if (step_ns < 0 && was == 0)
		state_add(&st.h->slews, 1);
	if (st.ev == SLEW_FAR)
		state_add(&st.h->slews_far, 1);
}

static void
count_step(struct state_header *h, int64_t step_ns)
{
	state_store((uint64_t *)&h->clock_step_last_ns, (uint64_t)step_ns);
	if (step_ns > 0) {
		state_add(&h->clock_steps_forward, 1);
		log_warnx("the clock stepped forward by %.3f s", step_ns / 1e9);
		return;
	}
	state_add(&h->clock_steps_back, 1);
	if ((uint64_t)-step_ns > state_load(&h->clock_step_max_back_ns))
		state_store(&h->clock_step_max_back_ns, (uint64_t)-step_ns);
	log_warnx(
	    "the clock stepped back by %.3f s: buckets go on counting in"
	    " their own second until the clock catches up, no ID is repeated",
	    -step_ns / 1e9);
}

/* Says loudly that the IDs stand far ahead of the clock. */
static void
log_far(void)
{
	const struct slew_conf *c = &st.conf;
	char left[32];

	st.far_told = st.now_ms;
	log_errorx("the IDs stand %.0f s ahead of the clock, more than"
		   " max_slew_s %u: genid serves on at %.0f%% of capacity and"
		   " meets the clock in %s; a clock this far off is no time"
		   " zone or DST mistake: check the clock source (NTP, RTC)"
		   " of this host",
	    slew_extra_ms(&st.slew, c, st.now_ms) / 1e3 + c->max_ahead,
	    c->max_slew, 100.0 - c->rate_ppm / 1e4,
	    timefmt_span(
		slew_left_ms(&st.slew, st.now_ms) / 1000, left, sizeof(left)));
}

/* Logs what a step or the passing of time did to the slew. */
static void
log_slew(enum slew_event ev)
{
	const struct slew_conf *c = &st.conf;
	double left = slew_left_ms(&st.slew, st.now_ms) / 1000.0;
	unsigned a = slew_allowance(&st.slew, c, st.now_ms);

	switch (ev) {
	case SLEW_STARTED:
	case SLEW_GREW:
	case SLEW_SHRANK:
	case SLEW_FAR:
		log_warnx("slew %s: buckets may borrow %u s ahead of the clock,"
			  " shrinking at clock_slew %g: the node issues at"
			  " %.0f%% of capacity and meets the clock in %.0f s",
		    st.started ? "starts" : "changes", a, c->rate_ppm / 1e6,
		    100.0 - c->rate_ppm / 1e4, left);
		break;
	case SLEW_ENDED:
		log_notice("slew ends: the buckets are back with the clock"
			   " (allowance max_ahead_s %u)",
		    a);
		break;
	case SLEW_NONE:
		break;
	}
	if (ev == SLEW_FAR ||
	    (slew_far(&st.slew, c, st.now_ms) &&
		st.now_ms - st.far_told >= FAR_EVERY_MS))
		log_far();
}

uint32_t
steps_tick(void)
{
	struct state_header *h = st.h;
	uint32_t a;

	st.now_ms = clock_mono_ms();
	st.ev = SLEW_NONE;
	st.step_ns = 0;
	st.started = 0;
	clock_watch(STEPS_TOLERANCE_NS); /* a step reaches on_step */
	if (st.ev == SLEW_NONE)
		st.ev = slew_tick(&st.slew, st.now_ms);
	a = slew_allowance(&st.slew, &st.conf, st.now_ms);
	/*
	 * The allowance first: the workers' slew top (from the end) must not
	 * pass what the checkpoint may be raised to.
	 */
	state_store(&h->allowance, a);
	state_store(&h->slew_extra_ms,
	    (uint64_t)slew_extra_ms(&st.slew, &st.conf, st.now_ms));
	state_store(&h->slew_end_ms, (uint64_t)st.slew.end_ms);
	log_slew(st.ev);
	return a;
}

uint32_t
steps_allowance(void)
{
	return slew_allowance(&st.slew, &st.conf, st.now_ms);
}
