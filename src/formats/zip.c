/*
 * zip: a ZIP archive of statement files.  Each member is inflated into
 * an unlinked temporary file, its format detected from its content as
 * for an upload, and parsed with the same sink: its statements, warnings
 * and a rejection name the member.  The archive stands or falls as one
 * file: a member that is rejected rejects the archive.
 *
 * The container is read here, from the end: the end of central directory
 * record, then each central directory entry and its local header.  Only
 * stored (0) and deflated (8) members are read, inflated with zlib.
 * Nothing in the headers is trusted for safety:
 *
 * - member names are never used as paths; they appear in messages only,
 *   escaped, and absolute, "..", backslash or control-character names
 *   are flagged with an archive_member warning;
 * - sizes are limits checked while inflating (per member, for the whole
 *   archive, and the ratio of output to input), not the header's word;
 * - the member count is limited; nested archives are not opened;
 * - encrypted members, ZIP64, multi-disk archives and other compression
 *   methods are refused with a message saying so; an archive cut short
 *   is refused as truncated.
 */
#define _FILE_OFFSET_BITS 64
#include "formats/fmt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <zlib.h>

/* Entries of the central directory; directories count too. */
#define ZIP_MAX_MEMBERS		1000
/* Uncompressed bytes of one member and of all of them. */
#define ZIP_MAX_MEMBER_BYTES	(128ULL << 20)
#define ZIP_MAX_TOTAL_BYTES	(512ULL << 20)
/* Output per input byte, checked once a member passes 1 MiB. */
#define ZIP_MAX_RATIO		200
#define ZIP_RATIO_FREE		(1ULL << 20)
#define ZIP_NAME_SHOWN		120

#define EOCD_LEN	22
#define CDH_LEN		46
#define LFH_LEN		30

struct zip {
	struct fmt_ctx	*c;
	FILE		*in;
	uint64_t	 size;
	uint64_t	 cd_off, cd_size, nentries;
	uint64_t	 total;		/* inflated so far, all members */
	size_t		 imported;	/* members parsed as statements */
	/* The entry at hand. */
	char		 name[ZIP_NAME_SHOWN * 4 + 8];	/* escaped */
	int		 unsafe;
	unsigned	 flags, method;
	uint32_t	 crc;
	uint64_t	 csize, usize, lh_off;
	unsigned char	 ibuf[65536], obuf[65536];
};

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
read_at(struct zip *z, uint64_t off, void *p, size_t n)
{
	if (off > z->size || n > z->size - off ||
	    fseeko(z->in, (off_t)off, SEEK_SET) == -1)
		return -1;
	return fread(p, 1, n, z->in) == n ? 0 : -1;
}

/*
 * The name as messages show it: printable ASCII and valid UTF-8 kept,
 * other bytes as \xNN, cut at ZIP_NAME_SHOWN characters.  Sets z->unsafe
 * for names that would be dangerous as paths.
 */
static void
show_name(struct zip *z, const unsigned char *s, size_t n)
{
	size_t	i, o = 0, shown = 0;
	int	utf8 = fmt_utf8_valid((const char *)s, n);

	z->unsafe = n == 0 || s[0] == '/' || s[0] == '\\' ||
	    (n >= 2 && s[1] == ':');
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
			z->unsafe = 1;
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.' &&
		    (i == 0 || s[i - 1] == '/') &&
		    (i + 2 == n || s[i + 2] == '/'))
			z->unsafe = 1;
	}
	for (i = 0; i < n && shown < ZIP_NAME_SHOWN; shown++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') {
			z->name[o++] = (char)s[i++];
		} else if (s[i] >= 0x80 && utf8) {
			size_t	k = 1;

			while (i + k < n && (s[i + k] & 0xc0) == 0x80)
				k++;
			memcpy(z->name + o, s + i, k);
			o += k;
			i += k;
		} else {
			snprintf(z->name + o, 5, "\\x%02x", s[i++]);
			o += 4;
		}
	}
	if (i < n) {
		memcpy(z->name + o, "...", 3);
		o += 3;
	}
	z->name[o] = '\0';
}

/* The end of central directory record: where the entries are. */
static enum stmt_rc
zip_eocd(struct zip *z)
{
	unsigned char	*tail;
	uint64_t	 n, i, at;
	unsigned char	 sig[4];
	enum stmt_rc	 rc = STMT_OK;

	if (fseeko(z->in, 0, SEEK_END) == -1 || ftello(z->in) < 0)
		return fmt_failed(z->c, "cannot seek in the archive");
	z->size = (uint64_t)ftello(z->in);
	/* The record is the last 22 bytes, plus a comment of up to 64 KiB. */
	n = z->size < EOCD_LEN + 65535 ? z->size : EOCD_LEN + 65535;
	if (n < EOCD_LEN)
		return fmt_reject_at(z->c, 0, "truncated: %llu bytes are too "
		    "few for a ZIP archive", (unsigned long long)z->size);
	if ((tail = malloc(n)) == NULL)
		return fmt_failed(z->c, "out of memory");
	if (read_at(z, z->size - n, tail, n) == -1) {
		rc = fmt_failed(z->c, "read error");
		goto out;
	}
	for (i = n - EOCD_LEN + 1; i-- > 0; )
		if (memcmp(tail + i, "PK\x05\x06", 4) == 0 &&
		    i + EOCD_LEN + le16(tail + i + 20) == n)
			break;
	if (i == (uint64_t)-1) {
		rc = fmt_reject_at(z->c, z->size, "truncated or damaged: no "
		    "end of central directory record at the end of the archive");
		goto out;
	}
	at = z->size - n + i;
	/* A ZIP64 locator sits right before the record. */
	if (at >= 20 && read_at(z, at - 20, sig, 4) == 0 &&
	    memcmp(sig, "PK\x06\x07", 4) == 0) {
		rc = fmt_reject_at(z->c, at - 20, "ZIP64 archives are not "
		    "supported (archives over 4 GiB or 65535 members)");
		goto out;
	}
	if (le16(tail + i + 4) != 0 || le16(tail + i + 6) != 0 ||
	    le16(tail + i + 8) != le16(tail + i + 10)) {
		rc = fmt_reject_at(z->c, at, "multi-volume (split) archives are "
		    "not supported");
		goto out;
	}
	z->nentries = le16(tail + i + 10);
	z->cd_size = le32(tail + i + 12);
	z->cd_off = le32(tail + i + 16);
	if (z->nentries == 0xffff || z->cd_size == 0xffffffff ||
	    z->cd_off == 0xffffffff) {
		rc = fmt_reject_at(z->c, at, "ZIP64 archives are not supported "
		    "(archives over 4 GiB or 65535 members)");
		goto out;
	}
	if (z->cd_off + z->cd_size > at) {
		rc = fmt_reject_at(z->c, at, "truncated or damaged: the central "
		    "directory (%llu bytes at %llu) is not before its end "
		    "record", (unsigned long long)z->cd_size,
		    (unsigned long long)z->cd_off);
		goto out;
	}
	if (z->nentries > ZIP_MAX_MEMBERS)
		rc = fmt_reject_at(z->c, at, "%llu members; at most %d are "
		    "read from one archive", (unsigned long long)z->nentries,
		    ZIP_MAX_MEMBERS);
out:
	free(tail);
	return rc;
}

/* Reads the central directory entry at *off; *off moves past it. */
static enum stmt_rc
zip_entry(struct zip *z, uint64_t *off)
{
	unsigned char	h[CDH_LEN], name[1024];
	unsigned	nlen;

	if (*off + CDH_LEN > z->cd_off + z->cd_size ||
	    read_at(z, *off, h, CDH_LEN) == -1 ||
	    memcmp(h, "PK\x01\x02", 4) != 0)
		return fmt_reject_at(z->c, *off, "damaged: central directory "
		    "entry expected");
	z->flags = le16(h + 8);
	z->method = le16(h + 10);
	z->crc = le32(h + 16);
	z->csize = le32(h + 20);
	z->usize = le32(h + 24);
	nlen = le16(h + 28);
	z->lh_off = le32(h + 42);
	if (read_at(z, *off + CDH_LEN, name, nlen < sizeof(name) ? nlen :
	    sizeof(name)) == -1)
		return fmt_reject_at(z->c, *off, "damaged: central directory "
		    "entry cut short");
	show_name(z, name, nlen < sizeof(name) ? nlen : sizeof(name));
	*off += CDH_LEN + nlen + le16(h + 30) + le16(h + 32);
	if (z->csize == 0xffffffff || z->usize == 0xffffffff ||
	    z->lh_off == 0xffffffff)
		return fmt_reject_at(z->c, *off, "member \"%s\" is in ZIP64 form; "
		    "ZIP64 archives are not supported", z->name);
	return STMT_OK;
}

static enum stmt_rc
too_big(struct zip *z, const char *what)
{
	return fmt_reject_at(z->c, z->lh_off, "member \"%s\": %s (a ZIP "
	    "bomb?); limits: %llu MiB per member, %llu MiB in all, %d times "
	    "its compressed size", z->name, what,
	    (unsigned long long)(ZIP_MAX_MEMBER_BYTES >> 20),
	    (unsigned long long)(ZIP_MAX_TOTAL_BYTES >> 20), ZIP_MAX_RATIO);
}

/* Writes n inflated bytes to out, checking every limit first. */
static enum stmt_rc
emit(struct zip *z, FILE *out, const unsigned char *p, size_t n,
    uint64_t *done, uint64_t consumed, uint32_t *crc)
{
	*done += n;
	z->total += n;
	if (*done > ZIP_MAX_MEMBER_BYTES)
		return too_big(z, "inflates past the size limit");
	if (z->total > ZIP_MAX_TOTAL_BYTES)
		return too_big(z, "the archive inflates past its size limit");
	/* The free first MiB is the archive's, not each member's: a
	 * thousand tiny members do not get a MiB each. */
	if ((*done > ZIP_RATIO_FREE && *done / ZIP_MAX_RATIO > consumed) ||
	    (z->total > ZIP_RATIO_FREE && z->total / ZIP_MAX_RATIO > z->size))
		return too_big(z, "inflates too far for its size");
	*crc = (uint32_t)crc32(*crc, p, (uInt)n);
	if (n > 0 && fwrite(p, 1, n, out) != n)
		return fmt_failed(z->c, "cannot write a temporary file");
	return STMT_OK;
}

/* Inflates (or copies) the member at hand into out. */
static enum stmt_rc
zip_extract(struct zip *z, FILE *out)
{
	unsigned char	 lh[LFH_LEN];
	uint64_t	 data, left, done = 0, consumed = 0;
	uint32_t	 crc = (uint32_t)crc32(0, NULL, 0);
	z_stream	 s;
	int		 zr = Z_OK, inited = 0;
	enum stmt_rc	 rc = STMT_OK;

	if (read_at(z, z->lh_off, lh, LFH_LEN) == -1 ||
	    memcmp(lh, "PK\x03\x04", 4) != 0)
		return fmt_reject_at(z->c, z->lh_off, "damaged: member \"%s\" "
		    "has no local header where the directory says", z->name);
	data = z->lh_off + LFH_LEN + le16(lh + 26) + le16(lh + 28);
	if (data > z->cd_off || z->csize > z->cd_off - data)
		return fmt_reject_at(z->c, z->lh_off, "truncated or damaged: "
		    "member \"%s\" runs past the end of its data", z->name);
	if (fseeko(z->in, (off_t)data, SEEK_SET) == -1)
		return fmt_failed(z->c, "cannot seek in the archive");
	memset(&s, 0, sizeof(s));
	if (z->method == 8) {
		if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
			return fmt_failed(z->c, "out of memory");
		inited = 1;
	}
	left = z->csize;
	while (left > 0 && zr != Z_STREAM_END) {
		size_t	n = left < sizeof(z->ibuf) ? (size_t)left : sizeof(z->ibuf);

		if (fread(z->ibuf, 1, n, z->in) != n) {
			rc = fmt_failed(z->c, "read error");
			goto out;
		}
		left -= n;
		consumed += n;
		if (z->method == 0) {
			if ((rc = emit(z, out, z->ibuf, n, &done, consumed,
			    &crc)) != STMT_OK)
				goto out;
			continue;
		}
		s.next_in = z->ibuf;
		s.avail_in = (uInt)n;
		do {
			s.next_out = z->obuf;
			s.avail_out = sizeof(z->obuf);
			zr = inflate(&s, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				rc = fmt_reject_at(z->c, data + consumed, "member "
				    "\"%s\" does not inflate: %s", z->name,
				    s.msg != NULL ? s.msg : "bad data");
				goto out;
			}
			if ((rc = emit(z, out, z->obuf, sizeof(z->obuf) -
			    s.avail_out, &done, consumed, &crc)) != STMT_OK)
				goto out;
		} while (s.avail_out == 0 && zr != Z_STREAM_END);
	}
	if (z->method == 8 && zr != Z_STREAM_END) {
		rc = fmt_reject_at(z->c, data + consumed, "truncated: member "
		    "\"%s\" ends before its compressed data does", z->name);
		goto out;
	}
	if (crc != z->crc || done != z->usize) {
		rc = fmt_reject_at(z->c, z->lh_off, "damaged: member \"%s\" "
		    "inflates to %llu bytes with CRC-32 %08x; the directory "
		    "says %llu bytes, %08x", z->name, (unsigned long long)done,
		    crc, (unsigned long long)z->usize, z->crc);
		goto out;
	}
	if (fflush(out) == EOF)
		rc = fmt_failed(z->c, "cannot write a temporary file");
out:
	if (inited)
		inflateEnd(&s);
	return rc;
}

static enum stmt_rc
skipped(struct zip *z, const char *why)
{
	return fmt_warn(z->c, STMT_W_ARCHIVE_MEMBER, 0, "member \"%s\" not "
	    "imported: %s", z->name, why);
}

/* Parses one member: detect, then the format's parser with the sink. */
static enum stmt_rc
zip_member(struct zip *z)
{
	FILE			*tmp;
	char			 head[STMT_DETECT_LEN];
	size_t			 n;
	enum stmt_format	 f;
	enum stmt_rc		 rc;
	struct stmt_diag	*d = z->c->diag;

	if ((tmp = tmpfile()) == NULL)
		return fmt_failed(z->c, "cannot create a temporary file");
	if ((rc = zip_extract(z, tmp)) != STMT_OK)
		goto out;
	rewind(tmp);
	n = fread(head, 1, sizeof(head), tmp);
	rewind(tmp);
	if (n == 0) {
		rc = skipped(z, "empty");
		goto out;
	}
	if (stmt_detect(head, n, &f) != 0) {
		rc = skipped(z, "not a statement file of a known format");
		goto out;
	}
	if (f == STMT_ZIP) {
		rc = skipped(z, "archives inside an archive are not opened");
		goto out;
	}
	z->c->member = z->name;
	z->c->fmt = f;
	fmt_stmt_reset(z->c);
	d->format = f;
	rc = fmt_dispatch(tmp, z->c);
	if (rc == STMT_OK) {
		z->imported++;
		d->format = STMT_ZIP;
	} else
		fmt_copy(d->member, sizeof(d->member), z->name);
	z->c->member = NULL;
	z->c->fmt = STMT_ZIP;
	fmt_stmt_reset(z->c);
out:
	fclose(tmp);
	return rc;
}

enum stmt_rc
zip_parse(FILE *in, struct fmt_ctx *c)
{
	struct zip	*z;
	uint64_t	 off, i;
	enum stmt_rc	 rc;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return fmt_failed(c, "out of memory");
	z->c = c;
	z->in = in;
	if ((rc = zip_eocd(z)) != STMT_OK)
		goto out;
	off = z->cd_off;
	for (i = 0; i < z->nentries; i++) {
		if ((rc = zip_entry(z, &off)) != STMT_OK)
			goto out;
		/* Directories, and macOS's copies of file metadata. */
		if (z->name[0] != '\0' && z->name[strlen(z->name) - 1] == '/' &&
		    z->usize == 0)
			continue;
		if (strncmp(z->name, "__MACOSX/", 9) == 0) {
			if ((rc = skipped(z, "macOS file metadata")) != STMT_OK)
				goto out;
			continue;
		}
		if (z->unsafe && (rc = fmt_warn(c, STMT_W_ARCHIVE_MEMBER, 0,
		    "member \"%s\" has a name that is unsafe as a path; it is "
		    "read, and its name used in messages only", z->name)) !=
		    STMT_OK)
			goto out;
		if (z->flags & 1) {
			rc = fmt_reject_at(c, z->lh_off, "member \"%s\" is "
			    "encrypted; encrypted archives are not read (unzip "
			    "it and upload the statements)", z->name);
			goto out;
		}
		if (z->method != 0 && z->method != 8) {
			rc = fmt_reject_at(c, z->lh_off, "member \"%s\" is "
			    "compressed with method %u; only stored (0) and "
			    "deflated (8) members are read", z->name, z->method);
			goto out;
		}
		if ((rc = zip_member(z)) != STMT_OK)
			goto out;
	}
	if (z->imported == 0)
		rc = fmt_reject_at(c, 0, "the archive holds no statement file "
		    "(%llu members)", (unsigned long long)z->nentries);
out:
	free(z);
	return rc;
}

int
zip_detect(const char *head, size_t n)
{
	return n >= 4 && (memcmp(head, "PK\x03\x04", 4) == 0 ||
	    memcmp(head, "PK\x05\x06", 4) == 0);
}
