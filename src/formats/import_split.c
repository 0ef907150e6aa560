/*
 * import_split: `bankfeed import` of a large MT940 file, in pieces, one
 * thread each (see "Pieces" below); the output is the same to the byte
 * as the file read whole.
 */
#include "formats/import.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Pieces.  A large MT940 file (a regular file) is cut into pieces at the
 * ends of its messages, and the pieces are parsed at the same time, one
 * thread each, each into its own spool file; the document is then
 * written from them in order.  Right after an end-of-message line the
 * parser has ended its statement and skips to the next :20:, so a parse
 * started there afresh reads on as the whole-file parse would
 * (stmt_parse_piece()); it needs only the number of lines and of
 * statements before its piece, which a quick count of the pieces gives
 * before they are parsed.  The parse reports what it saw, and the two
 * are compared: a file where they differ (a control byte before a ":20:"
 * that the count does not see) is parsed again in one piece.  When a
 * piece is rejected the earliest rejected piece is the answer, with the
 * line the whole-file parse would give.
 *
 * BANKFEED_IMPORT_SPLIT_BYTES (environment) sets the size of a piece,
 * 4 MiB by default; 0 turns pieces off.  Files no larger than one piece
 * are read whole, and so is every file on a single CPU unless the
 * variable is set.
 */
#define SPLIT_ENV	"BANKFEED_IMPORT_SPLIT_BYTES"
#define SPLIT_BYTES	(4 * 1024 * 1024)
#define SPLIT_THREADS	8
#define SPLIT_PIECES	16
#define SCAN_CHUNK	(256 * 1024)
/* Read past a chunk: the whole of a line that starts in it. */
#define SCAN_LOOK	(2 * STMT_FIELD_MAX)

struct piece {
	off_t		 start, end;
	uint64_t	 lines;		/* its line ends, counted */
	size_t		 n20;		/* its lines that start a statement */
	int		 count_err;
	struct stmt_piece sp;
	struct out	 o;
	struct stmt_diag diag;
	enum stmt_rc	 rc;
};

struct split {
	int		 fd;
	const char	*path;
	dev_t		 dev;		/* the file's, to open it again */
	ino_t		 ino;
	struct piece	*p;
	size_t		 np;
	pthread_mutex_t	 lock;
	pthread_cond_t	 counted_cv;
	size_t		 next_count, ncounted, next_parse;
	size_t		 failed;	/* the first piece that failed, or np */
	int		 count_err;	/* reading failed: read the file whole */
	int		 setup_err;
	int		 strict;	/* --strict */
};

/* Reads n bytes at off into b; -1 when they are not all there. */
static int
read_at(int fd, char *b, size_t n, off_t off)
{
	ssize_t	k;

	while (n > 0) {
		if ((k = pread(fd, b, n, off)) == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

/*
 * The CR or LF at b[i] (len bytes in b): a line end unless it is the CR
 * of a CRLF, as mt940.c reads them.  A CR that is the last byte is one:
 * a piece ends with one only where no LF follows.  The line after it is
 * looked at when it starts before len.
 */
static inline void
count_end(const char *b, size_t len, size_t i, uint64_t *lines, size_t *n20)
{
	if (b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')
		return;
	(*lines)++;
	if (i + 1 < len)
		*n20 += (size_t)mt940_opens_stmt(b + i + 1, len - i - 1);
}

/*
 * Counts the line ends of a piece and its lines that start a statement,
 * reading it a chunk at a time into b (SCAN_CHUNK + SCAN_LOOK bytes).
 */
static int
count_piece(int fd, struct piece *p, char *b)
{
	off_t		 off = p->start;
	size_t		 len, n, i;
	uint64_t	 lines = 0;
	size_t		 n20 = 0;

	while (off < p->end) {
		len = (size_t)(p->end - off);
		if (len > SCAN_CHUNK + SCAN_LOOK)
			len = SCAN_CHUNK + SCAN_LOOK;
		if (read_at(fd, b, len, off) == -1)
			return -1;
		if (off == p->start)
			n20 += (size_t)mt940_opens_stmt(b, len);
		n = len < SCAN_CHUNK ? len : SCAN_CHUNK;
		i = 0;
#ifdef __SSE2__
		for (; i + 16 <= n; i += 16) {
			__m128i		x = _mm_loadu_si128((const __m128i *)
					    (const void *)(b + i));
			unsigned	m = (unsigned)_mm_movemask_epi8(
					    _mm_or_si128(
					    _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')),
					    _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));

			for (; m != 0; m &= m - 1)
				count_end(b, len, i + (size_t)__builtin_ctz(m),
				    &lines, &n20);
		}
#endif
		for (; i < n; i++)
			if (b[i] == '\n' || b[i] == '\r')
				count_end(b, len, i, &lines, &n20);
		off += (off_t)n;
	}
	p->lines = lines;
	p->n20 = n20;
	return 0;
}

/*
 * The length of the end-of-message line at s (mt940_end_mark()) with its
 * line end, or 0.  n bytes are here.
 */
static size_t
end_line_len(const char *s, size_t n)
{
	size_t	i;

	if ((i = mt940_end_mark(s, n)) == 0 || i == n)
		return 0;
	if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
		return i + 2;
	if (s[i] == '\r' && i + 1 == n)
		return 0;	/* an LF may follow: not known here */
	return i + 1;
}

/*
 * The first place in [from, to) where a piece can start: right after an
 * end-of-message line that starts at or after from and is followed by a
 * line that opens a statement, before the end of the file.  0 when there is none.  from is at least 1: the byte
 * before it says whether a line starts at from.
 */
static off_t
find_split(int fd, off_t from, off_t to, off_t size, char *b)
{
	off_t	off = from - 1;
	size_t	len, n, i, k;

	while (off < to - 1) {
		len = (size_t)(size - off);
		if (len > SCAN_CHUNK + 128)
			len = SCAN_CHUNK + 128;
		if (read_at(fd, b, len, off) == -1)
			return 0;
		n = len < SCAN_CHUNK ? len : SCAN_CHUNK;
		if ((off_t)n > to - 1 - off)
			n = (size_t)(to - 1 - off);
		for (i = 0; i < n; i++) {
			if (b[i] != '\n' && b[i] != '\r')
				continue;
			/* A line starts at i + 1 (after a CRLF's LF only). */
			if (b[i] == '\r' && i + 1 < len && b[i + 1] == '\n')
				continue;
			/*
			 * Only where a statement follows at once: a "-" before
			 * anything else may be a line of a :86: (mt940.c).
			 */
			if ((k = end_line_len(b + i + 1, len - i - 1)) > 0 &&
			    off + (off_t)(i + 1 + k) < size &&
			    mt940_opens_stmt(b + i + 1 + k, len - i - 1 - k))
				return off + (off_t)(i + 1 + k);
		}
		off += (off_t)n;
	}
	return 0;
}

/* The next piece to count or to parse, or np when there is none. */
static size_t
split_take(struct split *s, size_t *next, int parse)
{
	size_t	i;

	pthread_mutex_lock(&s->lock);
	i = *next;
	/* Past a piece that failed nothing is needed any more. */
	if (parse && (i > s->failed || s->count_err || s->setup_err))
		i = s->np;
	if (i < s->np)
		(*next)++;
	pthread_mutex_unlock(&s->lock);
	return i;
}

static void
split_parse(struct split *s, size_t i)
{
	struct piece		*p = &s->p[i];
	struct stmt_sink	 sink;
	struct stat		 st;
	FILE			*f;
	size_t			 k;

	p->sp.bytes = (uint64_t)(p->end - p->start);
	p->sp.first = i == 0;
	p->sp.last = i == s->np - 1;
	for (k = 0; k < i; k++) {
		p->sp.line0 += s->p[k].lines;
		p->sp.index0 += s->p[k].n20;
	}
	/* The piece's elements of the statements array, no bracket. */
	jw_arr(&p->o.w);
	buf_reset(&p->o.b);
	/*
	 * A FILE of its own, with its own offset and read-ahead: the file
	 * opened again (the same file: checked), at the piece's start.
	 */
	f = fopen(s->path, "rb");
	if (f == NULL || fstat(fileno(f), &st) == -1 || st.st_dev != s->dev ||
	    st.st_ino != s->ino || fseeko(f, p->start, SEEK_SET) == -1 ||
	    (p->o.ob = malloc(OB_CAP)) == NULL) {
		/* Not a parse that failed: the file is read whole instead. */
		p->rc = STMT_FAILED;
		pthread_mutex_lock(&s->lock);
		s->setup_err = 1;
		pthread_mutex_unlock(&s->lock);
	} else {
		import_sink_init(&sink, &p->o, 1);
		sink.strict = s->strict;
		p->rc = stmt_parse_piece(f, STMT_MT940, &sink, &p->diag, &p->sp);
	}
	if (f != NULL)
		fclose(f);
	if (p->rc == STMT_OK) {
		/* All of it to the spool file: memory for the next piece. */
		import_flush(&p->o);
		import_spill(&p->o);
	}
	free(p->o.ob);
	p->o.ob = NULL;
	p->o.olen = 0;
	buf_free(&p->o.b);
	if (p->rc != STMT_OK) {
		pthread_mutex_lock(&s->lock);
		if (i < s->failed)
			s->failed = i;
		pthread_mutex_unlock(&s->lock);
	}
}

/*
 * A thread: counts pieces while there are some to count, waits until
 * all are, then parses pieces while there are some to parse.
 */
static void *
split_worker(void *arg)
{
	struct split	*s = arg;
	char		*b = malloc(SCAN_CHUNK + SCAN_LOOK);
	size_t		 i;

	while ((i = split_take(s, &s->next_count, 0)) < s->np) {
		s->p[i].count_err = b == NULL ||
		    count_piece(s->fd, &s->p[i], b) == -1;
		pthread_mutex_lock(&s->lock);
		s->count_err |= s->p[i].count_err;
		if (++s->ncounted == s->np)
			pthread_cond_broadcast(&s->counted_cv);
		pthread_mutex_unlock(&s->lock);
	}
	free(b);
	pthread_mutex_lock(&s->lock);
	while (s->ncounted < s->np)
		pthread_cond_wait(&s->counted_cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	while ((i = split_take(s, &s->next_parse, 1)) < s->np)
		split_parse(s, i);
	return NULL;
}

/* The document: o's head, the pieces' statements, o's tail. */
static int
split_emit(struct out *o, size_t hlen, const struct split *s)
{
	int	out = fileno(stdout);
	size_t	i, nst = 0;

	if (fflush(stdout) != 0 || import_write_all(out, o->b.p, hlen) == -1)
		return -1;
	for (i = 0; i < s->np; i++) {
		if (s->p[i].diag.nstatements == 0)
			continue;
		if ((nst > 0 && import_write_all(out, ",", 1) == -1) ||
		    import_emit_spool(out, s->p[i].o.spool) == -1)
			return -1;
		nst += s->p[i].diag.nstatements;
	}
	return import_write_all(out, o->b.p + hlen, o->b.len - hlen);
}

/*
 * Cuts the file of in into pieces where it can (see "Pieces" above) and
 * imports them in threads, into o (the document's head and tail).
 * Returns 0 with *status when it did, -1 when the file is to be read in
 * one piece (too small, not a regular file, no place to cut, or counts
 * that disagree with the parse); nothing has been written then.
 */
int
import_split(FILE *in, const char *path, int strict, struct out *o,
    int *status)
{
	struct split	 s;
	struct stat	 st;
	const char	*env = getenv(SPLIT_ENV);
	char		*end, *b = NULL;
	unsigned long long piece = SPLIT_BYTES;
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t	 tid[SPLIT_THREADS];
	size_t		 i, nthreads, nt = 0, want, hlen, nst = 0, ntx = 0;
	uint64_t	 lines = 0;
	off_t		 cut, prev = 0;
	struct stmt_warning w;
	int		 rv = -1;

	memset(&s, 0, sizeof(s));
	if (env != NULL && (*env < '0' || *env > '9'))
		env = NULL;	/* not a number: as if unset */
	if (env != NULL) {
		errno = 0;
		piece = strtoull(env, &end, 10);
		if (errno != 0 || *end != '\0')
			piece = SPLIT_BYTES;
	}
	nthreads = ncpu < 1 ? 1 : ncpu > SPLIT_THREADS ? SPLIT_THREADS :
	    (size_t)ncpu;
	if (piece == 0 || (nthreads < 2 && env == NULL) ||
	    fstat(fileno(in), &st) == -1 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size <= piece)
		return -1;
	want = (size_t)(((unsigned long long)st.st_size + piece - 1) / piece);
	if (want > SPLIT_PIECES)
		want = SPLIT_PIECES;
	if ((s.p = calloc(want, sizeof(*s.p))) == NULL ||
	    (b = malloc(SCAN_CHUNK + 128)) == NULL)
		goto out;
	for (i = 0; i < want; i++)
		import_out_init(&s.p[i].o);
	s.fd = fileno(in);
	s.path = path;
	s.strict = strict;
	s.dev = st.st_dev;
	s.ino = st.st_ino;
	/* A cut near each i/want of the file, where one can be made. */
	for (i = 1; i <= want; i++) {
		cut = i == want ? st.st_size : find_split(s.fd,
		    (off_t)((unsigned long long)st.st_size * (i) / want),
		    (off_t)((unsigned long long)st.st_size * (i + 1) / want),
		    st.st_size, b);
		if (cut <= prev)
			continue;
		s.p[s.np].start = prev;
		s.p[s.np].end = cut;
		prev = cut;
		s.np++;
	}
	free(b);
	b = NULL;
	if (s.np < 2)
		goto out;
	s.failed = s.np;
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.counted_cv, NULL);
	if (nthreads > s.np)
		nthreads = s.np;
	/* This thread is one of them. */
	for (nt = 0; nt + 1 < nthreads; nt++)
		if (pthread_create(&tid[nt], NULL, split_worker, &s) != 0)
			break;
	split_worker(&s);
	for (i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_cond_destroy(&s.counted_cv);
	pthread_mutex_destroy(&s.lock);
	if (s.count_err || s.setup_err)
		goto out;

	/* The counts the pieces started from, against what was parsed. */
	for (i = 1; i < s.np && i <= s.failed; i++) {
		lines += s.p[i - 1].sp.nlines;
		nst += s.p[i - 1].diag.nstatements;
		if (s.p[i].sp.line0 != lines || s.p[i].sp.index0 != nst)
			goto out;
	}
	rv = 0;
	*status = 1;
	if (s.failed < s.np) {
		import_parse_failed(path, s.p[s.failed].rc, &s.p[s.failed].diag,
		    &s.p[s.failed].o);
		goto out;
	}
	nst = 0;
	for (i = 0; i < s.np; i++) {
		struct out	*po = &s.p[i].o;

		if (po->err) {
			fprintf(stderr, "bankfeed import: writing the output "
			    "failed\n");
			goto out;
		}
		nst += s.p[i].diag.nstatements;
		ntx += s.p[i].diag.ntxns;
		for (size_t k = 0; k < po->nkept; k++) {
			w.format = STMT_MT940;
			w.code = po->kept[k].code;
			w.line = po->kept[k].line;
			w.message = po->kept_msgs.p + po->kept[k].off;
			import_on_warning(o, &w);
		}
		o->nwarn += po->nwarn - po->nkept;
	}
	hlen = o->b.len;
	import_doc_tail(o, nst, ntx);
	if (jw_finish(&o->w) == -1) {
		fprintf(stderr, "bankfeed import: %s: output too large\n", path);
		goto out;
	}
	if (split_emit(o, hlen, &s) == -1) {
		fprintf(stderr, "bankfeed import: writing the output failed\n");
		goto out;
	}
	*status = 0;
out:
	free(b);
	if (s.p != NULL)
		for (i = 0; i < want; i++)
			import_out_free(&s.p[i].o);
	free(s.p);
	return rv;
}

