/*
 * Client sockets: non-blocking TCP (TCP_NODELAY) with DNS, optionally under TLS (tls.c), driven by the loop.
 *   native.socketOpen(host, port, tls?)                 handle at once; the outcome arrives as events
 *   native.socketRead(handle, into, offset, length)     copies held bytes out; returns the count
 *   native.socketWrite(handle, sources, offsets, lengths, count)
 *                                                       gather write; returns bytes writable before backpressure
 *   native.socketClose(handle)                          closes at once, queued bytes discarded, no more events
 * Events: SOCKET_CONNECT (after the handshake under TLS), SOCKET_READABLE (bytes held), SOCKET_WRITABLE
 * (room before backpressure, only after a write returned <= 0), SOCKET_CLOSE (undefined for an orderly end
 * by the peer, else "ECONNREFUSED: …", "NET_DNS_FAILED: …", "NET_DNS_TIMEOUT: …", "TLS_VERIFY: …",
 * "ECONNRESET: …").
 *
 * Buffers. Each socket holds up to RECEIVE_BYTES the peer sent and JS has not read yet; while that is full
 * the loop stops polling for input, so a slow reader pushes back on the peer through TCP itself. Bytes the
 * kernel (or TLS) does not take at once go to a send queue; socketWrite reports SEND_LIMIT minus what is
 * queued, and a caller at <= 0 waits for SOCKET_WRITABLE. The queue accepts every byte it is given: the
 * limit is advice the board layer follows, so nothing is ever dropped silently.
 *
 * DNS. Numeric hosts and "localhost" are resolved here without the resolver (no NSS, no thread). Other
 * names go to resolver.c, which runs getaddrinfo on a thread and holds answers: the loop never waits for a
 * nameserver, so the camera keeps being read while a lookup hangs. A socket waiting for a lookup is
 * RESOLVING: its fd is a timerfd armed for the lookup's deadline (fieldcamDnsTimeoutMs, runtime time), so
 * it needs no other source and closing it mid-lookup frees everything it owns. Failures arrive as
 * SOCKET_CLOSE "NET_DNS_FAILED: …" (the resolver said no) or "NET_DNS_TIMEOUT: …" (no answer in time).
 */
#include "runtime.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

#define RECEIVE_BYTES (16 * 1024)
#define SEND_LIMIT (64 * 1024)
#define MAX_ADDRESSES FIELDCAM_MAX_ADDRESSES
#define GATHER_BATCH 64

enum { START, RESOLVING, CONNECTING, HANDSHAKING, OPEN, CLOSED };

typedef struct Socket {
	FieldcamSource source;    /* first: the loop hands the source back to socketReady */
	int handle;
	int state;
	char host[256];
	int port;
	struct sockaddr_storage addresses[MAX_ADDRESSES];
	socklen_t addressLengths[MAX_ADDRESSES];
	int addressCount;
	int addressIndex;
	int connectErrno;         /* the last address's failure, reported when none is left */
	FieldcamTls* tls;
	short handshakeEvents;    /* what the TLS handshake waits for */
	int tlsWantsWrite;        /* a TLS read needs the socket writable (renegotiation) */
	size_t tlsPending;        /* bytes at the queue's front that mbedTLS already took: repeat that write */
	int wantWritable;         /* a write returned <= 0: dispatch SOCKET_WRITABLE once the queue drains */
	int failPending;          /* a native decided to close: deliver SOCKET_CLOSE at the next turn */
	char failure[320];
	uint8_t* queue;
	size_t queueStart;
	size_t queueLength;
	size_t queueCapacity;
	size_t receivedStart;
	size_t receivedLength;
	uint8_t received[RECEIVE_BYTES];
	struct Socket* next;
} Socket;

static Socket* gSockets = NULL;
static int gNextHandle = 1;

static Socket* findSocket(txMachine* the, xsSlot* value, int required)
{
	double handle = xsToNumber(*value);
	Socket* sock;
	for (sock = gSockets; sock; sock = sock->next) {
		if ((double)sock->handle == handle)
			return sock;
	}
	if (required)
		fieldcamThrowError(the, "EBADF: socket %g is not open", handle);
	return NULL;
}

static void updateEvents(Socket* sock)
{
	short events = 0;
	switch (sock->state) {
	case RESOLVING:
		events = POLLIN; /* the deadline's timerfd */
		break;
	case CONNECTING:
		events = POLLOUT;
		break;
	case HANDSHAKING:
		events = sock->handshakeEvents;
		break;
	case OPEN:
		if (sock->receivedLength < RECEIVE_BYTES)
			events |= POLLIN;
		if (sock->queueLength > 0 || sock->tlsWantsWrite)
			events |= POLLOUT;
		break;
	default:
		break;
	}
	sock->source.events = events;
}

/* Ends the connection and tells JS (message NULL: an orderly close by the peer). Held bytes stay readable. */
static void fail(txMachine* the, Socket* sock, const char* message)
{
	char copy[sizeof(sock->failure)];
	fieldcamTlsFree(sock->tls);
	sock->tls = NULL;
	if (sock->source.fd >= 0)
		close(sock->source.fd);
	sock->source.fd = -1;
	sock->source.events = 0;
	sock->source.alive = 0;
	sock->state = CLOSED;
	sock->queueLength = 0;
	sock->tlsPending = 0;
	if (message)
		snprintf(copy, sizeof(copy), "%s", message);
	fieldcamDispatchString(the, FIELDCAM_EVENT_SOCKET_CLOSE, sock->handle, message ? copy : NULL);
}

/* From inside a native: the close is delivered by the loop at the next turn (never re-entrantly). */
static void failLater(Socket* sock, int error, const char* what)
{
	if (sock->failPending)
		return;
	snprintf(sock->failure, sizeof(sock->failure), "%s: %s: %s", fieldcamErrnoName(error), what, strerror(error));
	sock->failPending = 1;
	sock->source.pending = 1;
}

static void failErrno(txMachine* the, Socket* sock, int error, const char* what)
{
	char message[sizeof(sock->failure)];
	snprintf(message, sizeof(message), "%s: %s %s:%d: %s", fieldcamErrnoName(error), what, sock->host, sock->port,
		strerror(error));
	fail(the, sock, message);
}

/* ---- the send queue ---- */

static int enqueue(Socket* sock, const uint8_t* data, size_t length)
{
	if (sock->queueLength == 0)
		sock->queueStart = 0;
	if (sock->queueStart + sock->queueLength + length > sock->queueCapacity) {
		if (sock->queueStart > 0) {
			memmove(sock->queue, sock->queue + sock->queueStart, sock->queueLength);
			sock->queueStart = 0;
		}
		if (sock->queueLength + length > sock->queueCapacity) {
			size_t capacity = sock->queueCapacity ? sock->queueCapacity : 4096;
			uint8_t* queue;
			while (capacity < sock->queueLength + length)
				capacity *= 2;
			queue = realloc(sock->queue, capacity);
			if (!queue)
				return ENOMEM;
			sock->queue = queue;
			sock->queueCapacity = capacity;
		}
	}
	memcpy(sock->queue + sock->queueStart + sock->queueLength, data, length);
	sock->queueLength += length;
	return 0;
}

static void dequeue(Socket* sock, size_t count)
{
	sock->queueStart += count;
	sock->queueLength -= count;
	if (sock->queueLength == 0)
		sock->queueStart = 0;
}

/* Sends what the queue holds until the kernel (or TLS) would block; 0, or -1 after failing the socket. */
static int flush(txMachine* the, Socket* sock)
{
	char message[sizeof(sock->failure)];
	while (sock->queueLength > 0) {
		const uint8_t* front = sock->queue + sock->queueStart;
		if (sock->tls) {
			size_t limit = fieldcamTlsRecordLimit(sock->tls);
			size_t length = sock->tlsPending ? sock->tlsPending : (sock->queueLength < limit ? sock->queueLength : limit);
			int ret = fieldcamTlsWrite(sock->tls, front, length, message, sizeof(message));
			if (ret > 0) {
				sock->tlsPending = 0;
				dequeue(sock, (size_t)ret);
				continue;
			}
			if (ret == FIELDCAM_TLS_WANT_WRITE || ret == FIELDCAM_TLS_WANT_READ) {
				sock->tlsPending = length; /* mbedTLS holds that record: same bytes, same length next time */
				return 0;
			}
			fail(the, sock, message);
			return -1;
		}
		else {
			ssize_t sent = send(sock->source.fd, front, sock->queueLength, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (sent >= 0) {
				dequeue(sock, (size_t)sent);
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			failErrno(the, sock, errno, "send to");
			return -1;
		}
	}
	return 0;
}

/* After a flush: SOCKET_WRITABLE when a write had hit backpressure and the queue is below the limit again. */
static void maybeWritable(txMachine* the, Socket* sock)
{
	if (!sock->wantWritable || sock->state != OPEN || sock->queueLength >= SEND_LIMIT)
		return;
	sock->wantWritable = 0;
	fieldcamDispatchNumber(the, FIELDCAM_EVENT_SOCKET_WRITABLE, sock->handle, (double)(SEND_LIMIT - sock->queueLength));
}

/* ---- receiving ---- */

static void receive(txMachine* the, Socket* sock)
{
	size_t before = sock->receivedLength;
	int ended = 0;
	int error = 0;
	char message[sizeof(sock->failure)];
	sock->tlsWantsWrite = 0;
	while (sock->receivedLength < RECEIVE_BYTES) {
		uint8_t* end;
		size_t room;
		if (sock->receivedStart > 0) {
			memmove(sock->received, sock->received + sock->receivedStart, sock->receivedLength);
			sock->receivedStart = 0;
		}
		end = sock->received + sock->receivedLength;
		room = RECEIVE_BYTES - sock->receivedLength;
		if (sock->tls) {
			int ret = fieldcamTlsRead(sock->tls, end, room, message, sizeof(message));
			if (ret > 0) {
				sock->receivedLength += (size_t)ret;
				continue;
			}
			if (ret == FIELDCAM_TLS_WANT_WRITE)
				sock->tlsWantsWrite = 1;
			else if (ret == FIELDCAM_TLS_CLOSED)
				ended = 1;
			else if (ret == FIELDCAM_TLS_ERROR)
				error = -1;
			break;
		}
		else {
			ssize_t count = recv(sock->source.fd, end, room, MSG_DONTWAIT);
			if (count > 0) {
				sock->receivedLength += (size_t)count;
				continue;
			}
			if (count == 0)
				ended = 1;
			else if (errno == EINTR)
				continue;
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				error = errno;
			break;
		}
	}
	if (sock->receivedLength > before) {
		fieldcamDispatchNumber(the, FIELDCAM_EVENT_SOCKET_READABLE, sock->handle, (double)sock->receivedLength);
		if (sock->source.removed || sock->state != OPEN)
			return;
	}
	if (error == -1)
		fail(the, sock, message);
	else if (error)
		failErrno(the, sock, error, "receive from");
	else if (ended)
		fail(the, sock, NULL);
}

/* ---- connecting ---- */

static void opened(txMachine* the, Socket* sock)
{
	sock->state = OPEN;
	/* Bytes written before the connection was up go out first, then JS hears about it. */
	if (flush(the, sock) < 0)
		return;
	fieldcamDispatchString(the, FIELDCAM_EVENT_SOCKET_CONNECT, sock->handle, NULL);
	if (sock->source.removed || sock->state != OPEN)
		return;
	maybeWritable(the, sock);
}

static void handshake(txMachine* the, Socket* sock)
{
	char message[sizeof(sock->failure)];
	int ret = fieldcamTlsHandshake(sock->tls, message, sizeof(message));
	if (ret == FIELDCAM_TLS_DONE)
		opened(the, sock);
	else if (ret == FIELDCAM_TLS_WANT_READ)
		sock->handshakeEvents = POLLIN;
	else if (ret == FIELDCAM_TLS_WANT_WRITE)
		sock->handshakeEvents = POLLOUT;
	else
		fail(the, sock, message);
}

static void connected(txMachine* the, Socket* sock)
{
	if (sock->tls) {
		sock->state = HANDSHAKING;
		handshake(the, sock);
	}
	else
		opened(the, sock);
}

/* Tries the remaining addresses in order until one is connecting; fails with the last error when none is. */
static void connectNext(txMachine* the, Socket* sock)
{
	while (sock->addressIndex < sock->addressCount) {
		struct sockaddr* address = (struct sockaddr*)&sock->addresses[sock->addressIndex];
		socklen_t length = sock->addressLengths[sock->addressIndex];
		int one = 1;
		int fd;
		sock->addressIndex++;
		fd = socket(address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			sock->connectErrno = errno;
			continue;
		}
		/* Small writes (HTTP chunk headers, MQTT packets) must not wait for Nagle's timer. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sock->source.fd = fd;
		if (connect(fd, address, length) == 0) {
			connected(the, sock);
			return;
		}
		if (errno == EINPROGRESS) {
			sock->state = CONNECTING;
			return;
		}
		sock->connectErrno = errno;
		close(fd);
		sock->source.fd = -1;
	}
	failErrno(the, sock, sock->connectErrno ? sock->connectErrno : EHOSTUNREACH, "connect to");
}

static void resolved(txMachine* the, Socket* sock, short revents);

static void socketReady(txMachine* the, FieldcamSource* source, short revents)
{
	Socket* sock = (Socket*)source;
	if (sock->failPending) {
		sock->failPending = 0;
		fail(the, sock, sock->failure);
		return;
	}
	switch (sock->state) {
	case START:
		connectNext(the, sock);
		break;
	case RESOLVING:
		resolved(the, sock, revents);
		if (source->removed || sock->state == RESOLVING)
			return;
		break;
	case CONNECTING: {
		int error = 0;
		socklen_t length = sizeof(error);
		if (!revents)
			break;
		if (getsockopt(source->fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0)
			error = errno;
		if (error == 0) {
			connected(the, sock);
			break;
		}
		sock->connectErrno = error;
		close(source->fd);
		source->fd = -1;
		connectNext(the, sock);
		break;
	}
	case HANDSHAKING:
		handshake(the, sock);
		break;
	case OPEN:
		/* revents 0: bytes mbedTLS decrypted earlier became readable room in the buffer. */
		if (!revents || (revents & (POLLIN | POLLHUP | POLLERR)) || sock->tlsWantsWrite) {
			receive(the, sock);
			if (source->removed || sock->state != OPEN)
				return;
		}
		if (revents & (POLLOUT | POLLERR | POLLHUP)) {
			if (flush(the, sock) < 0)
				return;
			maybeWritable(the, sock);
		}
		break;
	default:
		break;
	}
	if (!source->removed)
		updateEvents(sock);
}

static void socketRelease(FieldcamSource* source)
{
	Socket* sock = (Socket*)source;
	free(sock->queue);
	free(sock);
}

/* ---- DNS ---- */

static void addAddress(Socket* sock, int family, const void* bytes, int port)
{
	struct sockaddr_storage* storage = &sock->addresses[sock->addressCount];
	memset(storage, 0, sizeof(*storage));
	if (family == AF_INET) {
		struct sockaddr_in* in = (struct sockaddr_in*)storage;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, bytes, 4);
		sock->addressLengths[sock->addressCount] = sizeof(*in);
	}
	else {
		struct sockaddr_in6* in6 = (struct sockaddr_in6*)storage;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, bytes, 16);
		sock->addressLengths[sock->addressCount] = sizeof(*in6);
	}
	sock->addressCount++;
}

/* Fills the socket's addresses: 0 (done), 1 (a lookup is running: wait), or -1 with sock->failure set. */
static int resolve(Socket* sock)
{
	unsigned char bytes[16];
	FieldcamAddress found[FIELDCAM_MAX_ADDRESSES];
	int count = 0;
	int result;
	int i;
	if (inet_pton(AF_INET, sock->host, bytes) == 1) {
		addAddress(sock, AF_INET, bytes, sock->port);
		return 0;
	}
	if (inet_pton(AF_INET6, sock->host, bytes) == 1) {
		addAddress(sock, AF_INET6, bytes, sock->port);
		return 0;
	}
	/* RFC 6761 §6.3: localhost is the loopback, whatever a resolver says; no NSS needed for it. */
	if (strcasecmp(sock->host, "localhost") == 0 || strcasecmp(sock->host, "localhost.") == 0) {
		inet_pton(AF_INET, "127.0.0.1", bytes);
		addAddress(sock, AF_INET, bytes, sock->port);
		inet_pton(AF_INET6, "::1", bytes);
		addAddress(sock, AF_INET6, bytes, sock->port);
		return 0;
	}
	result = fieldcamResolverLookup(sock->host, found, &count, sock->failure, sizeof(sock->failure));
	if (result != FIELDCAM_RESOLVE_DONE)
		return result == FIELDCAM_RESOLVE_WAIT ? 1 : -1;
	for (i = 0; i < count && sock->addressCount < MAX_ADDRESSES; i++)
		addAddress(sock, found[i].family, found[i].bytes, sock->port);
	return 0;
}

/* A name is being looked up: wait for it with the deadline as the socket's fd (a timerfd in runtime time). */
static int startWaiting(Socket* sock)
{
	struct itimerspec deadline;
	long long wait = fieldcamRealWaitNs((long long)fieldcamDnsTimeoutMs * 1000000LL);
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0) {
		snprintf(sock->failure, sizeof(sock->failure), "NET_DNS_FAILED: resolving %s: %s: no deadline timer: %s",
			sock->host, fieldcamErrnoName(errno), strerror(errno));
		return -1;
	}
	memset(&deadline, 0, sizeof(deadline));
	if (wait < 1)
		wait = 1; /* 0 would disarm it */
	deadline.it_value.tv_sec = (time_t)(wait / 1000000000LL);
	deadline.it_value.tv_nsec = (long)(wait % 1000000000LL);
	timerfd_settime(fd, 0, &deadline, NULL);
	sock->source.fd = fd;
	sock->state = RESOLVING;
	updateEvents(sock);
	return 0;
}

/* RESOLVING: the deadline passed (revents), or a lookup finished (revents 0, from fieldcamSocketsResolved). */
static void resolved(txMachine* the, Socket* sock, short revents)
{
	char message[sizeof(sock->failure)];
	int result;
	if (revents) {
		snprintf(message, sizeof(message), "NET_DNS_TIMEOUT: resolving %s: no answer within %d ms (check the"
			" nameservers in /etc/resolv.conf)", sock->host, fieldcamDnsTimeoutMs);
		fail(the, sock, message);
		return;
	}
	result = resolve(sock);
	if (result > 0)
		return; /* another name's lookup finished: keep waiting */
	close(sock->source.fd); /* the deadline is no longer needed */
	sock->source.fd = -1;
	sock->source.events = 0;
	if (result < 0) {
		fail(the, sock, sock->failure);
		return;
	}
	sock->state = START;
	connectNext(the, sock);
}

void fieldcamSocketsResolved(void)
{
	Socket* sock;
	for (sock = gSockets; sock; sock = sock->next) {
		if (sock->state == RESOLVING)
			sock->source.pending = 1;
	}
}

/* ---- natives ---- */

/* A string option of the tls object, copied out of the JS heap (NULL when absent). */
static char* tlsOption(txMachine* the, const char* name, int required)
{
	char* copy;
	xsVar(0) = xsGet(xsArg(2), xsID((char*)name));
	if (xsTypeOf(xsVar(0)) == xsUndefinedType) {
		if (required)
			xsTypeError("socketOpen: tls.%s is required (PEM text): the board has no default trust store", name);
		return NULL;
	}
	if (xsTypeOf(xsVar(0)) != xsStringType)
		xsTypeError("socketOpen: tls.%s must be a string", name);
	copy = strdup(xsToString(xsVar(0)));
	if (!copy)
		fieldcamThrowErrno(the, ENOMEM, "socketOpen");
	return copy;
}

void fieldcamNativeSocketOpen(txMachine* the)
{
	char host[256];
	double port;
	int useTls = xsToInteger(xsArgc) > 2 && xsTypeOf(xsArg(2)) != xsUndefinedType;
	char* options[4] = { NULL, NULL, NULL, NULL }; /* ca, servername, cert, key */
	char error[320];
	Socket* sock;
	int i;

	xsVars(1);
	if (xsTypeOf(xsArg(0)) != xsStringType)
		xsTypeError("socketOpen: host must be a string");
	xsToStringBuffer(xsArg(0), host, sizeof(host));
	if (!host[0])
		xsTypeError("socketOpen: host must not be empty");
	port = xsToNumber(xsArg(1));
	if (!(port >= 1 && port <= 65535) || port != (double)(int)port)
		xsRangeError("socketOpen: port must be an integer from 1 to 65535, got %g", port);
	sock = calloc(1, sizeof(Socket));
	if (!sock)
		fieldcamThrowErrno(the, ENOMEM, "socketOpen");
	snprintf(sock->host, sizeof(sock->host), "%s", host);
	sock->port = (int)port;
	sock->source.fd = -1;
	sock->state = START;
	if (useTls) {
		xsTry {
			if (xsTypeOf(xsArg(2)) != xsReferenceType)
				xsTypeError("socketOpen: tls must be an object");
			options[0] = tlsOption(the, "ca", 1);
			options[1] = tlsOption(the, "servername", 0);
			options[2] = tlsOption(the, "cert", 0);
			options[3] = tlsOption(the, "key", 0);
			if (!options[2] != !options[3])
				xsTypeError("socketOpen: tls.cert and tls.key go together (mTLS)");
		}
		xsCatch {
			for (i = 0; i < 4; i++)
				free(options[i]);
			free(sock);
			xsThrow(xsException);
		}
		sock->tls = fieldcamTlsCreate(options[1] ? options[1] : host, options[0], options[2], options[3],
			&sock->source.fd, error, sizeof(error));
		for (i = 0; i < 4; i++)
			free(options[i]);
		if (!sock->tls) {
			free(sock);
			fieldcamThrowError(the, "%s", error);
		}
	}
	/* Connecting starts at the next turn, so every outcome (even a DNS failure) is an event, never a throw. */
	switch (resolve(sock)) {
	case 0:
		sock->source.pending = 1;
		break;
	case 1:
		if (startWaiting(sock) == 0)
			break;
		/* fall through: no deadline timer, so no wait */
	default:
		sock->failPending = 1;
		sock->source.pending = 1;
		break;
	}
	sock->source.alive = 1;
	sock->source.ready = socketReady;
	sock->source.release = socketRelease;
	sock->handle = gNextHandle;
	gNextHandle = gNextHandle == 0x7FFFFFFF ? 1 : gNextHandle + 1;
	sock->next = gSockets;
	gSockets = sock;
	fieldcamSourceAdd(&sock->source);
	xsResult = xsInteger(sock->handle);
}

void fieldcamNativeSocketRead(txMachine* the)
{
	Socket* sock = findSocket(the, &xsArg(0), 1);
	double offset = fieldcamToIndex(the, &xsArg(2), "offset");
	double length = fieldcamToIndex(the, &xsArg(3), "length");
	uint8_t* into = fieldcamViewRange(the, &xsArg(1), offset, length, "into");
	size_t count = sock->receivedLength < (size_t)length ? sock->receivedLength : (size_t)length;
	memcpy(into, sock->received + sock->receivedStart, count);
	sock->receivedStart += count;
	sock->receivedLength -= count;
	if (sock->receivedLength == 0)
		sock->receivedStart = 0;
	if (sock->state == OPEN && count > 0) {
		updateEvents(sock); /* room again: poll for input */
		/* mbedTLS may hold decrypted bytes no poll() will announce: fetch them at the next turn. */
		if (sock->tls && fieldcamTlsBuffered(sock->tls) > 0)
			sock->source.pending = 1;
	}
	xsResult = xsInteger((xsIntegerValue)count);
}

/* The sources array's element i, read from the array's storage: no getter, no proxy, so no JS runs. */
static txSlot* sourceAt(txMachine* the, txSlot* array, txIndex index)
{
	txSlot* item = fxGetIndexProperty(the, array, index);
	if (!item || item->kind != XS_REFERENCE_KIND)
		xsTypeError("socketWrite: sources[%u] must be a Uint8Array", (unsigned)index);
	return item;
}

/*
 * Passes over the ranges of a gather write: a first one that only checks (it may throw), a second that writes.
 * Range i of a gather is `head` (when there is one), then the JS ranges [0, jsCount), then `tail` (when there is
 * one): socketWriteChunk frames an HTTP chunk with them, socketWrite has neither.
 */
typedef struct {
	txSlot* array;
	const uint32_t* offsets;
	const uint32_t* lengths;
	size_t jsCount;
	const uint8_t* head;
	size_t headLength;
	const uint8_t* tail;
	size_t tailLength;
	size_t count; /* every range: head, JS ranges, tail */
} Gather;

static const uint8_t* rangeAt(txMachine* the, Gather* gather, size_t i)
{
	if (gather->head) {
		if (i == 0)
			return gather->head;
		i--;
	}
	if (i == gather->jsCount)
		return gather->tail;
	return fieldcamViewRange(the, sourceAt(the, gather->array, (txIndex)i), gather->offsets[i], gather->lengths[i],
		"socketWrite: sources[i]");
}

static size_t lengthAt(Gather* gather, size_t i)
{
	if (gather->head) {
		if (i == 0)
			return gather->headLength;
		i--;
	}
	return i == gather->jsCount ? gather->tailLength : gather->lengths[i];
}

/* Queues ranges [i, count), the first from byte `skip` on. */
static int enqueueFrom(txMachine* the, Socket* sock, Gather* gather, size_t i, size_t skip)
{
	for (; i < gather->count; i++, skip = 0) {
		int error = enqueue(sock, rangeAt(the, gather, i) + skip, lengthAt(gather, i) - skip);
		if (error)
			return error;
	}
	return 0;
}

/* Plain TCP, empty queue: sendmsg() batches of ranges; whatever the kernel leaves is queued. */
static void writePlain(txMachine* the, Socket* sock, Gather* gather)
{
	struct iovec vectors[GATHER_BATCH];
	struct msghdr header;
	size_t i = 0;
	while (i < gather->count) {
		size_t n = 0;
		size_t total = 0;
		ssize_t sent;
		while (n < GATHER_BATCH && i + n < gather->count) {
			vectors[n].iov_base = (void*)rangeAt(the, gather, i + n);
			vectors[n].iov_len = lengthAt(gather, i + n);
			total += vectors[n].iov_len;
			n++;
		}
		memset(&header, 0, sizeof(header));
		header.msg_iov = vectors;
		header.msg_iovlen = n;
		do {
			sent = sendmsg(sock->source.fd, &header, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (sent < 0 && errno == EINTR);
		if (sent < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				failLater(sock, errno, "send");
				return;
			}
			sent = 0;
		}
		if ((size_t)sent < total) {
			/* Find the range the kernel stopped in; it and everything after it wait in the queue. */
			size_t skip = (size_t)sent;
			while (skip >= lengthAt(gather, i)) {
				skip -= lengthAt(gather, i);
				i++;
			}
			if (enqueueFrom(the, sock, gather, i, skip))
				failLater(sock, ENOMEM, "send queue");
			return;
		}
		i += n;
	}
}

/*
 * TLS, empty queue: the ranges gathered into records of up to one record's payload each, one mbedtls_ssl_write
 * per record. A frame (HTTP chunk line, block header, AVCC lengths and NAL ranges, CRLF) is one record when it
 * fits in 16 KiB, instead of one record per range: every record costs a header, a tag, a nonce and a MAC pass
 * (ssl_write's fixed cost), and small records are 29 bytes of overhead on a few bytes of chunk line.
 * Ranges are copied into a record buffer allocated once (static: fixed at boot), except a range that fills a
 * whole record by itself, which goes to mbedTLS as it is. mbedTLS copies the plaintext into its own output
 * buffer in any case, so the gather costs one memcpy per payload byte in C and nothing in JS.
 * What mbedTLS does not take (WANT_WRITE / WANT_READ) is queued: the record first, whole, since mbedTLS must be
 * given the same bytes again (tlsPending), then the ranges not yet gathered.
 */
#define RECORD_BYTES (16 * 1024)
static uint8_t gRecord[RECORD_BYTES];

static void writeTls(txMachine* the, Socket* sock, Gather* gather)
{
	char message[sizeof(sock->failure)];
	size_t limit = fieldcamTlsRecordLimit(sock->tls);
	size_t i = 0;
	size_t skip = 0; /* bytes of range i already gathered or written */
	if (limit > RECORD_BYTES)
		limit = RECORD_BYTES;
	while (i < gather->count) {
		const uint8_t* record = gRecord;
		size_t fill = 0;
		int ret;
		if (lengthAt(gather, i) - skip >= limit) {
			/* A whole record from one range (a large payload): no copy. */
			record = rangeAt(the, gather, i) + skip;
			fill = limit;
			skip += limit;
		}
		else {
			while (i < gather->count && fill < limit) {
				size_t take = lengthAt(gather, i) - skip;
				if (take > limit - fill)
					take = limit - fill;
				memcpy(gRecord + fill, rangeAt(the, gather, i) + skip, take);
				fill += take;
				skip += take;
				if (skip == lengthAt(gather, i)) {
					i++;
					skip = 0;
				}
			}
		}
		if (i < gather->count && skip == lengthAt(gather, i)) {
			i++;
			skip = 0;
		}
		if (fill == 0)
			continue; /* empty ranges */
		ret = fieldcamTlsWrite(sock->tls, record, fill, message, sizeof(message));
		if (ret > 0 && (size_t)ret == fill)
			continue;
		if (ret > 0 || ret == FIELDCAM_TLS_WANT_WRITE || ret == FIELDCAM_TLS_WANT_READ) {
			/* The record (what mbedTLS did not take of it) heads the queue, then what was not gathered yet. */
			size_t done = ret > 0 ? (size_t)ret : 0;
			if (enqueue(sock, record + done, fill - done) || enqueueFrom(the, sock, gather, i, skip))
				failLater(sock, ENOMEM, "send queue");
			sock->tlsPending = ret > 0 ? 0 : fill;
			return;
		}
		snprintf(sock->failure, sizeof(sock->failure), "%s", message);
		sock->failPending = 1;
		sock->source.pending = 1;
		return;
	}
}

/* The JS ranges of a gather write (socketWrite's and socketWriteChunk's arguments 1-4), checked; nothing written yet. */
static void gatherArguments(txMachine* the, Socket* sock, Gather* gather, const char* name)
{
	double count = fieldcamToIndex(the, &xsArg(4), "count");
	size_t offsetsCount;
	size_t lengthsCount;
	size_t i;
	if (sock->state == CLOSED)
		fieldcamThrowError(the, "EPIPE: socket %d is closed", sock->handle);
	/* Everything below reads engine memory only: no JS runs, nothing allocates, addresses stay valid. */
	memset(gather, 0, sizeof(*gather));
	gather->offsets = fieldcamViewData(the, &xsArg(2), 4, &offsetsCount, "socketWrite: offsets");
	gather->lengths = fieldcamViewData(the, &xsArg(3), 4, &lengthsCount, "socketWrite: lengths");
	if (count > (double)offsetsCount || count > (double)lengthsCount)
		xsRangeError("%s: count %.0f exceeds offsets or lengths", name, count);
	if (xsArg(1).kind != XS_REFERENCE_KIND || !xsArg(1).value.reference->next
			|| xsArg(1).value.reference->next->kind != XS_ARRAY_KIND)
		xsTypeError("%s: sources must be an Array", name);
	gather->array = xsArg(1).value.reference->next;
	gather->jsCount = (size_t)count;
	gather->count = gather->jsCount;
	if ((double)fxGetIndexSize(the, gather->array) < count)
		xsRangeError("%s: count %.0f exceeds sources.length", name, count);
	for (i = 0; i < gather->count; i++)
		rangeAt(the, gather, i); /* every range checked before a byte is written */
}

/* Writes (or queues) a checked gather; the result is the bytes still writable before backpressure. */
static void writeGather(txMachine* the, Socket* sock, Gather* gather)
{
	double writable;
	if (sock->failPending) {
		/* the connection already failed; SOCKET_CLOSE is on its way */
	}
	else if (sock->state == OPEN && sock->queueLength == 0) {
		if (sock->tls)
			writeTls(the, sock, gather);
		else
			writePlain(the, sock, gather);
	}
	else if (enqueueFrom(the, sock, gather, 0, 0))
		failLater(sock, ENOMEM, "send queue");
	if (sock->failPending)
		sock->queueLength = 0;
	updateEvents(sock);
	writable = (double)SEND_LIMIT - (double)sock->queueLength;
	if (writable <= 0)
		sock->wantWritable = 1;
	xsResult = xsNumber(writable);
}

void fieldcamNativeSocketWrite(txMachine* the)
{
	Socket* sock = findSocket(the, &xsArg(0), 1);
	Gather gather;
	gatherArguments(the, sock, &gather, "socketWrite");
	writeGather(the, sock, &gather);
}

/*
 * native.socketWriteChunk(handle, sources, offsets, lengths, count): the ranges as ONE HTTP/1.1 chunk (RFC 9112
 * §7.1): their byte count in lower-case hex and CRLF, the ranges, CRLF, in one gather write (so one TLS record up to
 * 16 KiB, as writeTls gathers). The uploader's per-frame write (PutMediaConnection.writeChunk, Socket.writeChunk):
 * the framing JS did per frame (the size line placed, set, the CRLF pushed) is these few instructions. Ranges with no
 * byte at all write nothing (a zero-size chunk would end the body). Returns what socketWrite returns.
 */
static uint8_t gChunkLine[20];
static const uint8_t gChunkEnd[2] = { 0x0d, 0x0a };

void fieldcamNativeSocketWriteChunk(txMachine* the)
{
	static const char hex[] = "0123456789abcdef";
	Socket* sock = findSocket(the, &xsArg(0), 1);
	Gather gather;
	uint64_t size = 0;
	size_t i, p = sizeof(gChunkLine);
	gatherArguments(the, sock, &gather, "socketWriteChunk");
	for (i = 0; i < gather.jsCount; i++)
		size += gather.lengths[i];
	if (size == 0) {
		xsResult = xsNumber((double)SEND_LIMIT - (double)sock->queueLength);
		return;
	}
	gChunkLine[--p] = 0x0a;
	gChunkLine[--p] = 0x0d;
	for (; size > 0; size >>= 4)
		gChunkLine[--p] = (uint8_t)hex[size & 15];
	gather.head = gChunkLine + p;
	gather.headLength = sizeof(gChunkLine) - p;
	gather.tail = gChunkEnd;
	gather.tailLength = sizeof(gChunkEnd);
	gather.count = gather.jsCount + 2;
	writeGather(the, sock, &gather);
}

void fieldcamNativeSocketClose(txMachine* the)
{
	Socket* sock = findSocket(the, &xsArg(0), 0);
	Socket** link = &gSockets;
	if (!sock)
		return;
	while (*link != sock)
		link = &(*link)->next;
	*link = sock->next;
	fieldcamTlsFree(sock->tls); /* close_notify while the fd is still open */
	sock->tls = NULL;
	if (sock->source.fd >= 0)
		close(sock->source.fd);
	sock->source.fd = -1;
	sock->state = CLOSED;
	fieldcamSourceRemove(&sock->source);
}
