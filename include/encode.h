/*
 * Text encodings of binary data: base64 (RFC 4648) and hex.
 * Functions named _new return memory the caller frees with free().
 */
#ifndef SCEPD_ENCODE_H
#define SCEPD_ENCODE_H

#include <stddef.h>

char	*encode_base64_new(const unsigned char *buf, size_t len);
/*
 * Decodes base64 text of at most inlen bytes, skipping white space
 * (CR, LF, tab, blank) as found in wrapped or form-encoded input.
 * Returns NULL on any other invalid character or bad length.
 */
unsigned char *encode_base64_decode_new(const char *in, size_t inlen,
	    size_t *outlen);
/* Lower-case hex into out, which holds 2 * len + 1 bytes. */
void	 encode_hex(const unsigned char *buf, size_t len, char *out);
/* Lower-case hex. */
char	*encode_hex_new(const unsigned char *buf, size_t len);
/* Decodes exactly outlen bytes of hex; -1 on bad input. */
int	 encode_hex_decode(const char *hex, unsigned char *out,
	    size_t outlen);

#endif
