/* SHA-256 (FIPS 180-4), for holding virtual keys hashed: APR-util offers only MD5 and
 * SHA-1, and one small function does not justify a crypto library dependency. */
#ifndef MCPGW_SHA256_H
#define MCPGW_SHA256_H

#include <stddef.h>

#define MCPGW_SHA256_LEN 32

void mcpgw_sha256(const void *data, size_t len, unsigned char out[MCPGW_SHA256_LEN]);

/* Lowercase hex of the digest (65 bytes with the terminator). */
void mcpgw_sha256_hex(const void *data, size_t len, char out[2 * MCPGW_SHA256_LEN + 1]);

/* Digest <-> lowercase hex (out holds 2 * MCPGW_SHA256_LEN + 1 bytes). from_hex returns
 * 0 for anything but exactly 64 lowercase hex digits. */
void mcpgw_digest_to_hex(const unsigned char d[MCPGW_SHA256_LEN], char *out);
int mcpgw_digest_from_hex(const char *hex, unsigned char d[MCPGW_SHA256_LEN]);

/* Compares two digests in time independent of where they differ. */
int mcpgw_digest_equal(const unsigned char *a, const unsigned char *b, size_t len);

#endif
