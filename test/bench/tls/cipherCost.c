/*
 * TLS record encryption cost on the board's CPU: AES-128-GCM and ChaCha20-Poly1305 (RFC 8439) through the same
 * mbedTLS 2.28 the runtime links (Debian's armel libmbedcrypto, static), one call per record as mbedTLS's record
 * layer makes them (mbedtls_cipher_auth_encrypt_ext: 12-byte nonce, 13 bytes of additional data, 16-byte tag).
 * Built and run by test/bench/tlsCost.ts under qemu-arm -cpu arm1176 with the instruction-counting plugin; the
 * marker syscall (toolchain/qemu/insncount.c) brackets the encryption loop only, so key set-up and libc do not count.
 *   cipherCost <aes-128-gcm|chacha20-poly1305> <record bytes> <records>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <mbedtls/cipher.h>

#define MARKER_SYSCALL 0xfcfc

int main(int argc, char** argv)
{
	const mbedtls_cipher_info_t* info;
	mbedtls_cipher_context_t ctx;
	unsigned char key[32], iv[12], ad[13], tag[16];
	unsigned char* in;
	unsigned char* out;
	size_t length, records, i, written;
	if (argc != 4) {
		fprintf(stderr, "usage: cipherCost <aes-128-gcm|chacha20-poly1305> <record bytes> <records>\n");
		return 2;
	}
	info = mbedtls_cipher_info_from_type(strcmp(argv[1], "aes-128-gcm") == 0 ? MBEDTLS_CIPHER_AES_128_GCM
		: strcmp(argv[1], "chacha20-poly1305") == 0 ? MBEDTLS_CIPHER_CHACHA20_POLY1305 : MBEDTLS_CIPHER_NONE);
	if (!info) {
		fprintf(stderr, "unknown cipher %s\n", argv[1]);
		return 2;
	}
	length = (size_t)strtoul(argv[2], NULL, 10);
	records = (size_t)strtoul(argv[3], NULL, 10);
	in = malloc(length);
	out = malloc(length + 16);
	if (!in || !out)
		return 3;
	for (i = 0; i < length; i++)
		in[i] = (unsigned char)(i * 31 + 7);
	memset(key, 0x42, sizeof(key));
	memset(iv, 0, sizeof(iv));
	memset(ad, 0x17, sizeof(ad));
	mbedtls_cipher_init(&ctx);
	if (mbedtls_cipher_setup(&ctx, info) || mbedtls_cipher_setkey(&ctx, key, (int)info->key_bitlen, MBEDTLS_ENCRYPT))
		return 4;
	syscall(MARKER_SYSCALL, 1);
	for (i = 0; i < records; i++) {
		iv[11] = (unsigned char)i; /* the record sequence number in the nonce, as TLS 1.2 does */
		if (mbedtls_cipher_auth_encrypt_ext(&ctx, iv, sizeof(iv), ad, sizeof(ad), in, length, out, length + 16, &written, 16))
			return 5;
	}
	syscall(MARKER_SYSCALL, 0);
	memcpy(tag, out + length, 16);
	printf("%s %zu x %zu tag %02x%02x\n", argv[1], records, length, tag[0], tag[1]);
	mbedtls_cipher_free(&ctx);
	return 0;
}
