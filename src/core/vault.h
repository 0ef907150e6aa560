/*
 * vault: secrets at rest.  Bank credentials, stored MFA answers, connector
 * state and webhook keys are sealed with XChaCha20-Poly1305 under one master
 * key before they reach the database, each bound to its row (the row id is
 * the associated data, so a sealed value copied to another row won't open).
 *
 * The master key comes from BANKFEED_MASTER_KEY (64 hex digits) or from
 * DATA_DIR/master.key, created with mode 0600 on first start.  It lives in
 * guarded, read-only sodium memory.  Opened secrets are returned in sodium
 * memory too; vault_free() wipes them.
 */
#ifndef BF_VAULT_H
#define BF_VAULT_H

#include <stddef.h>

int	vault_init(const char *data_dir);
/*
 * For bankfeed backup and restore.  vault_init_file takes the key from a
 * key file (a master.key, or the .key file of a backup), never from the
 * environment, and never makes one: 0, or -1 logged.  vault_key_write
 * writes the key in force to a new file in master.key's form (0600, synced;
 * an existing file is never replaced).  vault_key_matches tells whether a
 * key file holds the key in force: 1, 0, or -1 when it cannot be read.
 */
int	vault_init_file(const char *path);
int	vault_key_write(const char *path);
int	vault_key_matches(const char *path);
void	vault_shutdown(void);
/* Seals n bytes; *out (malloc'd) holds nonce and ciphertext.  0 or -1. */
int	vault_seal(const void *pt, size_t n, const char *aad,
	    unsigned char **out, size_t *outn);
/* Opens a sealed value; *pt is NUL-terminated sodium memory.  0 or -1. */
int	vault_open(const void *blob, size_t n, const char *aad, char **pt,
	    size_t *ptn);
void	vault_free(char *pt, size_t n);
/*
 * A keyed hash (BLAKE2b under a key derived from the master key) as 64
 * hex digits: recognizes the same login twice without storing it.
 */
int	vault_mac_hex(const void *data, size_t n, char out[65]);

/*
 * Tokens: values the server hands out and must get back unchanged (list
 * cursors), as URL-safe base64 text without padding.  Sealed with
 * XChaCha20-Poly1305 under a key derived from the master key (so they stay
 * valid across restarts, and no client can read or forge one) and bound to
 * aad (a token given for one aad does not open under another).  The same
 * plaintext and aad always give the same text.  vault_token_seal writes
 * at most VAULT_TOKEN_LEN(n) bytes with the NUL; vault_token_open fills pt
 * (NUL-terminated, at most ptmax bytes with the NUL).  0, or -1 when the
 * text was not sealed by this server for aad, or a buffer is too small.
 */
#define VAULT_TOKEN_LEN(n)	((((n) + 40 + 2) / 3) * 4 + 1)
int	vault_token_seal(const void *pt, size_t n, const char *aad, char *out,
	    size_t outn);
int	vault_token_open(const char *text, const char *aad, char *pt,
	    size_t ptmax, size_t *ptn);

/*
 * Makes jansson wipe every block it frees, so credentials parsed from a
 * request body do not linger in freed heap memory.  Call once at start.
 */
void	vault_wipe_json_allocations(void);

#endif
