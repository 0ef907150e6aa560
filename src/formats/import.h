/*
 * import.h: what `bankfeed import` (import.c) and its reading of a large
 * MT940 file in pieces (import_split.c) share, internal to src/formats.
 */
#ifndef BF_IMPORT_H
#define BF_IMPORT_H

#include <stdio.h>

#include "core/buf.h"
#include "core/jw.h"
#include "formats/fmt.h"

#define OUT_MAX		(4 * 1024 * 1024)	/* one transaction fits */
#define OUT_FLUSH	(256 * 1024)
#define OUT_KEEP	(1024 * 1024)		/* held in memory up to this */
#define TAIL_MAX	(1024 * 1024)		/* warnings, listed accounts */
#define MAX_LISTED	1000

/*
 * The worst case of one transaction's JSON: its strings escaped (six
 * bytes per byte at most), the fixed keys and numbers.  Every string of
 * a record is bounded by the parsers' limits.
 */
#define TXN_STRINGS	(STMT_TEXT_MAX + 14 * STMT_FIELD_MAX)
#define TXN_JSON_MAX	(JSON_ESCAPED_MAX(TXN_STRINGS) + 64 * 15 + 1024)

/* The held-back output: what one spill to the spool holds at most. */
#define OB_CAP		(OUT_KEEP + TXN_JSON_MAX)

/* A warning of a piece, kept for the listing (see on_warning_kept()). */
struct kept {
	enum stmt_warn	 code;
	uint64_t	 line;
	size_t		 off;		/* of the message in kept_msgs */
};

/*
 * The document is written by jw into b, a staging area that each
 * callback moves on into ob (flush), except the transactions: those go
 * straight into ob, the hot path.  ob goes on to the spool file.
 */
struct out {
	int		 spool;		/* the held-back JSON, -1 while in ob */
	char		*ob;		/* OB_CAP bytes */
	size_t		 olen;
	struct buf	 b;
	struct jw	 w;
	int		 err;
	struct buf	 warnings;	/* rendered JSON objects, comma-joined */
	size_t		 nwarn, nwarn_listed;
	struct buf	 accounts;
	size_t		 nacct;
	/* A piece's warnings, kept to be listed in file order at the end. */
	struct kept	*kept;		/* MAX_LISTED, allocated at the first */
	size_t		 nkept;
	struct buf	 kept_msgs;	/* their messages, NUL-terminated */
};

/* import.c: the held-back output and the sink that writes it. */
void	import_out_init(struct out *);
void	import_out_free(struct out *);
/* Writes n bytes to fd, all of them; -1 on failure. */
int	import_write_all(int fd, const char *p, size_t n);
/* Moves what ob holds to the spool file (made at the first). */
void	import_spill(struct out *);
/* Moves what jw wrote into b on into ob. */
void	import_flush(struct out *);
/* Copies the spool file fd to the file out; -1 on failure. */
int	import_emit_spool(int out, int fd);
/* The sink writing into o; a piece's keeps its warnings to list later. */
void	import_sink_init(struct stmt_sink *, struct out *, int piece);
/* The document's end: counts, warnings, listed accounts. */
void	import_doc_tail(struct out *, size_t nstatements, size_t ntxns);
/* Says on stderr why the file at path was not imported. */
void	import_parse_failed(const char *path, enum stmt_rc,
	    const struct stmt_diag *, const struct out *);
/* The sink's warning(): listed up to MAX_LISTED, all counted. */
int	import_on_warning(void *arg, const struct stmt_warning *);

/*
 * import_split.c: reads the MT940 file in into pieces in threads, the
 * document (after the head hlen bytes already in o) written in o.
 * Returns 0 with *status set when it did, -1 when the file is to be
 * read whole.
 */
int	import_split(FILE *in, const char *path, int strict, struct out *o,
	    int *status);

#endif
