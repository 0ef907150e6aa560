/*
 * metrics: what GET /metrics reports, counted as it happens, and the
 * Prometheus text exposition format (version 0.0.4) it is written in.
 *
 * Counting must cost next to nothing where it happens: histograms and the
 * error counters are arrays of relaxed atomics, with no lock.  Series of
 * rare events (a sync or a task ending) sit in small tables under a mutex.
 *
 * Every label value is a fixed name from the code (a route pattern, a
 * catalog name, an institution id of institutions.def, a task kind), or is
 * mapped to one before it is counted: nothing a client sends can add a
 * series, so the output stays bounded.  Functions that take label values
 * keep the pointers: pass strings with static storage duration.
 */
#ifndef BF_METRICS_H
#define BF_METRICS_H

/*
 * Institutions whose syncs are counted apart: an institutions file's most
 * and the built-in ones (banks/institutions.c checks it at compile time).
 */
#define METRICS_INSTITUTIONS_MAX	5016

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/errors.h"

/* The content type of the exposition format. */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * A latency histogram with fixed buckets (MHIST_BOUNDS, in seconds, from a
 * millisecond to the 30 minutes a task may run).  Zeroed memory is an empty
 * histogram.  Observing is lock-free; a scrape that races an observation
 * may see it in a bucket before it is in the sum.
 */
#define MHIST_NBOUNDS	19
struct mhist {
	atomic_ullong	n[MHIST_NBOUNDS + 1];	/* per bucket; the last is +Inf */
	atomic_ullong	sum_ns;
};

void	mhist_observe(struct mhist *, double seconds);

/*
 * The exposition writer.  labels holds npairs pairs of name and value
 * ({"route", "/health", "method", "GET"}); values are escaped here.  Each
 * returns 0, or -1 when out is full.
 *
 * mx_family: the # HELP and # TYPE lines (type "counter", "gauge",
 * "histogram"); write them once, before the family's samples.
 * mx_u64, mx_double: one sample.
 * mx_hist: the _bucket (cumulative, le="..."), _sum and _count samples of
 * one histogram; name is the family's name, without a suffix.
 */
int	mx_family(struct buf *, const char *name, const char *type,
	    const char *help);
int	mx_u64(struct buf *, const char *name, const char *const *labels,
	    size_t npairs, uint64_t value);
int	mx_double(struct buf *, const char *name, const char *const *labels,
	    size_t npairs, double value);
int	mx_hist(struct buf *, const char *name, const char *const *labels,
	    size_t npairs, const struct mhist *);

/* An error answer of the catalog entry e (the HTTP edge calls it). */
void	metrics_error(enum err e);

/*
 * A sync ended: institution is the institution's id from institutions.def
 * (or "unknown"), result "completed", "failed" or "expired"; seconds is how
 * long this node worked on it.
 */
void	metrics_sync_done(const char *institution, const char *result,
	    double seconds);

/* A task ended on this node: its kind's name and its terminal status. */
void	metrics_task_done(const char *kind, const char *status);

/*
 * Appends what this file holds: build info, the process (start time,
 * memory, CPU, file descriptors, from /proc), errors by catalog entry,
 * syncs by institution and result with their durations, and ended tasks.
 * 0, or -1 when out is full.
 */
int	metrics_write(struct buf *out);

#endif
