#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/jw.h"

static enum log_level level = LOG_INFO;
static int	 json_lines;
/* stderr, or the log file: log_reopen() replaces the file under this fd. */
static int	 log_fd = STDERR_FILENO;
static char	*log_path;

/* The token bucket of log_peer(): its size is one second's worth. */
static pthread_mutex_t	 peer_lock = PTHREAD_MUTEX_INITIALIZER;
static double		 peer_rate, peer_burst, peer_tokens, peer_last;
static unsigned long long peer_dropped;

static const char *const names[] = { "error", "warn", "info", "debug" };

static void	acc_flush(int force);

/* Pairs a JSON line takes as members; the rest go into its "text". */
#define LOG_JSON_MEMBERS	64

void
log_set_level(enum log_level l)
{
	level = l;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	unsigned	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_enabled(enum log_level l)
{
	return l <= level;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

int
log_init(const char *lvl, const char *format, const char *file,
    long long peer_per_s)
{
	int	fd;

	if (log_level_parse(lvl, &level) == -1) {
		fprintf(stderr, "bankfeed: unknown log level \"%s\"\n", lvl);
		return -1;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		fprintf(stderr, "bankfeed: unknown log format \"%s\" (text or "
		    "json)\n", format);
		return -1;
	}
	json_lines = strcmp(format, "json") == 0;
	peer_rate = (double)peer_per_s;
	peer_burst = peer_rate < 1 ? 1 : peer_rate;
	peer_tokens = peer_burst;
	peer_last = clock_mono();
	if (*file == '\0')
		return 0;
	if ((fd = open_file(file)) == -1 || (log_path = strdup(file)) == NULL) {
		fprintf(stderr, "bankfeed: cannot open the log file %s: %s\n",
		    file, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	log_fd = fd;
	log_warn_exposed(file);
	return 0;
}

void
log_reopen(void)
{
	int	fd;

	if (log_path == NULL)
		return;
	acc_flush(1);
	/* dup2 swaps the file under the fd at once: no line is lost or torn. */
	if ((fd = open_file(log_path)) == -1 || dup2(fd, log_fd) == -1) {
		log_error("msg=\"cannot reopen the log file\" path=\"%s\" "
		    "reason=\"%s\"", log_path, strerror(errno));
		if (fd != -1)
			close(fd);
		return;
	}
	close(fd);
	log_info("msg=\"log file reopened\" path=\"%s\"", log_path);
	log_warn_exposed(log_path);
}

void
log_tick(void)
{
	static double		last;
	unsigned long long	n;
	double			now = clock_mono();

	acc_flush(0);
	if (now - last < 1.0)
		return;
	last = now;
	pthread_mutex_lock(&peer_lock);
	n = peer_dropped;
	peer_dropped = 0;
	pthread_mutex_unlock(&peer_lock);
	if (n > 0)
		log_warn("msg=\"lines of unauthenticated requests over the log "
		    "rate limit were dropped\" suppressed=%llu limit_per_s=%g",
		    n, peer_rate);
}

void
log_close(void)
{
	log_tick();
	acc_flush(1);
	if (log_path == NULL)
		return;
	close(log_fd);
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
}

void
log_warn_exposed(const char *path)
{
	struct stat	st;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("msg=\"open to other users: chmod go= it\" path=\"%s\" "
		    "mode=%04o", path, (unsigned)(st.st_mode & 07777));
}

void
time_rfc3339(long long secs, char *out, unsigned long n)
{
	time_t		t = (time_t)secs;
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Bare values JSON readers take as numbers: -?(0|[1-9]\d{0,17})(\.\d+)? */
static int
is_number(const char *v, size_t n)
{
	size_t	i = 0, int_digits, frac_digits = 1;

	if (n > 0 && v[0] == '-')
		i++;
	for (int_digits = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
		int_digits++;
	if (i < n && v[i] == '.')
		for (i++, frac_digits = 0; i < n && v[i] >= '0' && v[i] <= '9';
		    i++)
			frac_digits++;
	return i == n && int_digits >= 1 && int_digits <= 18 &&
	    frac_digits >= 1 && n <= 40 && !(int_digits > 1 &&
	    v[v[0] == '-'] == '0');
}

/*
 * Turns the key in k into a name not yet in seen ("a\0b\0...", len bytes
 * in all) by appending _2, _3...; then adds it to seen.  0 or -1.
 */
static int
unique_key(struct buf *seen, struct buf *k, const char *key, size_t n)
{
	const char	*p;
	unsigned	 i;
	int		 taken = 1;

	for (i = 1; taken; i++) {
		buf_reset(k);
		if (buf_add(k, key, n) == -1 ||
		    (i > 1 && buf_printf(k, "_%u", i) == -1))
			return -1;
		taken = 0;
		for (p = buf_str(seen); !taken && p < buf_str(seen) + seen->len;
		    p += strlen(p) + 1)
			taken = strcmp(p, buf_str(k)) == 0;
	}
	return buf_add(seen, buf_str(k), k->len + 1);
}

int
log_json(const char *s, size_t n, struct buf *out)
{
	struct buf	 seen, k, v, text;
	struct jw	 w;
	size_t		 i = 0, start, members = 0;
	int		 quoted, rc = -1;

	n = strnlen(s, n);	/* a line is a C string */
	buf_init(&seen, 4 * n + 64);
	buf_init(&k, n + 32);
	buf_init(&v, n + 1);
	buf_init(&text, n + 1);
	jw_init(&w, out);
	jw_obj(&w);
	while (i < n) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		/* Keys are names (jw_key writes them as they are). */
		for (start = i; i < n && (isalnum((unsigned char)s[i]) ||
		    s[i] == '_' || s[i] == '-' || s[i] == '.'); i++)
			;
		if (i == start || i == n || s[i] != '=' ||
		    members == LOG_JSON_MEMBERS) {
			/* A word of its own, not a pair. */
			while (i < n && s[i] != ' ')
				i++;
			if ((text.len > 0 && buf_addc(&text, ' ') == -1) ||
			    buf_add(&text, s + start, i - start) == -1)
				goto out;
			continue;
		}
		if (unique_key(&seen, &k, s + start, i - start) == -1)
			goto out;
		members++;
		buf_reset(&v);
		quoted = ++i < n && s[i] == '"';
		if (quoted) {
			for (i++; i < n; i++) {
				if (s[i] == '\\' && i + 1 < n &&
				    (s[i + 1] == '"' || s[i + 1] == '\\'))
					i++;
				else if (s[i] == '"' && (i + 1 == n ||
				    s[i + 1] == ' ')) {
					i++;
					break;
				}
				if (buf_addc(&v, s[i]) == -1)
					goto out;
			}
		} else {
			for (start = i; i < n && s[i] != ' '; i++)
				;
			if (buf_add(&v, s + start, i - start) == -1)
				goto out;
		}
		jw_key(&w, buf_str(&k));
		if (!quoted && is_number(buf_str(&v), v.len))
			jw_raw(&w, buf_str(&v), v.len);
		else
			jw_strn(&w, buf_str(&v), v.len);
	}
	if (text.len > 0) {
		if (unique_key(&seen, &k, "text", 4) == -1)
			goto out;
		jw_key(&w, buf_str(&k));
		jw_strn(&w, buf_str(&text), text.len);
	}
	jw_obj_end(&w);
	rc = jw_finish(&w);
out:
	buf_free(&seen);
	buf_free(&k);
	buf_free(&v);
	buf_free(&text);
	return rc;
}

/* Writes n bytes whole, or as much as the file takes. */
static void
write_all(const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(log_fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/*
 * Access lines are buffered: one write(2) per line on a busy server costs
 * a system call and the file's lock per request, which took 40 % of the
 * read path's throughput (docs/performance.md).  Lines wait at most
 * ACC_FLUSH_MS (log_tick() flushes too, and every other line first
 * flushes them, so lines keep their order); whole lines only, so a reader
 * never sees half of one.  What a crash loses is at most that long.
 */
#define ACC_BUF		65536
#define ACC_FLUSH_MS	20

static pthread_mutex_t	 acc_lock = PTHREAD_MUTEX_INITIALIZER;
static char		 acc_buf[ACC_BUF];
static size_t		 acc_len;
static double		 acc_since;	/* clock_mono() of the oldest line in it */

static void
acc_flush_locked(void)
{
	if (acc_len > 0)
		write_all(acc_buf, acc_len);
	acc_len = 0;
}

/* Flushes buffered access lines older than ACC_FLUSH_MS (all when force). */
static void
acc_flush(int force)
{
	pthread_mutex_lock(&acc_lock);
	if (acc_len > 0 && (force || clock_mono() - acc_since >=
	    ACC_FLUSH_MS / 1000.0))
		acc_flush_locked();
	pthread_mutex_unlock(&acc_lock);
}

/* One line out: buffered (access lines) or written at once, whole. */
static void
put_line(const char *p, size_t n, int buffered)
{
	double	now;

	pthread_mutex_lock(&acc_lock);
	if (!buffered || n > ACC_BUF) {
		/* Earlier buffered lines first: the file keeps the order. */
		acc_flush_locked();
		write_all(p, n);
		pthread_mutex_unlock(&acc_lock);
		return;
	}
	now = clock_mono();
	if (acc_len + n > ACC_BUF)
		acc_flush_locked();
	if (acc_len == 0)
		acc_since = now;
	memcpy(acc_buf + acc_len, p, n);
	acc_len += n;
	if (now - acc_since >= ACC_FLUSH_MS / 1000.0)
		acc_flush_locked();
	pthread_mutex_unlock(&acc_lock);
}

static void
log_vmsg(enum log_level l, int buffered, const char *fmt, va_list ap)
{
	char		 line[2048], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	struct buf	 b;
	size_t		 len, i;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	/* The same pairs either way; JSON names the timestamp too. */
	n = snprintf(line, sizeof(line), "%s%s.%03ldZ level=%s ",
	    json_lines ? "ts=" : "", ts, now.tv_nsec / 1000000, names[l]);
	/* One byte is kept for the newline. */
	if (n > 0 && (size_t)n < sizeof(line) - 1)
		vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	len = strlen(line);
	if (json_lines) {
		buf_init(&b, 64u << 10);
		if (log_json(line, len, &b) == 0 && buf_addc(&b, '\n') == 0)
			put_line(buf_str(&b), b.len, buffered);
		buf_free(&b);
		return;
	}
	/* A value with a newline must not start a line of its own. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	line[len++] = '\n';
	put_line(line, len, buffered);
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	va_list	ap;

	if (l > level)
		return;
	va_start(ap, fmt);
	log_vmsg(l, 0, fmt, ap);
	va_end(ap);
}

/* Whether an unauthenticated peer's line may be written now (else counted). */
static int
peer_line_allowed(void)
{
	double	now;
	int	ok;

	if (peer_rate <= 0)
		return 1;
	pthread_mutex_lock(&peer_lock);
	now = clock_mono();
	peer_tokens += (now - peer_last) * peer_rate;
	if (peer_tokens > peer_burst)
		peer_tokens = peer_burst;
	peer_last = now;
	if ((ok = peer_tokens >= 1.0))
		peer_tokens -= 1.0;
	else
		peer_dropped++;
	pthread_mutex_unlock(&peer_lock);
	return ok;
}

void
log_peer(enum log_level l, int authenticated, const char *fmt, ...)
{
	va_list	ap;

	if (l > level || (!authenticated && !peer_line_allowed()))
		return;
	va_start(ap, fmt);
	log_vmsg(l, 0, fmt, ap);
	va_end(ap);
}

void
log_access(int authenticated, const char *fmt, ...)
{
	va_list	ap;

	if (LOG_INFO > level || (!authenticated && !peer_line_allowed()))
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_INFO, 1, fmt, ap);
	va_end(ap);
}
