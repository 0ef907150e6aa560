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
/* Nanoseconds of CLOCK_MONOTONIC, for intervals: never moved by the offset. */
long long	clock_mono_ns(void);
/* The same in seconds. */
double		clock_mono(void);

#endif
