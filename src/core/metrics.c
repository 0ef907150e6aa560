/*
 * metrics: counters, histograms and the exposition writer (see metrics.h).
 */
#include "core/metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The histogram buckets' upper bounds, as numbers and as le="..." text. */
#define MHIST_BOUNDS(X) X(0.001) X(0.0025) X(0.005) X(0.01) X(0.025) \
	X(0.05) X(0.1) X(0.25) X(0.5) X(1) X(2.5) X(5) X(10) X(30) X(60) \
	X(120) X(300) X(900) X(1800)
#define AS_NUMBER(b)	b,
#define AS_TEXT(b)	#b,
static const double	 bounds[] = { MHIST_BOUNDS(AS_NUMBER) };
static const char *const bounds_text[] = { MHIST_BOUNDS(AS_TEXT) };
_Static_assert(sizeof(bounds) / sizeof(bounds[0]) == MHIST_NBOUNDS,
    "MHIST_NBOUNDS is the number of MHIST_BOUNDS");

#define MX_MAX_PAIRS	4	/* labels of one sample, le included */

void
mhist_observe(struct mhist *h, double seconds)
{
	size_t	i;

	if (!(seconds >= 0))	/* NaN too */
		seconds = 0;
	for (i = 0; i < MHIST_NBOUNDS && seconds > bounds[i]; i++)
		;
	atomic_fetch_add_explicit(&h->n[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, (unsigned long long)(seconds * 1e9),
	    memory_order_relaxed);
}

/* ---- the exposition writer ------------------------------------------ */

/* s with the escapes of the format: \\ and \n, and \" when quoted. */
static int
escaped(struct buf *b, const char *s, int quoted)
{
	size_t	n;

	while (*s != '\0') {
		n = strcspn(s, quoted ? "\\\"\n" : "\\\n");
		if (buf_add(b, s, n) == -1)
			return -1;
		s += n;
		if (*s == '\0')
			break;
		if (buf_addc(b, '\\') == -1 ||
		    buf_addc(b, *s == '\n' ? 'n' : *s) == -1)
			return -1;
		s++;
	}
	return 0;
}

int
mx_family(struct buf *b, const char *name, const char *type, const char *help)
{
	if (buf_printf(b, "# HELP %s ", name) == -1 || escaped(b, help, 0) == -1)
		return -1;
	return buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* name{l1="v1",...,le="x"} (no braces without labels); le may be NULL. */
static int
series(struct buf *b, const char *name, const char *suffix,
    const char *const *labels, size_t npairs, const char *le)
{
	size_t	i;

	if (buf_addstr(b, name) == -1 || buf_addstr(b, suffix) == -1)
		return -1;
	if (npairs == 0 && le == NULL)
		return 0;
	if (buf_addc(b, '{') == -1)
		return -1;
	for (i = 0; i < npairs; i++)
		if (buf_printf(b, "%s%s=\"", i > 0 ? "," : "",
		    labels[2 * i]) == -1 ||
		    escaped(b, labels[2 * i + 1], 1) == -1 ||
		    buf_addc(b, '"') == -1)
			return -1;
	if (le != NULL && buf_printf(b, "%sle=\"%s\"", npairs > 0 ? "," : "",
	    le) == -1)
		return -1;
	return buf_addc(b, '}');
}

int
mx_u64(struct buf *b, const char *name, const char *const *labels,
    size_t npairs, uint64_t value)
{
	if (series(b, name, "", labels, npairs, NULL) == -1)
		return -1;
	return buf_printf(b, " %llu\n", (unsigned long long)value);
}

int
mx_double(struct buf *b, const char *name, const char *const *labels,
    size_t npairs, double value)
{
	if (series(b, name, "", labels, npairs, NULL) == -1)
		return -1;
	if (isnan(value))
		return buf_addstr(b, " NaN\n");
	if (isinf(value))
		return buf_addstr(b, value > 0 ? " +Inf\n" : " -Inf\n");
	return buf_printf(b, " %.15g\n", value);
}

int
mx_hist(struct buf *b, const char *name, const char *const *labels,
    size_t npairs, const struct mhist *h)
{
	unsigned long long	cum = 0, sum;
	size_t			i;

	for (i = 0; i <= MHIST_NBOUNDS; i++) {
		cum += atomic_load_explicit(&h->n[i], memory_order_relaxed);
		if (series(b, name, "_bucket", labels, npairs, i < MHIST_NBOUNDS ?
		    bounds_text[i] : "+Inf") == -1 ||
		    buf_printf(b, " %llu\n", cum) == -1)
			return -1;
	}
	sum = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
	/* The count is the +Inf bucket's, so the two always agree. */
	if (series(b, name, "_sum", labels, npairs, NULL) == -1 ||
	    buf_printf(b, " %llu.%09llu\n", sum / 1000000000ULL,
	    sum % 1000000000ULL) == -1 ||
	    series(b, name, "_count", labels, npairs, NULL) == -1 ||
	    buf_printf(b, " %llu\n", cum) == -1)
		return -1;
	return 0;
}

/* ---- what is counted ------------------------------------------------ */

static atomic_ullong	errors[ERR__COUNT];

void
metrics_error(enum err e)
{
	if (e > ERR_OK && e < ERR__COUNT)
		atomic_fetch_add_explicit(&errors[e], 1, memory_order_relaxed);
}

/*
 * Rare events: a series is a pair of label values (strings that live as
 * long as the process: institution ids are loaded once) and a count.  The
 * pairs that can occur are bounded: every institution of an institutions
 * file and the built-in ones, times 3 results; task kinds times statuses.
 * The tables are static and untouched until used, so their size costs no
 * resident memory; a pair past it is not counted.
 */
#define INST_LABELS	METRICS_INSTITUTIONS_MAX
#define RARE_MAX	(INST_LABELS * 3)

struct pair {
	const char	*a, *b;
	uint64_t	 n;
};

struct by_label {
	const char	*a;
	struct mhist	 h;
};

static pthread_mutex_t	 rare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pair	 syncs[RARE_MAX], tasks[RARE_MAX];
static size_t		 nsyncs, ntasks;
static struct by_label	 sync_time[INST_LABELS];
static size_t		 nsync_time;

/* Adds one to the pair (a, b) of t; call with rare_lock held. */
static void
pair_add(struct pair *t, size_t *n, const char *a, const char *b)
{
	size_t	i;

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].a, a) == 0 && strcmp(t[i].b, b) == 0)
			break;
	if (i == *n) {
		if (*n == RARE_MAX)
			return;
		t[i].a = a;
		t[i].b = b;
		t[i].n = 0;
		(*n)++;
	}
	t[i].n++;
}

void
metrics_sync_done(const char *institution, const char *result, double seconds)
{
	size_t	i;

	pthread_mutex_lock(&rare_lock);
	pair_add(syncs, &nsyncs, institution, result);
	for (i = 0; i < nsync_time; i++)
		if (strcmp(sync_time[i].a, institution) == 0)
			break;
	if (i == nsync_time && nsync_time < INST_LABELS)
		sync_time[nsync_time++].a = institution;
	if (i < nsync_time)
		mhist_observe(&sync_time[i].h, seconds);
	pthread_mutex_unlock(&rare_lock);
}

void
metrics_task_done(const char *kind, const char *status)
{
	pthread_mutex_lock(&rare_lock);
	pair_add(tasks, &ntasks, kind, status);
	pthread_mutex_unlock(&rare_lock);
}

static int
write_pairs(struct buf *b, const char *name, const char *la, const char *lb,
    const struct pair *t, size_t n)
{
	const char	*labels[4];
	size_t		 i;

	labels[0] = la;
	labels[2] = lb;
	for (i = 0; i < n; i++) {
		labels[1] = t[i].a;
		labels[3] = t[i].b;
		if (mx_u64(b, name, labels, 2, t[i].n) == -1)
			return -1;
	}
	return 0;
}

static int
write_rare(struct buf *b)
{
	const char	*labels[2] = { "institution", NULL };
	size_t		 i;
	int		 rc = -1;

	pthread_mutex_lock(&rare_lock);
	if (mx_family(b, "bankfeed_syncs_total", "counter",
	    "Syncs that ended on this node, by institution and result "
	    "(completed, failed, expired).") == -1 ||
	    write_pairs(b, "bankfeed_syncs_total", "institution", "result",
	    syncs, nsyncs) == -1 ||
	    mx_family(b, "bankfeed_sync_duration_seconds", "histogram",
	    "How long this node worked on a sync, from its start to its end, "
	    "by institution.") == -1)
		goto out;
	for (i = 0; i < nsync_time; i++) {
		labels[1] = sync_time[i].a;
		if (mx_hist(b, "bankfeed_sync_duration_seconds", labels, 1,
		    &sync_time[i].h) == -1)
			goto out;
	}
	if (mx_family(b, "bankfeed_tasks_finished_total", "counter",
	    "Tasks that ended on this node, by kind and status (completed, "
	    "failed, expired).") == -1 ||
	    write_pairs(b, "bankfeed_tasks_finished_total", "kind", "status",
	    tasks, ntasks) == -1)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&rare_lock);
	return rc;
}

static int
write_errors(struct buf *b)
{
	const char	*labels[4] = { "code", NULL, "name", NULL };
	char		 code[16];
	int		 i;

	if (mx_family(b, "bankfeed_errors_total", "counter",
	    "Error answers, by catalog entry (GET /v1/errors lists them).") == -1)
		return -1;
	for (i = 1; i < ERR__COUNT; i++) {
		snprintf(code, sizeof(code), "%d", err_code((enum err)i));
		labels[1] = code;
		labels[3] = err_name((enum err)i);
		if (mx_u64(b, "bankfeed_errors_total", labels, 2,
		    atomic_load_explicit(&errors[i], memory_order_relaxed)) == -1)
			return -1;
	}
	return 0;
}

/* ---- the process, from /proc ---------------------------------------- */

/* The first line of a small file, or -1. */
static int
read_line(const char *path, char *out, size_t n)
{
	FILE	*f = fopen(path, "r");
	int	 ok;

	if (f == NULL)
		return -1;
	ok = fgets(out, (int)n, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* Unix seconds the process started at: its start in ticks after boot
 * (/proc/self/stat, field 22) plus the boot time (/proc/stat, btime). */
static int
start_time(double *out)
{
	char			 line[1024], *p, *end;
	unsigned long long	 ticks = 0, btime = 0;
	long			 hz = sysconf(_SC_CLK_TCK);
	FILE			*f;
	int			 field;

	if (hz <= 0 || read_line("/proc/self/stat", line, sizeof(line)) == -1 ||
	    (p = strrchr(line, ')')) == NULL)
		return -1;
	/* Field 3 follows the command's closing parenthesis. */
	for (p++, field = 3; field <= 22; field++) {
		p += strspn(p, " ");
		ticks = strtoull(p, &end, 10);
		if (field != 3 && end == p)
			return -1;
		p = field == 3 ? p + strcspn(p, " ") : end;
	}
	if ((f = fopen("/proc/stat", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "btime ", 6) == 0) {
			btime = strtoull(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	if (btime == 0)
		return -1;
	*out = (double)btime + (double)ticks / (double)hz;
	return 0;
}

static long long
open_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	long long	 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && strtol(e->d_name, NULL, 10) != dirfd(d))
			n++;
	closedir(d);
	return n;
}

static int
write_process(struct buf *b)
{
	const char		*version[2] = { "version", BANKFEED_VERSION };
	char			 line[256], *end;
	unsigned long long	 vm, rss;
	long			 page = sysconf(_SC_PAGESIZE);
	struct rlimit		 rl;
	struct rusage		 ru;
	double			 t;
	long long		 fds;

	if (mx_family(b, "bankfeed_build_info", "gauge",
	    "Always 1; the version of the running server is its label.") == -1 ||
	    mx_u64(b, "bankfeed_build_info", version, 1, 1) == -1)
		return -1;
	if (start_time(&t) == 0 && (mx_family(b, "process_start_time_seconds",
	    "gauge", "When the process started, in unix seconds.") == -1 ||
	    mx_double(b, "process_start_time_seconds", NULL, 0, t) == -1))
		return -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0 && (mx_family(b,
	    "process_cpu_seconds_total", "counter",
	    "User and system CPU time of the process, in seconds.") == -1 ||
	    mx_double(b, "process_cpu_seconds_total", NULL, 0,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6) == -1))
		return -1;
	/* statm: the sizes in pages, total then resident. */
	if (page > 0 && read_line("/proc/self/statm", line, sizeof(line)) == 0) {
		vm = strtoull(line, &end, 10);
		rss = strtoull(end, NULL, 10);
		if (mx_family(b, "process_resident_memory_bytes", "gauge",
		    "Resident memory of the process, in bytes.") == -1 ||
		    mx_u64(b, "process_resident_memory_bytes", NULL, 0,
		    rss * (unsigned long long)page) == -1 ||
		    mx_family(b, "process_virtual_memory_bytes", "gauge",
		    "Virtual memory of the process, in bytes.") == -1 ||
		    mx_u64(b, "process_virtual_memory_bytes", NULL, 0,
		    vm * (unsigned long long)page) == -1)
			return -1;
	}
	if ((fds = open_fds()) >= 0 && (mx_family(b, "process_open_fds",
	    "gauge", "Open file descriptors.") == -1 ||
	    mx_u64(b, "process_open_fds", NULL, 0, (uint64_t)fds) == -1))
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (mx_family(b, "process_max_fds", "gauge",
	    "The most file descriptors the process may open.") == -1 ||
	    mx_u64(b, "process_max_fds", NULL, 0, (uint64_t)rl.rlim_cur) == -1))
		return -1;
	return 0;
}

int
metrics_write(struct buf *out)
{
	if (write_process(out) == -1 || write_errors(out) == -1 ||
	    write_rare(out) == -1)
		return -1;
	return 0;
}
