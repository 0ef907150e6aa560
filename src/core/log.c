#include "core/log.h"

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

#include "core/clock.h"

static enum log_level level = LOG_INFO;
/* stderr, or the log file: log_reopen() replaces the file under this fd. */
static int	 log_fd = STDERR_FILENO;
static char	*log_path;

/* The token bucket of log_peer(): its size is one second's worth. */
static pthread_mutex_t	 peer_lock = PTHREAD_MUTEX_INITIALIZER;
static double		 peer_rate, peer_burst, peer_tokens, peer_last;
static unsigned long long peer_dropped;

static const char *const names[] = { "error", "warn", "info", "debug" };

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
log_init(const char *lvl, const char *file, long long peer_per_s)
{
	int	fd;

	if (log_level_parse(lvl, &level) == -1) {
		fprintf(stderr, "bankfeed: unknown log level \"%s\"\n", lvl);
		return -1;
	}
	peer_rate = (double)peer_per_s;
	peer_burst = peer_rate < 1 ? 1 : peer_rate;
	peer_tokens = peer_burst;
	peer_last = clock_mono_s();
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
	unsigned long long	n;

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

/* One write(2) per line: lines stay whole when threads log at once. */
static void
put_line(const char *p, size_t n)
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

static void
log_vmsg(enum log_level l, const char *fmt, va_list ap)
{
	char		 line[2048], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	size_t		 len, i;
	int		 n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ level=%s ", ts,
	    now.tv_nsec / 1000000, names[l]);
	/* One byte is kept for the newline. */
	if (n > 0 && (size_t)n < sizeof(line) - 1)
		vsnprintf(line + n, sizeof(line) - 1 - (size_t)n, fmt, ap);
	len = strlen(line);
	/* A value with a newline must not start a line of its own. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
	line[len++] = '\n';
	put_line(line, len);
}

void
log_msg(enum log_level l, const char *fmt, ...)
{
	va_list	ap;

	if (l > level)
		return;
	va_start(ap, fmt);
	log_vmsg(l, fmt, ap);
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
	now = clock_mono_s();
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
	log_vmsg(l, fmt, ap);
	va_end(ap);
}
