/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.c - the one reader of the wall and monotonic clocks; finds steps
 * of the one against the other and tells the parts that asked.
 */
#include <stddef.h>

#include "bucket.h"
#include "clock.h"

/* Parts told of a step: the master's count and log, and the slew. */
#define CLOCK_HANDLERS 4

static void system_read(struct timespec *real, struct timespec *mono);
static int64_t ns_of(const struct timespec *t);

static const struct clock_source system_clock = {system_read};

static struct {
	const struct clock_source *src;
	int sampled;
	struct timespec real, mono; /* the last sample of clock_watch */
	struct {
		void (*fn)(int64_t step_ns, void *arg);
		void *arg;
	} handlers[CLOCK_HANDLERS];
	unsigned nhandlers;
} clk = {&system_clock, 0, {0, 0}, {0, 0}, {{NULL, NULL}}, 0};

static void
system_read(struct timespec *real, struct timespec *mono)
{
	if (real != NULL)
		clock_gettime(CLOCK_REALTIME, real);
	if (mono != NULL)
		clock_gettime(CLOCK_MONOTONIC, mono);
}

static int64_t
ns_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

void
clock_use(const struct clock_source *src)
{
	clk.src = src != NULL ? src : &system_clock;
	clk.sampled = 0;
}

void
clock_real(struct timespec *now)
{
	clk.src->read(now, NULL);
}

int64_t
clock_real_s(void)
{
	struct timespec now;

	clk.src->read(&now, NULL);
	return (int64_t)now.tv_sec;
}

void
clock_mono(struct timespec *now)
{
	clk.src->read(NULL, now);
}

int64_t
clock_mono_ms(void)
{
	struct timespec now;

	clk.src->read(NULL, &now);
	return ns_of(&now) / 1000000;
}

int
clock_on_step(void (*fn)(int64_t step_ns, void *arg), void *arg)
{
	if (clk.nhandlers == CLOCK_HANDLERS)
		return -1;
	clk.handlers[clk.nhandlers].fn = fn;
	clk.handlers[clk.nhandlers].arg = arg;
	clk.nhandlers++;
	return 0;
}

int64_t
clock_watch(int64_t tolerance_ns)
{
	struct timespec real, mono;
	int64_t step = 0;
	unsigned i;

	clk.src->read(&real, &mono);
	if (clk.sampled)
		step = clock_step_ns(ns_of(&clk.real), ns_of(&clk.mono),
		    ns_of(&real), ns_of(&mono), tolerance_ns);
	clk.real = real;
	clk.mono = mono;
	clk.sampled = 1;
	for (i = 0; step != 0 && i < clk.nhandlers; i++)
		clk.handlers[i].fn(step, clk.handlers[i].arg);
	return step;
}

void
clock_reset(void)
{
	clk.sampled = 0;
	clk.nhandlers = 0;
}
