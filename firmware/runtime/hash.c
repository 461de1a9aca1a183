/*
 * SHA-256 and HMAC-SHA256 over byte ranges, with mbedTLS's SHA-256 (pure-JS SHA-256 costs ~12e9 ARM
 * instructions per MiB, design.md §2). No allocation: contexts live on the C stack and the digest is
 * written into the caller's view.
 *   native.sha256(data, offset, length, out, outOffset)
 *   native.hmacSha256(key, data, offset, length, out, outOffset)    key: the whole view
 */
#include "runtime.h"
#include <mbedtls/sha256.h>
#include <mbedtls/platform_util.h>

#define SHA256_BLOCK 64
#define SHA256_SIZE 32

void fieldcamNativeSha256(txMachine* the)
{
	double offset = fieldcamToIndex(the, &xsArg(1), "offset");
	double length = fieldcamToIndex(the, &xsArg(2), "length");
	double outOffset = fieldcamToIndex(the, &xsArg(4), "outOffset");
	const uint8_t* data = fieldcamViewRange(the, &xsArg(0), offset, length, "data");
	uint8_t* out = fieldcamViewRange(the, &xsArg(3), outOffset, SHA256_SIZE, "out");
	if (mbedtls_sha256_ret(data, (size_t)length, out, 0) != 0)
		xsUnknownError("sha256: mbedTLS failed");
}

/*
 * HMAC (RFC 2104): H((K ^ opad) || H((K ^ ipad) || message)), K being the key zero-padded to the block
 * size, or its digest when it is longer than a block.
 */
void fieldcamNativeHmacSha256(txMachine* the)
{
	double offset = fieldcamToIndex(the, &xsArg(2), "offset");
	double length = fieldcamToIndex(the, &xsArg(3), "length");
	double outOffset = fieldcamToIndex(the, &xsArg(5), "outOffset");
	size_t keyLength;
	const uint8_t* key = fieldcamViewData(the, &xsArg(0), 1, &keyLength, "key");
	const uint8_t* data = fieldcamViewRange(the, &xsArg(1), offset, length, "data");
	uint8_t* out = fieldcamViewRange(the, &xsArg(4), outOffset, SHA256_SIZE, "out");
	uint8_t block[SHA256_BLOCK];
	uint8_t inner[SHA256_SIZE];
	mbedtls_sha256_context context;
	int failed = 0;
	size_t i;

	memset(block, 0, sizeof(block));
	if (keyLength > SHA256_BLOCK)
		failed |= mbedtls_sha256_ret(key, keyLength, block, 0);
	else
		memcpy(block, key, keyLength);
	mbedtls_sha256_init(&context);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36; /* ipad */
	failed |= mbedtls_sha256_starts_ret(&context, 0);
	failed |= mbedtls_sha256_update_ret(&context, block, sizeof(block));
	failed |= mbedtls_sha256_update_ret(&context, data, (size_t)length);
	failed |= mbedtls_sha256_finish_ret(&context, inner);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c; /* ipad off, opad on */
	failed |= mbedtls_sha256_starts_ret(&context, 0);
	failed |= mbedtls_sha256_update_ret(&context, block, sizeof(block));
	failed |= mbedtls_sha256_update_ret(&context, inner, sizeof(inner));
	failed |= mbedtls_sha256_finish_ret(&context, out);
	mbedtls_sha256_free(&context);
	/* The padded key is secret material: do not leave it on the stack. */
	mbedtls_platform_zeroize(block, sizeof(block));
	mbedtls_platform_zeroize(inner, sizeof(inner));
	if (failed)
		xsUnknownError("hmacSha256: mbedTLS failed");
}
