/*
 * log: one line per event on stderr, logfmt style (key=value), so a line can
 * be grepped and parsed.  Never pass a secret, a token or a request body.
 */
#ifndef BF_LOG_H
#define BF_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void	log_set_level(enum log_level);
int	log_level_parse(const char *, enum log_level *);
int	log_enabled(enum log_level);
void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * Warns when path (a file or a directory) lets its group or other users in
 * at all: the data dir holds the master key and every bank secret.
 */
void	log_warn_exposed(const char *path);

/* RFC 3339 UTC timestamp of unix seconds into out (at least 21 bytes). */
void	time_rfc3339(long long secs, char *out, unsigned long n);

#endif
