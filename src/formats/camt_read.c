/*
 * camt_read: the two readings of a camt file, which feed the same
 * element handlers (camt053.c): libxml2's SAX2 push parser, no node
 * built, for a plain good file; libxml2's xmlTextReader, the reference,
 * for everything else (see "Two readings" at the end).
 */
#include "formats/camt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int
readcb(void *arg, char *b, int len)
{
	struct cx	*x = arg;
	size_t		 n = fread(b, 1, (size_t)len, x->in);

	if (n == 0 && ferror(x->in))
		return -1;
	return (int)n;
}

/* libxml2's messages go to the diag, never to stderr. */
static void
quiet(void *arg, const char *msg, ...)
{
	(void)arg;
	(void)msg;
}

static void
errcb(void *arg, xmlErrorPtr e)
{
	struct cx	*x = arg;
	size_t		 n;

	if (e == NULL || x->xerr[0] != '\0' || e->level < XML_ERR_ERROR)
		return;
	fmt_copy(x->xerr, sizeof(x->xerr), e->message != NULL ? e->message :
	    "XML error");
	n = strlen(x->xerr);
	while (n > 0 && (x->xerr[n - 1] == '\n' || x->xerr[n - 1] == ' '))
		x->xerr[--n] = '\0';
	x->xerr_line = e->line;
}


/*
 * The reading with libxml2's xmlTextReader: the reference, used for what
 * the SAX pass leaves to it.
 */
static enum stmt_rc
parse_reader(FILE *in, struct fmt_ctx *c)
{
	struct cx	 x;
	enum stmt_rc	 rc = STMT_OK;
	int		 ret, type;
	const char	*name;

	camt_cx_init(&x, c, in);
	fmt_stmt_reset(c);
	x.r = xmlReaderForIO(readcb, NULL, &x, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS |
	    XML_PARSE_BIG_LINES);
	if (x.r == NULL) {
		rc = fmt_failed(c, "cannot create the XML reader");
		goto out;
	}
	xmlTextReaderSetStructuredErrorHandler(x.r, errcb, &x);
	while ((ret = xmlTextReaderRead(x.r)) == 1) {
		type = xmlTextReaderNodeType(x.r);
		switch (type) {
		case XML_READER_TYPE_ELEMENT: {
			const xmlChar	*ns = NULL;
			xmlChar		*ccy = NULL;

			name = (const char *)xmlTextReaderConstLocalName(x.r);
			if (name == NULL)
				name = "";
			if (x.depth == 0)
				ns = xmlTextReaderConstNamespaceUri(x.r);
			if (camt_is_amt(name, strlen(name)))
				ccy = xmlTextReaderGetAttribute(x.r,
				    (const xmlChar *)"Ccy");
			rc = camt_el_start(&x, name, (const char *)ns,
			    (const char *)ccy);
			xmlFree(ccy);
			if (rc != STMT_OK)
				goto out;
			if (xmlTextReaderIsEmptyElement(x.r) &&
			    (rc = camt_el_end(&x)) != STMT_OK)
				goto out;
			break;
		}
		case XML_READER_TYPE_END_ELEMENT:
			if ((rc = camt_el_end(&x)) != STMT_OK)
				goto out;
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
			const char	*v = (const char *)
					    xmlTextReaderConstValue(x.r);

			/*
			 * Only a field's text is kept; of any other element
			 * only its length, for the same limit.
			 */
			if (v != NULL && !x.want_text) {
				x.skipped += strlen(v);
				if (x.text.len + x.skipped <= STMT_TEXT_MAX)
					break;
			}
			if (v != NULL && (!x.want_text ||
			    buf_add(&x.text, v, strlen(v)) == -1)) {
				rc = fmt_reject(c, lineno(&x), "text longer than "
				    "%d bytes in <%s>", STMT_TEXT_MAX,
				    x.path.p != NULL ? x.path.p : "");
				goto out;
			}
			break;
		}
		case XML_READER_TYPE_DOCUMENT_TYPE:
			rc = fmt_reject(c, lineno(&x), "a DOCTYPE is not allowed "
			    "in a camt.053 document (entities are refused)");
			goto out;
		case XML_READER_TYPE_ENTITY_REFERENCE:
			rc = fmt_reject(c, lineno(&x), "entity references are "
			    "not allowed");
			goto out;
		default:
			break;
		}
	}
	if (ret != 0 || x.xerr[0] != '\0') {
		if (ferror(in))
			rc = fmt_failed(c, "read error");
		else if (feof(in) && x.depth > 0)
			rc = fmt_reject(c, lineno(&x), "the file ends inside "
			    "<%s>: truncated", x.path.p + (x.depth > 2 ?
			    x.rel : 0));
		else
			rc = fmt_reject(c, x.xerr_line > 0 ?
			    (uint64_t)x.xerr_line : lineno(&x),
			    "not well-formed XML: %s", x.xerr[0] ? x.xerr :
			    "the document ends early");
		goto out;
	}
	if (!x.seen_root) {
		rc = fmt_reject(c, 1, "no XML document found");
		goto out;
	}
	if (!x.seen_stmt)
		rc = fmt_reject(c, x.root_line ? x.root_line : lineno(&x),
		    "no <%s> in the document: a "
		    "%s %s needs at least one", camt_msgs[x.msg].stmt,
		    camt_msgs[x.msg].human, camt_msgs[x.msg].root);
out:
	camt_cx_free(&x);
	return rc;
}

/*
 * The SAX pass.  The handlers get the parser context (its _private is the
 * struct cx) and stop it with x->halt set when the reading is better left
 * to the reader: whatever is not a clean, plain document (any XML error,
 * a DOCTYPE, an entity, a comment or processing instruction inside the
 * root, an xml:id, a Ccy holding an entity) and every rejection.
 */
static void
sax_halt(struct cx *x)
{
	x->halt = 1;
	xmlStopParser(x->p);
}

/* A handler's answer: on anything but STMT_OK the pass is over. */
static void
sax_rc(struct cx *x, enum stmt_rc rc)
{
	if (rc == STMT_OK)
		return;
	if (rc == STMT_REJECTED)
		x->halt = 1;		/* the reader finds what and where */
	else
		x->rc = rc;		/* the sink's or memory's: final */
	xmlStopParser(x->p);
}

/* A new run of text starts (after a tag). */
static void
run_reset(struct cx *x)
{
	x->run_text = 0;
	x->run_len = 0;
	buf_reset(&x->ws);
}

static int
all_blank(const xmlChar *s, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* The reader's handling of a text node's worth, piece by piece. */
static enum stmt_rc
sax_text(struct cx *x, const char *v, size_t n)
{
	if (!x->want_text) {
		x->skipped += n;
		if (x->text.len + x->skipped <= STMT_TEXT_MAX)
			return STMT_OK;
		return STMT_REJECTED;
	}
	if (buf_add(&x->text, v, n) == -1)
		return STMT_REJECTED;
	return STMT_OK;
}

/*
 * Text, in pieces.  The reader (XML_PARSE_NOBLANKS) passes on no text
 * made only of blanks unless xml:space="preserve" holds: such a run is
 * kept aside until a non-blank piece shows it is text.  (The reader may
 * also drop the blanks that start a run of text; kept here, they are
 * leading blanks of the element's text, which is trimmed, and count only
 * against its length limit, whose rejection goes to the reader anyway.)
 */
static void
sax_chars(void *ctx, const xmlChar *ch, int len)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	if (x->halt || x->rc != STMT_OK)
		return;
	x->run_len += (size_t)len;
	if (x->run_len > CAMT_RUN_MAX) {
		sax_halt(x);
		return;
	}
	if (!x->run_text) {
		if ((p->space == NULL || *p->space != 1) && all_blank(ch, len)) {
			if (buf_add(&x->ws, (const char *)ch, (size_t)len) == -1)
				sax_halt(x);
			return;
		}
		x->run_text = 1;
		if (x->ws.len > 0 &&
		    sax_text(x, x->ws.p, x->ws.len) != STMT_OK) {
			sax_halt(x);
			return;
		}
	}
	if (sax_text(x, (const char *)ch, (size_t)len) != STMT_OK)
		sax_halt(x);
}

static void
sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;
	const char		*name = (const char *)localname;
	char			 ccy[4];
	const char		*ccyp = NULL;
	int			 i, line;

	(void)prefix;
	(void)nb_namespaces;
	(void)namespaces;
	if (x->halt || x->rc != STMT_OK)
		return;
	if (nb_defaulted != 0) {
		sax_halt(x);
		return;
	}
	run_reset(x);
	for (i = 0; i < nb_attributes; i++) {
		const xmlChar	**a = attrs + 5 * i;	/* local, prefix, URI,
							   value, end */
		size_t		  n = (size_t)(a[4] - a[3]);

		if (a[1] != NULL && strcmp((const char *)a[1], "xml") == 0 &&
		    strcmp((const char *)a[0], "id") == 0) {
			sax_halt(x);	/* the reader's tree checks it */
			return;
		}
		if (a[2] == NULL && ccyp == NULL &&
		    strcmp((const char *)a[0], "Ccy") == 0) {
			/* &amp; comes as "&#38;" here: left to the reader. */
			if (memchr(a[3], '&', n) != NULL) {
				sax_halt(x);
				return;
			}
			if (n > sizeof(ccy) - 1)
				n = sizeof(ccy) - 1;
			memcpy(ccy, a[3], n);
			ccy[n] = '\0';
			ccyp = ccy;
		}
	}
	/* The reader's line of an element: where its start tag ends. */
	line = p->input != NULL ? p->input->line : 0;
	x->line = line > 0 ? (uint64_t)line : 0;
	if (!camt_is_amt(name, strlen(name)))
		ccyp = NULL;
	sax_rc(x, camt_el_start(x, name, (const char *)uri, ccyp));
	if (x->depth > 0)
		x->sline[x->depth] = x->line;
}

static void
sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	(void)localname;
	(void)prefix;
	(void)uri;
	if (x->halt || x->rc != STMT_OK)
		return;
	run_reset(x);
	x->line = x->sline[x->depth];
	sax_rc(x, camt_el_end(x));
}

/* A comment or PI inside the root splits the reader's text nodes. */
static void
sax_comment(void *ctx, const xmlChar *value)
{
	xmlParserCtxtPtr	 p = ctx;
	struct cx		*x = p->_private;

	(void)value;
	if (x->depth > 0)
		sax_halt(x);
}

static void
sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	(void)data;
	sax_comment(ctx, target);
}

static void
sax_refuse(void *ctx, const xmlChar *name, const xmlChar *a, const xmlChar *b)
{
	xmlParserCtxtPtr	 p = ctx;

	(void)name;
	(void)a;
	(void)b;
	sax_halt(p->_private);
}

static void
sax_reference(void *ctx, const xmlChar *name)
{
	sax_refuse(ctx, name, NULL, NULL);
}

static xmlEntityPtr
sax_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static void
sax_error(void *arg, xmlErrorPtr e)
{
	xmlParserCtxtPtr	 p = arg;

	if (e != NULL && e->level >= XML_ERR_ERROR && p != NULL &&
	    p->_private != NULL)
		sax_halt(p->_private);
}

/*
 * The whole file in 64 KB reads through the SAX2 push parser; STMT_OK
 * and the rest as camt053_parse(), or -1: left to the reader, which must
 * then read the file again (the sink calls made so far in x->c->ncalls).
 */
static int
parse_sax(FILE *in, struct fmt_ctx *c)
{
	xmlSAXHandler	 h;
	struct cx	 x;
	char		*b;
	size_t		 n;
	int		 ret;

	if ((b = malloc(CAMT_CHUNK)) == NULL)
		return fmt_failed(c, "out of memory");
	memset(&h, 0, sizeof(h));
	xmlSAXVersion(&h, 2);
	h.startDocument = NULL;
	h.endDocument = NULL;
	h.internalSubset = sax_refuse;
	h.externalSubset = sax_refuse;
	h.entityDecl = NULL;
	h.notationDecl = NULL;
	h.attributeDecl = NULL;
	h.elementDecl = NULL;
	h.unparsedEntityDecl = NULL;
	h.resolveEntity = NULL;
	h.getEntity = sax_entity;
	h.getParameterEntity = NULL;
	h.reference = sax_reference;
	h.startElement = NULL;
	h.endElement = NULL;
	h.startElementNs = sax_start;
	h.endElementNs = sax_end;
	h.characters = sax_chars;
	h.cdataBlock = sax_chars;
	h.ignorableWhitespace = NULL;
	h.comment = sax_comment;
	h.processingInstruction = sax_pi;
	h.serror = sax_error;
	h.warning = NULL;
	h.error = NULL;
	h.fatalError = NULL;

	camt_cx_init(&x, c, in);
	fmt_stmt_reset(c);
	/* The first 4 bytes for the encoding, as the reader does. */
	n = fread(b, 1, 4, in);
	x.p = xmlCreatePushParserCtxt(&h, NULL, b, (int)n, NULL);
	if (x.p == NULL) {
		x.halt = 1;
		goto out;
	}
	x.p->_private = &x;
	xmlCtxtUseOptions(x.p,
	    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOBLANKS |
	    XML_PARSE_BIG_LINES);
	x.p->linenumbers = 1;
	while (!x.halt && x.rc == STMT_OK) {
		n = fread(b, 1, CAMT_CHUNK, in);
		if (n == 0) {
			if (ferror(in))
				x.halt = 1;
			else
				xmlParseChunk(x.p, NULL, 0, 1);
			break;
		}
		ret = xmlParseChunk(x.p, b, (int)n, 0);
		if (ret != 0 || !x.p->wellFormed)
			x.halt = 1;
	}
	if (x.rc == STMT_OK && (!x.p->wellFormed || x.depth != 0 ||
	    !x.seen_root || !x.seen_stmt))
		x.halt = 1;
out:
	free(b);
	camt_cx_free(&x);
	if (x.rc != STMT_OK)
		return x.rc;
	return x.halt ? -1 : STMT_OK;
}

/*
 * Two readings.  The SAX pass reads a plain, good file alone, and gives
 * what the reader gives.  Anything else, and every rejection, is read
 * again from the start by the reader, whose answers (messages, lines)
 * are the reference; the sink gets only the calls the first reading had
 * not made.  A stream that cannot seek back is read by the reader alone.
 */
enum stmt_rc
camt053_parse(FILE *in, struct fmt_ctx *c)
{
	off_t			 start;
	int			 rc;
	const struct stmt_sink	*sink = c->sink;
	struct stmt_diag	*diag = c->diag;
	enum stmt_format	 fmt = c->fmt;
	uint64_t		 calls;

	camt_tables_init();
	xmlSetGenericErrorFunc(NULL, quiet);	/* this thread's only */
	if ((start = ftello(in)) == -1)
		return parse_reader(in, c);
	if ((rc = parse_sax(in, c)) != -1)
		return (enum stmt_rc)rc;
	calls = c->ncalls;
	if (fseeko(in, start, SEEK_SET) == -1)
		return fmt_failed(c, "cannot read the file again");
	clearerr(in);
	memset(diag, 0, sizeof(*diag));
	diag->format = fmt;
	fmt_ctx_init(c, fmt, sink, diag);
	c->skip = calls;
	return parse_reader(in, c);
}
