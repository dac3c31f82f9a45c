/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_state.c - the state-file header check (state_check, src/core).
 *
 * The input is the start of a state file (a 4 KiB page, or up to two),
 * checked exactly at its own length so that AddressSanitizer sees any
 * read past it.  Properties: a region accepted is big enough for the
 * whole layout, and every bucket and worker slot lies inside it; a region
 * made for another identity is refused; a refusal gives a reason.  A
 * layout-3 region state_upgrade converts passes state_check with its
 * identity and checkpoint, and state_downgrade gives it back.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "state.h"

static void
check_upgrade(const struct state_header *h, size_t size)
{
	struct state_header *out = calloc(1, state_size());
	unsigned char *back = calloc(1, state_size_v3());
	char err[256];

	if (out == NULL || back == NULL)
		goto out;
	err[0] = '\0';
	if (state_upgrade(h, size, out, 1, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0', "upgrade refused without a reason");
		goto out;
	}
	FUZZ_ASSERT(state_check(out, state_size(), NULL, err, sizeof(err)) == 0,
	    "upgraded region refused: %s", err);
	FUZZ_ASSERT(out->checkpoint_seal >> 32 == h->checkpoint_seal >> 32 &&
		out->zone == h->zone && out->machine == h->machine &&
		out->epoch == h->epoch,
	    "upgrade changed the checkpoint or the identity");
	state_downgrade(out, back);
	/* Back whole, but for a slew's end, which is this boot's clock. */
	FUZZ_ASSERT(out->clean != 1 || h->slew_end_ms != 0 ||
		memcmp(back, h, state_size_v3()) == 0,
	    "a clean layout-3 file did not come back the same");
out:
	free(out);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_identity want = {1, 2, 3, 0};
	struct state_header *h;
	char err[256];
	unsigned i;
	int rc, rc_any;

	/* A copy of exactly size bytes (malloc aligns for 64-bit fields). */
	if ((h = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(h, data, size);
	err[0] = '\0';
	rc_any = state_check(h, size, NULL, err, sizeof(err));
	FUZZ_ASSERT(rc_any == 0 || (rc_any == -1 && err[0] != '\0'),
	    "rc %d, reason \"%s\"", rc_any, err);
	if (rc_any == 0) {
		FUZZ_ASSERT(size >= state_size(), "accepted %zu bytes", size);
		for (i = 0; i < STATE_BUCKETS; i++) {
			char *b = (char *)state_bucket(h, i);

			FUZZ_ASSERT(b >= (char *)h &&
				b + sizeof(struct state_bucket) <=
				    (char *)h + size,
			    "bucket %u", i);
		}
		for (i = 0; i < STATE_WORKERS; i++) {
			char *w = (char *)state_worker(h, i);

			FUZZ_ASSERT(w >= (char *)h &&
				w + sizeof(struct state_worker) <=
				    (char *)h + size,
			    "worker %u", i);
		}
		err[0] = '\0';
		rc = state_check(h, size, &want, err, sizeof(err));
		if (h->zone != want.zone || h->dc != want.dc ||
		    h->machine != want.machine || h->epoch != want.epoch)
			FUZZ_ASSERT(rc == -1 && err[0] != '\0',
			    "file of another identity accepted");
	}
	if (state_layout(h, size) == 3)
		check_upgrade(h, size);
	free(h);
	return 0;
}
