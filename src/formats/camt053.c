/*
 * camt053: ISO 20022 BankToCustomerStatement, camt.053.001.02 to .001.10
 * and national variants (any namespace naming camt.053.001.), and the
 * intraday BankToCustomerAccountReport camt.052.001 (which XS2A banks
 * send for transactions) and the BankToCustomerDebitCreditNotification
 * camt.054.001: the same record under other names, their <Rpt> and
 * <Ntfctn> read as a <Stmt>.  Read in two ways (camt_read.c, see "Two
 * readings" there):
 *
 * - a SAX pass: libxml2's SAX2 push parser fed 64 KB reads of the FILE*,
 *   no node built; it reads a plain, good file on its own;
 * - libxml2's streaming xmlTextReader, the reference: it reads the file
 *   again whenever the SAX pass gives up (any rejection, XML error,
 *   DOCTYPE, entity, comment or processing instruction inside the root,
 *   xml:id, a Ccy holding an entity, text past libxml2's node limit), so
 *   that every message and line is the reader's, and the sink gets only
 *   the calls the SAX pass had not made.
 *
 * Both feed the same handlers: each element's text is collected into one
 * bounded buffer and acted on when the element ends, looked up by its
 * path below BkToCstmrStmt in the table `paths`.  Entry-level values wait
 * in bounded buffers until </Ntry>; the TxDtls of a batch entry are packed
 * into a bounded arena so the entry can be split into one record per
 * TxDtls once its amounts are known (camt_entry.c).  This file holds the
 * table of paths and the element handlers.  Lines are libxml2's: an
 * element's is the line where its start tag ends (past line 65535, when
 * the reader reads a file the SAX pass left, the parser's line, a few
 * lines on).
 *
 * Safety: no DTD is loaded, no entity substituted, no network used, and a
 * document with a DOCTYPE is refused outright, so external entities (XXE)
 * and entity expansion bombs have nothing to work with.
 */
#include "formats/camt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "core/money.h"

/*
 * The messages read, by the namespace they name (national variants such
 * as the Austrian "ISO:camt.053.001.02:APC:STUZZA..." name it too): the
 * root's child, and the element read as a statement.
 */
const struct camt_msg camt_msgs[] = {
	{ "camt.053.001.", "BkToCstmrStmt", "Stmt", "camt.053" },
	{ "camt.052.001.", "BkToCstmrAcctRpt", "Rpt", "camt.052" },
	{ "camt.054.001.", "BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054" },
};
const size_t	camt_nmsgs = sizeof(camt_msgs) / sizeof(camt_msgs[0]);

struct path {
	const char	*path;
	enum fid	 id;
};

#define TX "Stmt/Ntry/NtryDtls/TxDtls/"
static const struct path paths[] = {
	{ "Stmt/Id", S_ID },
	{ "Stmt/ElctrncSeqNb", S_ESEQ },
	{ "Stmt/LglSeqNb", S_LSEQ },
	{ "Stmt/FrToDt/FrDtTm", S_FROM },
	{ "Stmt/FrToDt/ToDtTm", S_TO },
	{ "Stmt/Acct/Id/IBAN", S_IBAN },
	{ "Stmt/Acct/Id/Othr/Id", S_OTHR },
	{ "Stmt/Acct/Ccy", S_CCY },
	{ "Stmt/Acct/Nm", S_NAME },
	{ "Stmt/Acct/Ownr/Nm", S_OWNER },
	{ "Stmt/Acct/Ownr/Pty/Nm", S_OWNER },
	{ "Stmt/Acct/Svcr/FinInstnId/BIC", S_BIC },
	{ "Stmt/Acct/Svcr/FinInstnId/BICFI", S_BIC },
	{ "Stmt/Acct/Tp/Cd", S_ACCT_TP },
	{ "Stmt/Bal/Tp/CdOrPrtry/Cd", B_CODE },
	{ "Stmt/Bal/Tp/CdOrPrtry/Prtry", B_PRTRY },
	{ "Stmt/Bal/Amt", B_AMT },
	{ "Stmt/Bal/CdtDbtInd", B_CDI },
	{ "Stmt/Bal/Dt/Dt", B_DATE },
	{ "Stmt/Bal/Dt/DtTm", B_DATE },
	{ "Stmt/Ntry/Amt", E_AMT },
	{ "Stmt/Ntry/CdtDbtInd", E_CDI },
	{ "Stmt/Ntry/RvslInd", E_RVSL },
	{ "Stmt/Ntry/Sts", E_STS },
	{ "Stmt/Ntry/Sts/Cd", E_STS },
	{ "Stmt/Ntry/Sts/Prtry", E_STS },
	{ "Stmt/Ntry/BookgDt/Dt", E_BOOK },
	{ "Stmt/Ntry/BookgDt/DtTm", E_BOOK },
	{ "Stmt/Ntry/ValDt/Dt", E_VAL },
	{ "Stmt/Ntry/ValDt/DtTm", E_VAL },
	{ "Stmt/Ntry/AcctSvcrRef", E_ASREF },
	{ "Stmt/Ntry/BkTxCd/Domn/Cd", E_DOMN },
	{ "Stmt/Ntry/BkTxCd/Domn/Fmly/Cd", E_FMLY },
	{ "Stmt/Ntry/BkTxCd/Domn/Fmly/SubFmlyCd", E_SUBF },
	{ "Stmt/Ntry/BkTxCd/Prtry/Cd", E_PRTRY },
	{ "Stmt/Ntry/Chrgs/TtlChrgsAndTaxAmt", E_CHRG_TOTAL },
	{ "Stmt/Ntry/Chrgs/Rcrd/Amt", E_CHRG_REC },
	{ "Stmt/Ntry/Chrgs/Amt", E_CHRG_REC },
	{ "Stmt/Ntry/AddtlNtryInf", E_ADDTL },
	{ TX "Refs/EndToEndId", T_E2E },
	{ TX "Refs/AcctSvcrRef", T_ASREF },
	{ TX "Amt", T_AMT },
	{ TX "AmtDtls/TxAmt/Amt", T_AMT2 },
	{ TX "CdtDbtInd", T_CDI },
	{ TX "BkTxCd/Domn/Cd", T_DOMN },
	{ TX "BkTxCd/Domn/Fmly/Cd", T_FMLY },
	{ TX "BkTxCd/Domn/Fmly/SubFmlyCd", T_SUBF },
	{ TX "BkTxCd/Prtry/Cd", T_PRTRY },
	{ TX "RltdPties/Dbtr/Nm", T_DBTR },
	{ TX "RltdPties/Dbtr/Pty/Nm", T_DBTR },
	{ TX "RltdPties/DbtrAcct/Id/IBAN", T_DBTR_IBAN },
	{ TX "RltdPties/DbtrAcct/Id/Othr/Id", T_DBTR_IBAN },
	{ TX "RltdPties/Cdtr/Nm", T_CDTR },
	{ TX "RltdPties/Cdtr/Pty/Nm", T_CDTR },
	{ TX "RltdPties/CdtrAcct/Id/IBAN", T_CDTR_IBAN },
	{ TX "RltdPties/CdtrAcct/Id/Othr/Id", T_CDTR_IBAN },
	{ TX "RltdPties/UltmtDbtr/Nm", T_UDBTR },
	{ TX "RltdPties/UltmtDbtr/Pty/Nm", T_UDBTR },
	{ TX "RltdPties/UltmtCdtr/Nm", T_UCDTR },
	{ TX "RltdPties/UltmtCdtr/Pty/Nm", T_UCDTR },
	{ TX "RmtInf/Ustrd", T_USTRD },
	{ TX "RmtInf/Strd/AddtlRmtInf", T_ADDRMT },
	{ TX "RmtInf/Strd/CdtrRefInf/Ref", T_SREF },
	{ TX "AddtlTxInf", T_ADDTL },
};
#undef TX

/*
 * The paths as a tree of element names, built once: an element's meaning
 * is found as it opens, from its parent's node and its own name (a few
 * short compares among the siblings), instead of a search of the whole
 * path string each time an element ends.  Node 0 is BkToCstmrStmt.
 */
#define CAMT_NODES	256

static struct pnode {
	const char	*name;		/* into `paths`, not NUL-terminated */
	size_t		 len;
	int		 child, next;	/* -1: none */
	enum fid	 id;
} nodes[CAMT_NODES];
static int		nnodes;
/* The elements that start and end records. */
static int		n_stmt, n_bal, n_ntry, n_txdtls;
static pthread_once_t	paths_once = PTHREAD_ONCE_INIT;

/* The child of node `parent` named name (len bytes), or -1. */
static int
node_child(int parent, const char *name, size_t len)
{
	int	k;

	for (k = nodes[parent].child; k != -1; k = nodes[k].next)
		if (nodes[k].len == len && memcmp(nodes[k].name, name, len) == 0)
			return k;
	return -1;
}

/* The node of a path below BkToCstmrStmt, added as needed. */
static int
node_path(const char *path)
{
	const char	*p = path, *slash;
	int		 k = 0, c;
	size_t		 len;

	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if ((c = node_child(k, p, len)) == -1) {
			if (nnodes == CAMT_NODES)
				abort();	/* the table outgrew CAMT_NODES */
			c = nnodes++;
			nodes[c].name = p;
			nodes[c].len = len;
			nodes[c].child = -1;
			nodes[c].next = nodes[k].child;
			nodes[c].id = F_NONE;
			nodes[k].child = c;
		}
		k = c;
		if (slash == NULL)
			return k;
		p = slash + 1;
	}
}

static void
paths_init(void)
{
	size_t	i;

	xmlInitParser();
	nodes[0].child = nodes[0].next = -1;
	nnodes = 1;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		nodes[node_path(paths[i].path)].id = paths[i].id;
	n_stmt = node_path("Stmt");
	n_bal = node_path("Stmt/Bal");
	n_ntry = node_path("Stmt/Ntry");
	n_txdtls = node_path("Stmt/Ntry/NtryDtls/TxDtls");
}

void
camt_cx_init(struct cx *x, struct fmt_ctx *c, FILE *in)
{
	size_t	i;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->in = in;
	buf_init(&x->path, CAMT_PATH_MAX);
	buf_init(&x->ws, STMT_TEXT_MAX);
	buf_init(&x->text, STMT_TEXT_MAX);
	for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
		buf_init(&x->s[i], STMT_FIELD_MAX);
	buf_init(&x->b_amt, 64);
	buf_init(&x->e_amt, 64);
	buf_init(&x->e_sts, 64);
	buf_init(&x->e_asref, STMT_FIELD_MAX);
	buf_init(&x->e_domn, 64);
	buf_init(&x->e_fmly, 64);
	buf_init(&x->e_subf, 64);
	buf_init(&x->e_prtry, STMT_FIELD_MAX);
	buf_init(&x->e_addtl, STMT_TEXT_MAX);
	for (i = 0; i < X__COUNT; i++)
		buf_init(&x->t[i], i == X_USTRD || i == X_ADDRMT ||
		    i == X_SREF ? STMT_TEXT_MAX : STMT_FIELD_MAX);
	buf_init(&x->arena, CAMT_ARENA_MAX);
	buf_init(&x->o_btc, 256);
	buf_init(&x->o_btc2, 256);
	buf_init(&x->o_desc, STMT_TEXT_MAX);
	buf_init(&x->o_id, STMT_FIELD_MAX + 16);
}

void
camt_cx_free(struct cx *x)
{
	size_t	i;

	if (x->r != NULL)
		xmlFreeTextReader(x->r);
	if (x->p != NULL)
		xmlFreeParserCtxt(x->p);
	buf_free(&x->path);
	buf_free(&x->ws);
	buf_free(&x->text);
	for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
		buf_free(&x->s[i]);
	buf_free(&x->b_amt);
	buf_free(&x->e_amt);
	buf_free(&x->e_sts);
	buf_free(&x->e_asref);
	buf_free(&x->e_domn);
	buf_free(&x->e_fmly);
	buf_free(&x->e_subf);
	buf_free(&x->e_prtry);
	buf_free(&x->e_addtl);
	for (i = 0; i < X__COUNT; i++)
		buf_free(&x->t[i]);
	buf_free(&x->arena);
	buf_free(&x->o_btc);
	buf_free(&x->o_btc2);
	buf_free(&x->o_desc);
	buf_free(&x->o_id);
	free(x->txds);
}

/* Calls begin() with the statement's account, once. */
enum stmt_rc
camt_begin(struct cx *x)
{
	struct rec_account	 a;
	const char		*id;

	if (x->c->open)
		return STMT_OK;
	memset(&a, 0, sizeof(a));
	a.iban = fmt_opt(SF(x, S_IBAN));
	a.number = fmt_opt(SF(x, S_OTHR));
	if (a.iban == NULL && fmt_is_iban(a.number)) {
		a.iban = a.number;
		a.number = NULL;
	}
	id = a.iban != NULL ? a.iban : a.number;
	if (id == NULL)
		return fmt_reject(x->c, x->c->info.line, "statement %s has no "
		    "account identification (Acct/Id/IBAN or Acct/Id/Othr/Id)",
		    buf_str(SF(x, S_ID)));
	a.bank_id = id;
	a.bic = fmt_opt(SF(x, S_BIC));
	a.name = fmt_opt(SF(x, S_NAME));
	a.holder_name = fmt_opt(SF(x, S_OWNER));
	a.type = ACCT_CHECKING;
	if (strcmp(buf_str(SF(x, S_ACCT_TP)), "SVGS") == 0)
		a.type = ACCT_SAVINGS;
	else if (strcmp(buf_str(SF(x, S_ACCT_TP)), "LOAN") == 0)
		a.type = ACCT_LOAN;
	else if (strcmp(buf_str(SF(x, S_ACCT_TP)), "CARD") == 0)
		a.type = ACCT_CREDIT_CARD;
	if (x->c->currency[0] == '\0')
		fmt_copy(x->c->currency, 4, buf_str(SF(x, S_CCY)));
	if (x->c->currency[0] == '\0' && x->c->nbal > 0)
		fmt_copy(x->c->currency, 4, x->c->bal[0].currency);
	if (x->c->currency[0] == '\0')
		fmt_copy(x->c->currency, 4, x->e_ccy);
	fmt_copy(a.currency, sizeof(a.currency), x->c->currency);
	x->c->info.id = fmt_opt(SF(x, S_ID));
	x->c->info.sequence = fmt_opt(SF(x, S_ESEQ)) != NULL ?
	    fmt_opt(SF(x, S_ESEQ)) : fmt_opt(SF(x, S_LSEQ));
	return fmt_begin(x->c, &a);
}

/* An ISO date or date-time into out; a stmt_rc. */
static enum stmt_rc
cx_date(struct cx *x, const char *what, char out[11])
{
	int	adj;

	if (fmt_iso_date(x->text.p, x->text.len, out, &adj) == -1)
		return fmt_reject(x->c, lineno(x), "invalid %s \"%.40s\" "
		    "(YYYY-MM-DD)", what, buf_str(&x->text));
	if (adj)
		return fmt_warn(x->c, STMT_W_DATE_ADJUSTED, lineno(x),
		    "%s %.10s does not exist; used %s", what, x->text.p, out);
	return STMT_OK;
}

/* Parses the open amount element's text in its Ccy. */
static enum stmt_rc
cx_amount(struct cx *x, const char *what, int64_t *v, char ccy[4])
{
	if (!x->has_ccy_attr)
		return fmt_reject(x->c, lineno(x), "%s without its Ccy "
		    "attribute", what);
	fmt_copy(ccy, 4, x->ccy_attr);
	if (x->text.len > 0 && x->text.p[0] == '-')
		return fmt_reject(x->c, lineno(x), "%s \"%.40s\" is negative "
		    "(the sign is CdtDbtInd)", what, x->text.p);
	return fmt_amount(x->c, lineno(x), what, buf_str(&x->text),
	    x->text.len, '.', ccy, v);
}

static int
cdi(struct cx *x, int *out)
{
	if (strcmp(buf_str(&x->text), "CRDT") == 0)
		*out = 1;
	else if (strcmp(buf_str(&x->text), "DBIT") == 0)
		*out = -1;
	else
		return -1;
	return 0;
}

static enum stmt_rc
set(struct buf *b, struct cx *x)
{
	buf_reset(b);
	if (buf_add(b, buf_str(&x->text), x->text.len) == -1)
		return fmt_reject(x->c, lineno(x), "value longer than %zu bytes",
		    b->max);
	return STMT_OK;
}

/* Appends the text to b, a space between pieces (Ustrd lines). */
static enum stmt_rc
append(struct buf *b, struct cx *x)
{
	if (x->text.len == 0)
		return STMT_OK;
	if ((b->len > 0 && buf_addc(b, ' ') == -1) ||
	    buf_add(b, x->text.p, x->text.len) == -1)
		return fmt_reject(x->c, lineno(x), "text longer than %zu bytes",
		    b->max);
	return STMT_OK;
}

/*
 * An element starts: name is its local name, ns its namespace (NULL:
 * none; read for the root only), ccy its Ccy attribute (NULL: none; read
 * for an element named *Amt only).
 */
enum stmt_rc
camt_el_start(struct cx *x, const char *name, const char *ns, const char *ccy)
{
	size_t		 n;
	int		 node;

	if (x->depth == CAMT_MAXDEPTH)
		return fmt_reject(x->c, lineno(x), "elements nested deeper "
		    "than %d", CAMT_MAXDEPTH);
	n = strlen(name);
	x->plen[x->depth++] = x->path.len;
	if ((x->path.len > 0 && buf_addc(&x->path, '/') == -1) ||
	    buf_add(&x->path, name, n) == -1)
		return fmt_reject(x->c, lineno(x), "element path longer than "
		    "%d bytes", CAMT_PATH_MAX);
	/* A camt.052 report, a camt.054 notification: read as a statement. */
	if (x->msg != 0 && x->depth == 3 &&
	    strcmp(name, camt_msgs[x->msg].stmt) == 0) {
		name = "Stmt";
		n = 4;
	}
	node = x->depth < 2 ? -1 : x->depth == 2 ? 0 :
	    x->node[x->depth - 1] < 0 ? -1 :
	    node_child(x->node[x->depth - 1], name, n);
	x->node[x->depth] = node;
	x->want_text = node > 0 && nodes[node].id != F_NONE;
	x->skipped = 0;
	buf_reset(&x->text);
	x->has_ccy_attr = 0;
	if (ccy != NULL) {
		fmt_copy(x->ccy_attr, sizeof(x->ccy_attr), ccy);
		x->has_ccy_attr = 1;
	}
	if (x->depth == 1) {
		const char	*u = ns != NULL ? ns : "";

		x->seen_root = 1;
		if (strcmp(name, "Document") != 0)
			return fmt_reject(x->c, lineno(x), "root element <%s> "
			    "is not the <Document> of a camt.053 statement", name);
		x->msg = -1;
		for (size_t k = 0; k < camt_nmsgs; k++)
			if (strstr(u, camt_msgs[k].ns) != NULL)
				x->msg = (int)k;
		if (x->msg == -1) {
			x->msg = 0;
			if (*u == '\0')
				return fmt_warn(x->c, STMT_W_UNKNOWN_CODE,
				    lineno(x), "<Document> has no namespace; "
				    "read as camt.053");
			return fmt_reject(x->c, lineno(x), "namespace \"%.100s\" "
			    "is not camt.053 (BankToCustomerStatement), camt.052 "
			    "(BankToCustomerAccountReport) nor camt.054 "
			    "(BankToCustomerDebitCreditNotification)", u);
		}
		return STMT_OK;
	}
	if (x->depth == 2) {
		if (strcmp(name, camt_msgs[x->msg].root) != 0)
			return fmt_reject(x->c, lineno(x), "<%s> where a %s "
			    "<%s> was expected", name, camt_msgs[x->msg].human,
			    camt_msgs[x->msg].root);
		x->rel = x->path.len + 1;
		x->root_line = lineno(x);
		return STMT_OK;
	}
	if (node == n_stmt) {
		size_t	i;

		fmt_stmt_reset(x->c);
		x->c->info.line = lineno(x);
		x->in_stmt = 1;
		x->seen_stmt = 1;
		for (i = 0; i < sizeof(x->s) / sizeof(x->s[0]); i++)
			buf_reset(&x->s[i]);
		return STMT_OK;
	}
	if (node == n_bal) {
		x->b_code[0] = '\0';
		x->b_prtry = 0;
		buf_reset(&x->b_amt);
		x->b_ccy[0] = '\0';
		x->b_debit = 0;
		x->b_date[0] = '\0';
		return STMT_OK;
	}
	if (node == n_ntry) {
		camt_entry_reset(x);
		return STMT_OK;
	}
	if (node == n_txdtls)
		camt_txd_reset(x);
	return STMT_OK;
}

/* Stores the text of the element that ends, by its path. */
static enum stmt_rc
el_field(struct cx *x, enum fid id)
{
	enum stmt_rc	rc;
	int		v;

	fmt_trim(&x->text);
	if (id >= S_ID && id <= S_ACCT_TP) {
		if (id == S_FROM || id == S_TO) {
			char	*d = id == S_FROM ? x->c->info.from_date :
				    x->c->info.to_date;

			return cx_date(x, "statement period date", d);
		}
		return set(SF(x, id), x);
	}
	if (id >= T_FIRST && id < T_AMT) {
		struct buf	*b = &x->t[id - T_FIRST];

		/* Several Ustrd, and several Strd each with their own. */
		return id == T_USTRD || id == T_ADDRMT || id == T_SREF ?
		    append(b, x) : set(b, x);
	}
	switch (id) {
	case B_CODE:
		fmt_copy(x->b_code, sizeof(x->b_code), buf_str(&x->text));
		return STMT_OK;
	case B_PRTRY:
		x->b_prtry = 1;
		return STMT_OK;
	case B_AMT:
		if (!x->has_ccy_attr)
			return fmt_reject(x->c, lineno(x), "balance Amt without "
			    "its Ccy attribute");
		fmt_copy(x->b_ccy, 4, x->ccy_attr);
		return set(&x->b_amt, x);
	case B_CDI:
		if (cdi(x, &v) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		x->b_debit = v < 0;
		return STMT_OK;
	case B_DATE:
		return cx_date(x, "balance date", x->b_date);
	case E_AMT: {
		int64_t	dummy;

		if ((rc = cx_amount(x, "entry amount", &dummy, x->e_ccy)) !=
		    STMT_OK)
			return rc;
		return set(&x->e_amt, x);
	}
	case E_CDI:
		if (cdi(x, &x->e_cdi) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		return STMT_OK;
	case E_RVSL:
		x->e_rvsl = strcmp(buf_str(&x->text), "true") == 0 ||
		    strcmp(buf_str(&x->text), "1") == 0;
		return STMT_OK;
	case E_STS:
		if (x->text.len == 0)
			return STMT_OK;	/* <Sts><Cd>: the code comes next */
		return set(&x->e_sts, x);
	case E_BOOK:
		return cx_date(x, "booking date", x->e_book);
	case E_VAL:
		return cx_date(x, "value date", x->e_val);
	case E_ASREF:
		return set(&x->e_asref, x);
	case E_DOMN:
		return set(&x->e_domn, x);
	case E_FMLY:
		return set(&x->e_fmly, x);
	case E_SUBF:
		return set(&x->e_subf, x);
	case E_PRTRY:
		return set(&x->e_prtry, x);
	case E_ADDTL:
		return append(&x->e_addtl, x);
	case E_CHRG_TOTAL:
	case E_CHRG_REC: {
		int64_t	v64;
		char	ccy[4];

		if (id == E_CHRG_REC && x->e_has_chrg_total)
			return STMT_OK;
		if ((rc = cx_amount(x, "charges", &v64, ccy)) != STMT_OK)
			return rc;
		if (id == E_CHRG_TOTAL) {
			x->e_has_chrg_total = 1;
			x->e_chrg = v64;
		} else
			x->e_chrg += v64;
		return STMT_OK;
	}
	case T_AMT:
	case T_AMT2:
		if (id == T_AMT2 && x->t_has_amount)
			return STMT_OK;
		if ((rc = cx_amount(x, "transaction amount", &x->t_amount,
		    x->t_ccy)) != STMT_OK)
			return rc;
		x->t_has_amount = 1;
		return STMT_OK;
	case T_CDI:
		if (cdi(x, &x->t_cdi) == -1)
			return fmt_reject(x->c, lineno(x), "CdtDbtInd \"%.20s\" "
			    "is neither CRDT nor DBIT", buf_str(&x->text));
		return STMT_OK;
	default:
		return STMT_OK;
	}
}

/* An element ends. */
enum stmt_rc
camt_el_end(struct cx *x)
{
	int		 node;
	enum stmt_rc	 rc = STMT_OK;

	if (x->depth == 0)
		return STMT_OK;
	node = x->node[x->depth];
	if (x->depth >= 3 && x->in_stmt && node > 0) {
		if (nodes[node].id != F_NONE)
			rc = el_field(x, nodes[node].id);
		else if (node == n_stmt) {
			x->in_stmt = 0;
			/*
			 * Neither an entry nor a balance: nothing a statement
			 * is made of, so none is made.
			 */
			if (!x->c->open && x->c->nbal == 0)
				rc = fmt_warn(x->c, STMT_W_NO_STATEMENT,
				    x->c->info.line, "<%s> %s without entries or "
				    "balances: not a statement, skipped",
				    camt_msgs[x->msg].stmt, buf_str(SF(x, S_ID)));
			else if ((rc = camt_begin(x)) == STMT_OK)
				rc = fmt_end(x->c, lineno(x));
		} else if (node == n_bal)
			rc = camt_bal_end(x);
		else if (node == n_ntry)
			rc = camt_entry_end(x);
		else if (node == n_txdtls)
			rc = camt_txd_save(x);
	}
	x->depth--;
	x->path.len = x->plen[x->depth];
	if (x->path.p != NULL)
		x->path.p[x->path.len] = '\0';
	/* Text after a child belongs to its parent again. */
	node = x->node[x->depth];
	x->want_text = x->depth >= 3 && node > 0 && nodes[node].id != F_NONE;
	x->skipped = 0;
	buf_reset(&x->text);
	return rc;
}

/* True when an element named name (n bytes) may carry an amount's Ccy. */
int
camt_is_amt(const char *name, size_t n)
{
	return n >= 3 && memcmp(name + n - 3, "Amt", 3) == 0;
}

void
camt_tables_init(void)
{
	pthread_once(&paths_once, paths_init);
}
