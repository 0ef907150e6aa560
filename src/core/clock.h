/*
 * clock: "now" for everything that concerns the bank's world: consents,
 * sync periods, the connector's view of today.  It is the wall clock moved
 * by BANKFEED_CLOCK_OFFSET_SECONDS, so tests (and demos) can let days pass:
 * pending card payments book, consents run out.  Token lifetimes, leases
 * and logs keep the real clock.
 */
#ifndef BF_CLOCK_H
#define BF_CLOCK_H

long long	clock_now(void);
/*
 * Seconds of the monotonic clock, which the offset and leaps of the wall
 * clock leave alone: for rate limits.
 */
double		clock_mono_s(void);

#endif
