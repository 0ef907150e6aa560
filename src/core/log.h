/*
 * log: one line per event, logfmt style (key=value), so a line can be
 * grepped and parsed; with --log-format json, the same pairs as one JSON
 * object per line.  Lines go to stderr, or are appended to --log-file,
 * which log_reopen() opens again under its name (SIGHUP, for logrotate).
 * Never pass a secret, a token or a request body.
 */
#ifndef BF_LOG_H
#define BF_LOG_H

#include <stddef.h>

struct buf;

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/*
 * Sets the log up from the settings: the level's name, the format ("text"
 * or "json"), the file ("" for stderr; else opened for appending, created
 * 0600) and how many lines a second unauthenticated peers may cause (0: no
 * limit; see log_peer).  0, or -1 after saying why on stderr.
 */
int	log_init(const char *level, const char *format, const char *file,
	    long long peer_rate);
/* Opens the log file again under its name; stays on the old one on failure. */
void	log_reopen(void);
/*
 * Call often (the server: every 20 ms): writes out buffered access lines
 * that waited long enough, and once a second how many peer lines were
 * dropped since, if any (one line, "suppressed=N").
 */
void	log_tick(void);
/* log_tick(), flushes, then closes the log file; later lines go to stderr. */
void	log_close(void);

void	log_set_level(enum log_level);
int	log_level_parse(const char *, enum log_level *);
int	log_enabled(enum log_level);
void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * A line a network peer causes (a request's access line, the error line of
 * a request that failed inside bankfeed).  When the peer is not authenticated it
 * spends one token of a bucket shared by all such lines, refilled at the
 * peer rate of log_init(); with none left, the line is only counted, for
 * log_tick().  Authenticated peers' lines are always written: the lever a
 * flood of anonymous requests has on the disk is bounded.
 */
void	log_peer(enum log_level, int authenticated, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * A request's access line: log_peer(LOG_INFO, ...), but buffered for at
 * most 20 ms, so a busy server writes its access log in blocks.
 */
void	log_access(int authenticated, const char *fmt, ...)
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

/*
 * Appends the logfmt text s (n bytes, or up to a NUL) to out as one JSON
 * object: each key=value a member (keys of letters, digits and "_-."),
 * values bare or "quoted" (\" and \\ escaped; an unescaped quote ends the
 * value only before a space or the end), bare numbers that fit an int64 or
 * a double without exponent as numbers.  Other words (and pairs past the
 * 64th) go into a "text" member; a repeated key becomes key_2, key_3...
 * 0, or -1 when out is full.
 */
int	log_json(const char *s, size_t n, struct buf *out);

/* RFC 3339 UTC timestamp of unix seconds into out (at least 21 bytes). */
void	time_rfc3339(long long secs, char *out, unsigned long n);

#endif
