/*
 * TLS 1.2 client sessions with mbedTLS 2.28 over the loop's non-blocking sockets (net.c owns the socket;
 * this file owns the mbedTLS state). Server verification is always required: the CA bundle comes from the
 * caller (boards have no trust store) and the name checked is servername || host.
 *
 * IP literals: mbedTLS 2.28 matches the name given to mbedtls_ssl_set_hostname against dNSName entries
 * and the subject CN only; an iPAddress entry holds 4 or 16 raw bytes and never matches the text
 * "127.0.0.1". (IP matching arrived in mbedTLS 3.5.) So for an IP literal no hostname is set (which also
 * keeps it out of SNI, RFC 6066 §3 forbids literal addresses there) and verifyCertificate checks the leaf's
 * iPAddress entries itself, raising the same CN_MISMATCH flag a name mismatch raises.
 *
 * Error messages start with a stable code word: "TLS_VERIFY: <why the chain or name was rejected>",
 * "ECONNRESET: …" (the socket failed under TLS, from errno), "TLS: <mbedtls_strerror>" otherwise.
 */
#include "runtime.h"
#include <arpa/inet.h>
#include <sys/socket.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

struct FieldcamTls {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config config;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
	int* fd;                 /* the socket's current fd (net.c may move to the next address) */
	int lastErrno;           /* why the last send/recv failed, for a message with an errno name */
	unsigned char ip[16];    /* the IP literal to find in the leaf's iPAddress entries */
	size_t ipLength;         /* 0: a DNS name, checked by mbedTLS */
};

/*
 * The cipher suites offered, in order: mbedTLS's own list (every suite it was built with, its preference), with the
 * ChaCha20-Poly1305 suites (RFC 7905) moved to the front. Payload encryption is the irreducible per-byte cost of
 * upload once framing is lean, and on the ARM1176 (no AES instructions, no carry-less multiply) ChaCha20-Poly1305
 * costs ~38 instructions per byte against ~138 for AES-128-GCM (docs/performance.md, test/bench/tlsCost.ts). The
 * server still chooses (a server that prefers its own order, as AWS and Node's default do, may pick AES-GCM); both
 * work. Built once, on first use.
 */
#define MAX_SUITES 256
static int gSuites[MAX_SUITES + 1];

static const int* offeredSuites(void)
{
	const int* all;
	size_t n = 0;
	int pass;
	if (gSuites[0])
		return gSuites;
	all = mbedtls_ssl_list_ciphersuites();
	for (pass = 0; pass < 2; pass++) {
		size_t i;
		for (i = 0; all[i] && n < MAX_SUITES; i++) {
			const mbedtls_ssl_ciphersuite_t* info = mbedtls_ssl_ciphersuite_from_id(all[i]);
			int chacha = info && info->cipher == MBEDTLS_CIPHER_CHACHA20_POLY1305;
			if (chacha == (pass == 0))
				gSuites[n++] = all[i];
		}
	}
	gSuites[n] = 0;
	return gSuites;
}

/* One random generator for every session, seeded once from the system's entropy. */
static mbedtls_entropy_context gEntropy;
static mbedtls_ctr_drbg_context gRandom;
static int gSeeded = 0;

static int seedRandom(char* error, size_t errorSize)
{
	static const unsigned char personal[] = "fieldcam-runtime tls";
	int ret;
	if (gSeeded)
		return 0;
	mbedtls_entropy_init(&gEntropy);
	mbedtls_ctr_drbg_init(&gRandom);
	ret = mbedtls_ctr_drbg_seed(&gRandom, mbedtls_entropy_func, &gEntropy, personal, sizeof(personal) - 1);
	if (ret) {
		char text[120];
		mbedtls_strerror(ret, text, sizeof(text));
		snprintf(error, errorSize, "TLS: cannot seed the random generator: %s", text);
		mbedtls_ctr_drbg_free(&gRandom);
		mbedtls_entropy_free(&gEntropy);
		return -1;
	}
	gSeeded = 1;
	return 0;
}

static int sendBytes(void* context, const unsigned char* data, size_t length)
{
	FieldcamTls* tls = context;
	for (;;) {
		ssize_t sent = send(*tls->fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent >= 0)
			return (int)sent;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		tls->lastErrno = errno;
		return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

static int receiveBytes(void* context, unsigned char* into, size_t length)
{
	FieldcamTls* tls = context;
	for (;;) {
		ssize_t received = recv(*tls->fd, into, length, MSG_DONTWAIT);
		if (received >= 0)
			return (int)received;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_READ;
		tls->lastErrno = errno;
		return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

/* Called by mbedTLS for each certificate of the chain; only the leaf (depth 0) names the server. */
static int verifyCertificate(void* context, mbedtls_x509_crt* certificate, int depth, uint32_t* flags)
{
	FieldcamTls* tls = context;
	const mbedtls_x509_sequence* name;
	if (depth != 0 || tls->ipLength == 0)
		return 0;
	for (name = &certificate->subject_alt_names; name && name->buf.p; name = name->next) {
		/* GeneralName iPAddress is [7] IMPLICIT OCTET STRING (RFC 5280 §4.2.1.6). */
		if (name->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_IP_ADDRESS)
				&& name->buf.len == tls->ipLength && memcmp(name->buf.p, tls->ip, tls->ipLength) == 0)
			return 0;
	}
	*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	return 0;
}

/* Writes the message for an mbedTLS result: verification, a socket error by errno name, or mbedTLS's text. */
static void describe(FieldcamTls* tls, int ret, char* error, size_t errorSize)
{
	char text[240];
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&tls->ssl);
		char* line;
		int written = mbedtls_x509_crt_verify_info(text, sizeof(text), "", flags);
		if (written < 0)
			snprintf(text, sizeof(text), "verification failed (flags 0x%x)", (unsigned)flags);
		/* One line: the causes, separated by "; ". */
		while ((line = strchr(text, '\n'))) {
			if (line[1])
				*line = ';';
			else
				*line = 0;
		}
		snprintf(error, errorSize, "TLS_VERIFY: %s", text);
		return;
	}
	if ((ret == MBEDTLS_ERR_NET_CONN_RESET || ret == MBEDTLS_ERR_NET_SEND_FAILED || ret == MBEDTLS_ERR_NET_RECV_FAILED)
			&& tls->lastErrno) {
		snprintf(error, errorSize, "%s: %s", fieldcamErrnoName(tls->lastErrno), strerror(tls->lastErrno));
		return;
	}
	mbedtls_strerror(ret, text, sizeof(text));
	snprintf(error, errorSize, "TLS: %s", text);
}

/* mbedTLS's PEM parsers take the text with its terminating NUL counted. */
static size_t pemLength(const char* pem)
{
	return strlen(pem) + 1;
}

FieldcamTls* fieldcamTlsCreate(const char* name, const char* ca, const char* cert, const char* key, int* fd,
	char* error, size_t errorSize)
{
	FieldcamTls* tls;
	char text[160];
	int ret;
	if (seedRandom(error, errorSize))
		return NULL;
	tls = calloc(1, sizeof(FieldcamTls));
	if (!tls) {
		snprintf(error, errorSize, "ENOMEM: TLS session: %s", strerror(ENOMEM));
		return NULL;
	}
	tls->fd = fd;
	mbedtls_ssl_init(&tls->ssl);
	mbedtls_ssl_config_init(&tls->config);
	mbedtls_x509_crt_init(&tls->ca);
	mbedtls_x509_crt_init(&tls->cert);
	mbedtls_pk_init(&tls->key);

	/* A bundle may hold certificates mbedTLS cannot use (> 0: how many it skipped); one usable root suffices. */
	ret = mbedtls_x509_crt_parse(&tls->ca, (const unsigned char*)ca, pemLength(ca));
	if (ret < 0 || tls->ca.version == 0) {
		mbedtls_strerror(ret, text, sizeof(text));
		snprintf(error, errorSize, "TLS_CA: tls.ca holds no usable certificate: %s", ret < 0 ? text : "none parsed");
		goto fail;
	}
	if (cert) {
		ret = mbedtls_x509_crt_parse(&tls->cert, (const unsigned char*)cert, pemLength(cert));
		if (ret != 0) {
			mbedtls_strerror(ret, text, sizeof(text));
			snprintf(error, errorSize, "TLS_CERT: tls.cert is not a usable certificate: %s", text);
			goto fail;
		}
		ret = mbedtls_pk_parse_key(&tls->key, (const unsigned char*)key, pemLength(key), NULL, 0);
		if (ret != 0) {
			mbedtls_strerror(ret, text, sizeof(text));
			snprintf(error, errorSize, "TLS_KEY: tls.key is not a usable private key: %s", text);
			goto fail;
		}
	}

	ret = mbedtls_ssl_config_defaults(&tls->config, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
		MBEDTLS_SSL_PRESET_DEFAULT);
	if (ret)
		goto failTls;
	/* design.md §2: verification is never optional; TLS 1.2 is the floor. */
	mbedtls_ssl_conf_authmode(&tls->config, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_min_version(&tls->config, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ca_chain(&tls->config, &tls->ca, NULL);
	mbedtls_ssl_conf_rng(&tls->config, mbedtls_ctr_drbg_random, &gRandom);
	mbedtls_ssl_conf_verify(&tls->config, verifyCertificate, tls);
	mbedtls_ssl_conf_ciphersuites(&tls->config, offeredSuites());
	if (cert) {
		ret = mbedtls_ssl_conf_own_cert(&tls->config, &tls->cert, &tls->key);
		if (ret)
			goto failTls;
	}
	ret = mbedtls_ssl_setup(&tls->ssl, &tls->config);
	if (ret)
		goto failTls;
	if (inet_pton(AF_INET, name, tls->ip) == 1)
		tls->ipLength = 4;
	else if (inet_pton(AF_INET6, name, tls->ip) == 1)
		tls->ipLength = 16;
	else {
		/* SNI and the name mbedTLS checks against dNSName entries (or the CN without any). */
		ret = mbedtls_ssl_set_hostname(&tls->ssl, name);
		if (ret)
			goto failTls;
	}
	mbedtls_ssl_set_bio(&tls->ssl, tls, sendBytes, receiveBytes, NULL);
	return tls;

failTls:
	describe(tls, ret, error, errorSize);
fail:
	fieldcamTlsFree(tls);
	return NULL;
}

/* Handshakes completed (every session): what native.tlsStats() reports beside the records. */
static double gHandshakes = 0;

int fieldcamTlsHandshake(FieldcamTls* tls, char* error, size_t errorSize)
{
	int ret = mbedtls_ssl_handshake(&tls->ssl);
	if (ret == 0) {
		gHandshakes++;
		return FIELDCAM_TLS_DONE;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return FIELDCAM_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return FIELDCAM_TLS_WANT_WRITE;
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF && !tls->lastErrno) {
		snprintf(error, errorSize, "ECONNRESET: the server closed the connection during the TLS handshake");
		return FIELDCAM_TLS_ERROR;
	}
	describe(tls, ret, error, errorSize);
	return FIELDCAM_TLS_ERROR;
}

int fieldcamTlsRead(FieldcamTls* tls, uint8_t* into, size_t length, char* error, size_t errorSize)
{
	int ret = mbedtls_ssl_read(&tls->ssl, into, length);
	if (ret > 0)
		return ret;
	/* close_notify, or the TCP stream ending where a record ends: the peer is done (HTTP and MQTT frame
	 * their own messages, so a truncation shows up there). */
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF)
		return FIELDCAM_TLS_CLOSED;
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return FIELDCAM_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return FIELDCAM_TLS_WANT_WRITE;
	describe(tls, ret, error, errorSize);
	return FIELDCAM_TLS_ERROR;
}

/* Records mbedTLS wrote (application data, every session): what native.tlsStats() reports. */
static double gRecordsWritten = 0;
static double gBytesWritten = 0;

int fieldcamTlsWrite(FieldcamTls* tls, const uint8_t* data, size_t length, char* error, size_t errorSize)
{
	int ret = mbedtls_ssl_write(&tls->ssl, data, length);
	if (ret > 0) {
		/* ssl_write takes at most one record's payload per call (callers never pass more): one call, one record. */
		gRecordsWritten++;
		gBytesWritten += ret;
		return ret;
	}
	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return FIELDCAM_TLS_WANT_READ;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return FIELDCAM_TLS_WANT_WRITE;
	describe(tls, ret, error, errorSize);
	return FIELDCAM_TLS_ERROR;
}

size_t fieldcamTlsRecordLimit(FieldcamTls* tls)
{
	int limit = mbedtls_ssl_get_max_out_record_payload(&tls->ssl);
	return limit > 0 ? (size_t)limit : 1024;
}

size_t fieldcamTlsBuffered(FieldcamTls* tls)
{
	/* Decrypted bytes of the current record, or a record already pulled from the socket. */
	return mbedtls_ssl_get_bytes_avail(&tls->ssl) + (size_t)mbedtls_ssl_check_pending(&tls->ssl);
}

void fieldcamTlsFree(FieldcamTls* tls)
{
	if (!tls)
		return;
	if (*tls->fd >= 0 && tls->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER)
		mbedtls_ssl_close_notify(&tls->ssl); /* best effort: the socket is non-blocking and about to close */
	mbedtls_ssl_free(&tls->ssl);
	mbedtls_ssl_config_free(&tls->config);
	mbedtls_x509_crt_free(&tls->ca);
	mbedtls_x509_crt_free(&tls->cert);
	mbedtls_pk_free(&tls->key);
	free(tls);
}

/* native.tlsStats(): { records, bytes } of application data written since start and the handshakes completed, all
 * sessions (status lines, tests, bench). */
void fieldcamNativeTlsStats(txMachine* the)
{
	xsVars(1);
	xsResult = xsNewObject();
	xsVar(0) = xsNumber(gRecordsWritten);
	xsDefine(xsResult, xsID("records"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber(gBytesWritten);
	xsDefine(xsResult, xsID("bytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber(gHandshakes);
	xsDefine(xsResult, xsID("handshakes"), xsVar(0), xsDontSet);
}
