#include "core/vault.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "core/log.h"

#define KEYLEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCELEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAGLEN crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Subkeys of the master key for tokens: one encrypts, one makes nonces. */
#define TOKEN_CTX	"bftokens"
#define TOKEN_MAX	1024

static unsigned char *master;
static unsigned char *token_keys;	/* 2 * KEYLEN: cipher key, nonce key */

static int
key_from_hex(const char *hex, unsigned char *key)
{
	size_t	n;

	if (sodium_hex2bin(key, KEYLEN, hex, strlen(hex), " \n", &n, NULL) != 0 ||
	    n != KEYLEN)
		return -1;
	return 0;
}

/*
 * Reads a key file (64 hex digits, a newline allowed).  0; -1 with errno
 * ENOENT and nothing logged when there is no such file; -1 logged else.
 */
static int
key_read(const char *path, unsigned char *key)
{
	char		hex[2 * KEYLEN + 2];
	ssize_t		n;
	int		fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT) {
			log_error("msg=\"cannot read master key\" path=\"%s\"",
			    path);
			errno = EACCES;
		}
		return -1;
	}
	log_warn_exposed(path);
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n > 0) {
		hex[n] = '\0';
		rc = key_from_hex(hex, key);
	}
	sodium_memzero(hex, sizeof(hex));
	if (rc == -1) {
		log_error("msg=\"master key file is not 64 hex digits\" "
		    "path=\"%s\"", path);
		errno = EINVAL;
	}
	return rc;
}

/*
 * Writes key to path as hex, all or nothing: into PATH.tmp.PID (0600,
 * synced), then linked to path, which is never replaced (-1 when it
 * exists: of two processes making a first key at once, one wins).
 */
static int
key_write(const char *path, const unsigned char *key)
{
	char	hex[2 * KEYLEN + 2], tmp[4200];
	int	fd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= sizeof(tmp))
		return -1;
	sodium_bin2hex(hex, sizeof(hex), key, KEYLEN);
	hex[2 * KEYLEN] = '\n';
	unlink(tmp);	/* left by a process of the same id that stopped midway */
	if ((fd = files_create(tmp)) == -1)
		return -1;
	if (write(fd, hex, 2 * KEYLEN + 1) == 2 * KEYLEN + 1 && fsync(fd) == 0)
		rc = 0;
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0)
		rc = link(tmp, path) == 0 && files_sync_dir(path) == 0 ? 0 : -1;
	unlink(tmp);
	sodium_memzero(hex, sizeof(hex));
	return rc;
}

/* Reads DATA_DIR/master.key, or makes it (0600) when there is none. */
static int
key_from_file(const char *dir, unsigned char *key)
{
	char	path[4096];

	snprintf(path, sizeof(path), "%s/master.key", dir);
	if (key_read(path, key) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	randombytes_buf(key, KEYLEN);
	if (key_write(path, key) == -1) {
		log_error("msg=\"cannot create master key\" path=\"%s\"", path);
		return -1;
	}
	log_info("msg=\"created master key\" path=\"%s\"", path);
	return 0;
}

/* Takes master from the environment, a key file or a new one: 0 or -1. */
static int
master_init(const char *data_dir, const char *keyfile)
{
	const char	*env = getenv("BANKFEED_MASTER_KEY");
	int		 rc;

	if (master != NULL)
		return 0;
	if ((master = sodium_malloc(KEYLEN)) == NULL)
		return -1;
	if (keyfile != NULL) {
		if ((rc = key_read(keyfile, master)) == -1 && errno == ENOENT)
			log_error("msg=\"no such key file\" path=\"%s\"", keyfile);
	} else if (env != NULL && *env != '\0') {
		if ((rc = key_from_hex(env, master)) == -1)
			log_error("msg=\"BANKFEED_MASTER_KEY is not 64 hex digits\"");
	} else
		rc = key_from_file(data_dir, master);
	if (rc == -1) {
		sodium_free(master);
		master = NULL;
		return -1;
	}
	if ((token_keys = sodium_malloc(2 * KEYLEN)) == NULL ||
	    crypto_kdf_derive_from_key(token_keys, KEYLEN, 1, TOKEN_CTX,
	    master) != 0 || crypto_kdf_derive_from_key(token_keys + KEYLEN,
	    KEYLEN, 2, TOKEN_CTX, master) != 0) {
		vault_shutdown();
		return -1;
	}
	sodium_mprotect_readonly(master);
	sodium_mprotect_readonly(token_keys);
	return 0;
}

int
vault_init(const char *data_dir)
{
	return master_init(data_dir, NULL);
}

int
vault_init_file(const char *path)
{
	return master_init(NULL, path);
}

int
vault_key_write(const char *path)
{
	if (master == NULL)
		return -1;
	return key_write(path, master);
}

int
vault_key_matches(const char *path)
{
	unsigned char	*k;
	int		 rc = -1;

	if (master == NULL || (k = sodium_malloc(KEYLEN)) == NULL)
		return -1;
	if (key_read(path, k) == 0)
		rc = sodium_memcmp(k, master, KEYLEN) == 0;
	sodium_free(k);
	return rc;
}

void
vault_shutdown(void)
{
	if (master != NULL)
		sodium_free(master);	/* wipes it */
	if (token_keys != NULL)
		sodium_free(token_keys);
	master = token_keys = NULL;
}

int
vault_seal(const void *pt, size_t n, const char *aad, unsigned char **out,
    size_t *outn)
{
	unsigned char		*b;
	unsigned long long	 clen;

	*out = NULL;
	if (master == NULL || (b = malloc(NONCELEN + n + TAGLEN)) == NULL)
		return -1;
	randombytes_buf(b, NONCELEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(b + NONCELEN, &clen, pt, n,
	    (const unsigned char *)aad, strlen(aad), NULL, b, master);
	*out = b;
	*outn = NONCELEN + (size_t)clen;
	return 0;
}

int
vault_open(const void *blob, size_t n, const char *aad, char **pt, size_t *ptn)
{
	const unsigned char	*b = blob;
	unsigned long long	 plen;
	char			*p;

	*pt = NULL;
	if (master == NULL || n < NONCELEN + TAGLEN)
		return -1;
	if ((p = sodium_malloc(n - NONCELEN - TAGLEN + 1)) == NULL)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)p, &plen,
	    NULL, b + NONCELEN, n - NONCELEN, (const unsigned char *)aad,
	    strlen(aad), b, master) != 0) {
		sodium_free(p);
		return -1;
	}
	p[plen] = '\0';
	*pt = p;
	*ptn = (size_t)plen;
	return 0;
}

void
vault_free(char *pt, size_t n)
{
	(void)n;
	if (pt != NULL)
		sodium_free(pt);	/* sodium_free wipes before freeing */
}

int
vault_mac_hex(const void *data, size_t n, char out[65])
{
	unsigned char	h[32];

	if (master == NULL)
		return -1;
	crypto_generichash(h, sizeof(h), data, n, master, KEYLEN);
	sodium_bin2hex(out, 65, h, sizeof(h));
	return 0;
}

/*
 * The nonce is a keyed hash of aad and plaintext (a synthetic nonce, as in
 * SIV): a nonce repeats only with the very same plaintext and aad, which
 * then gives the same text and tells nothing new.
 */
static void
token_nonce(const void *pt, size_t n, const char *aad, unsigned char *nonce)
{
	crypto_generichash_state	st;
	unsigned char			alen[8];
	size_t				al = strlen(aad), i;

	for (i = 0; i < sizeof(alen); i++)
		alen[i] = (unsigned char)((uint64_t)al >> (8 * i));
	crypto_generichash_init(&st, token_keys + KEYLEN, KEYLEN, NONCELEN);
	crypto_generichash_update(&st, alen, sizeof(alen));
	crypto_generichash_update(&st, (const unsigned char *)aad, al);
	crypto_generichash_update(&st, pt, n);
	crypto_generichash_final(&st, nonce, NONCELEN);
}

int
vault_token_seal(const void *pt, size_t n, const char *aad, char *out,
    size_t outn)
{
	unsigned char		b[NONCELEN + TOKEN_MAX + TAGLEN];
	unsigned long long	clen;

	if (token_keys == NULL || n > TOKEN_MAX || outn <
	    sodium_base64_ENCODED_LEN(NONCELEN + n + TAGLEN,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING))
		return -1;
	token_nonce(pt, n, aad, b);
	crypto_aead_xchacha20poly1305_ietf_encrypt(b + NONCELEN, &clen, pt, n,
	    (const unsigned char *)aad, strlen(aad), NULL, b, token_keys);
	sodium_bin2base64(out, outn, b, NONCELEN + (size_t)clen,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

int
vault_token_open(const char *text, const char *aad, char *pt, size_t ptmax,
    size_t *ptn)
{
	unsigned char		b[NONCELEN + TOKEN_MAX + TAGLEN];
	unsigned long long	plen;
	size_t			n;

	*ptn = 0;
	if (token_keys == NULL || sodium_base642bin(b, sizeof(b), text,
	    strlen(text), NULL, &n, NULL,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n < NONCELEN + TAGLEN || n - NONCELEN - TAGLEN >= ptmax)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)pt,
	    &plen, NULL, b + NONCELEN, n - NONCELEN, (const unsigned char *)aad,
	    strlen(aad), b, token_keys) != 0)
		return -1;
	pt[plen] = '\0';
	*ptn = (size_t)plen;
	return 0;
}

static void
wiping_free(void *p)
{
	if (p != NULL) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

void
vault_wipe_json_allocations(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}
