/*
 * base64 and hex on top of OpenSSL's block coders.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "encode.h"

char *
encode_base64_new(const unsigned char *buf, size_t len)
{
	char	*out;

	if (len > (size_t)0x3fffffff)
		return NULL;
	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

unsigned char *
encode_base64_decode_new(const char *in, size_t inlen, size_t *outlen)
{
	unsigned char	*clean = NULL, *out = NULL;
	size_t		 n = 0, pad = 0, i;
	int		 r;

	*outlen = 0;
	if ((clean = malloc(inlen + 1)) == NULL)
		goto fail;
	for (i = 0; i < inlen && in[i] != '\0'; i++) {
		if (in[i] == '\r' || in[i] == '\n' || in[i] == '\t' ||
		    in[i] == ' ')
			continue;
		if (!isalnum((unsigned char)in[i]) && in[i] != '+' &&
		    in[i] != '/' && in[i] != '=')
			goto fail;
		clean[n++] = (unsigned char)in[i];
	}
	if (n == 0 || n % 4 != 0 || n > (size_t)0x3fffffff)
		goto fail;
	/* '=' is only valid as one or two trailing pad characters. */
	while (pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	for (i = 0; i < n - pad; i++)
		if (clean[i] == '=')
			goto fail;
	if ((out = malloc(n / 4 * 3)) == NULL)
		goto fail;
	/* EVP_DecodeBlock counts pad bytes as zero output; drop them. */
	if ((r = EVP_DecodeBlock(out, clean, (int)n)) < 0 ||
	    (size_t)r < pad)
		goto fail;
	*outlen = (size_t)r - pad;
	free(clean);
	return out;
 fail:
	free(clean);
	free(out);
	return NULL;
}

void
encode_hex(const unsigned char *buf, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[buf[i] >> 4];
		out[2 * i + 1] = digits[buf[i] & 0xf];
	}
	out[2 * len] = '\0';
}

char *
encode_hex_new(const unsigned char *buf, size_t len)
{
	char	*out;

	if ((out = malloc(2 * len + 1)) != NULL)
		encode_hex(buf, len, out);
	return out;
}

static int
encode_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
encode_hex_decode(const char *hex, unsigned char *out, size_t outlen)
{
	size_t	i;
	int	hi, lo;

	if (strlen(hex) != 2 * outlen)
		return -1;
	for (i = 0; i < outlen; i++) {
		if ((hi = encode_hex_nibble(hex[2 * i])) < 0 ||
		    (lo = encode_hex_nibble(hex[2 * i + 1])) < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
