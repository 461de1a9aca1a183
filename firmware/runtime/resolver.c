/*
 * Name lookups that never block the event loop (issue 11, item 2).
 *
 * Why a resolver thread and not our own DNS client: getaddrinfo is the system's resolver — /etc/hosts,
 * nsswitch, search domains, resolv.conf options (timeout, attempts, rotate, edns0), IPv6 and its reload of
 * resolv.conf when the file changes — and a UDP client of our own would have to redo all of that and still
 * differ from what `getent hosts` says on the same board. What getaddrinfo lacks is a way not to wait, so it
 * runs on a thread: one detached thread per name being looked up, at most MAX_LOOKUPS at once (a device
 * talks to three endpoints: KVS, the IoT credentials provider, the MQTT broker). The thread touches neither
 * the JS machine nor a socket: it fills its table entry and writes one byte into a self-pipe the loop
 * polls; the loop then tells net.c (fieldcamSocketsResolved), whose waiting sockets look the name up again.
 *
 * Static glibc (armv6/armv7 images are linked -static with Debian's glibc 2.36): that libc carries the
 * `files` and `dns` NSS modules itself (the binary holds __nss_dns_functions), so a static binary reads
 * /etc/hosts and queries the nameservers of /etc/resolv.conf without loading shared NSS libraries (seen
 * under qemu-arm: the queries reach the resolv.conf nameserver and its answers connect).
 * Numeric hosts and "localhost" never get here (net.c answers them itself, no NSS at all).
 *
 * Deadline. The caller waits at most fieldcamDnsTimeoutMs of runtime time (`--dns-timeout`, default
 * 5000 ms; scaled under --time-scale like every timer): net.c arms a timerfd for it and reports
 * NET_DNS_TIMEOUT. getaddrinfo cannot be cancelled, so the lookup itself runs on until glibc gives up
 * (resolv.conf `timeout` × `attempts` per nameserver, 5 s × 2 by default); a socket opened meanwhile for the
 * same name joins it instead of starting another thread, so a black-holed resolver costs one thread per
 * name, never one per retry. A socket closed while waiting only stops waiting: the result lands in the
 * table, never in the socket.
 *
 * Cache. getaddrinfo does not return TTLs, so an answer is kept for a bounded time, ANSWER_HOLD_MS (60 s of
 * runtime time), then looked up again; a failure is kept only FAILURE_HOLD_MS (1 s, real) — long enough for every
 * socket waiting on that lookup to read it, short enough that the next retry asks the resolver afresh.
 * Memory: the table is static; each running lookup has one thread stack of THREAD_STACK bytes.
 */
#include "runtime.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

#define MAX_LOOKUPS 8
#define ANSWER_HOLD_MS 60000
#define FAILURE_HOLD_MS 1000
/* getaddrinfo's dns module keeps its answer buffers on the stack (up to 64 KiB each): room for them. */
#define THREAD_STACK (256 * 1024)

int fieldcamDnsTimeoutMs = 5000;

enum { FREE, RESOLVING, RESOLVED, FAILED };

typedef struct {
	int state;
	int finished;              /* set by the thread (under gLock): results are ready */
	char host[256];
	long long expiresNs;       /* RESOLVED / FAILED: monotonic (runtime) time the entry stops answering */
	int count;
	FieldcamAddress addresses[FIELDCAM_MAX_ADDRESSES];
	char failure[200];
} Lookup;

static Lookup gLookups[MAX_LOOKUPS];
static pthread_mutex_t gLock = PTHREAD_MUTEX_INITIALIZER;
static int gPipe[2] = { -1, -1 };
static FieldcamSource gPipeSource;

static const char* gaiName(int code)
{
	switch (code) {
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_SERVICE: return "EAI_SERVICE";
	case EAI_MEMORY: return "EAI_MEMORY";
#ifdef EAI_NODATA
	case EAI_NODATA: return "EAI_NODATA";
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
#endif
	default: return "EAI_FAIL";
	}
}

/* The thread: one getaddrinfo, results into the entry, one byte to wake the loop. */
static void* lookupThread(void* argument)
{
	Lookup* lookup = argument;
	struct addrinfo hints;
	struct addrinfo* list = NULL;
	struct addrinfo* entry;
	FieldcamAddress found[FIELDCAM_MAX_ADDRESSES];
	char failure[sizeof(lookup->failure)];
	char host[sizeof(lookup->host)];
	int count = 0;
	int code;
	unsigned char byte = 1;

	pthread_mutex_lock(&gLock);
	memcpy(host, lookup->host, sizeof(host));
	pthread_mutex_unlock(&gLock);
	failure[0] = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	code = getaddrinfo(host, NULL, &hints, &list);
	if (code != 0) {
		if (code == EAI_SYSTEM) {
			/* On this thread: the errno's name and text from glibc's tables, no shared static buffer. */
			int error = errno;
			const char* name = strerrorname_np(error);
			const char* text = strerrordesc_np(error);
			snprintf(failure, sizeof(failure), "%s: %s", name ? name : "EIO", text ? text : "system error");
		}
		else
			snprintf(failure, sizeof(failure), "%s: %s", gaiName(code), gai_strerror(code));
	}
	else {
		for (entry = list; entry && count < FIELDCAM_MAX_ADDRESSES; entry = entry->ai_next) {
			if (entry->ai_family == AF_INET) {
				found[count].family = AF_INET;
				memcpy(found[count].bytes, &((struct sockaddr_in*)entry->ai_addr)->sin_addr, 4);
				count++;
			}
			else if (entry->ai_family == AF_INET6) {
				found[count].family = AF_INET6;
				memcpy(found[count].bytes, &((struct sockaddr_in6*)entry->ai_addr)->sin6_addr, 16);
				count++;
			}
		}
		freeaddrinfo(list);
		if (count == 0)
			snprintf(failure, sizeof(failure), "EAI_NODATA: no IPv4 or IPv6 address");
	}
	pthread_mutex_lock(&gLock);
	memcpy(lookup->addresses, found, sizeof(found));
	lookup->count = count;
	memcpy(lookup->failure, failure, sizeof(failure));
	lookup->finished = 1;
	pthread_mutex_unlock(&gLock);
	if (write(gPipe[1], &byte, 1) < 0) {
		/* the pipe is full of wake-ups already: this one is covered by them */
	}
	return NULL;
}

/* Loop side: finished lookups become cache entries (their hold starts now), then waiting sockets retry. */
static void pipeReady(txMachine* the, FieldcamSource* source, short revents)
{
	unsigned char bytes[16];
	long long now = fieldcamMonotonicNs();
	int i;
	while (read(source->fd, bytes, sizeof(bytes)) > 0) {
	}
	pthread_mutex_lock(&gLock);
	for (i = 0; i < MAX_LOOKUPS; i++) {
		Lookup* lookup = &gLookups[i];
		if (lookup->state != RESOLVING || !lookup->finished)
			continue;
		lookup->state = lookup->count > 0 ? RESOLVED : FAILED;
		/* A failure's hold is real time (scaled back): the waiting sockets read it at the next turn, however
		 * fast the clocks run under --time-scale. */
		lookup->expiresNs = now + (lookup->count > 0 ? (long long)ANSWER_HOLD_MS
			: (long long)FAILURE_HOLD_MS * fieldcamTimeScale()) * 1000000LL;
	}
	pthread_mutex_unlock(&gLock);
	fieldcamSocketsResolved();
}

static int startPipe(char* failure, size_t size)
{
	if (gPipe[0] >= 0)
		return 0;
	if (pipe2(gPipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		snprintf(failure, size, "NET_DNS_FAILED: %s: cannot start a lookup: %s", fieldcamErrnoName(errno), strerror(errno));
		return -1;
	}
	gPipeSource.fd = gPipe[0];
	gPipeSource.events = POLLIN;
	gPipeSource.alive = 0; /* the sockets waiting on a lookup keep the process running, not the pipe */
	gPipeSource.ready = pipeReady;
	gPipeSource.release = NULL;
	fieldcamSourceAdd(&gPipeSource);
	return 0;
}

int fieldcamResolverLookup(const char* host, FieldcamAddress* addresses, int* count, char* failure, size_t size)
{
	long long now = fieldcamMonotonicNs();
	Lookup* lookup = NULL;
	Lookup* spare = NULL;
	pthread_attr_t attributes;
	pthread_t thread;
	int result = FIELDCAM_RESOLVE_WAIT;
	int error;
	int i;

	pthread_mutex_lock(&gLock);
	for (i = 0; i < MAX_LOOKUPS; i++) {
		Lookup* entry = &gLookups[i];
		/* Held answers and failures past their hold are free again (a running lookup never is). */
		if ((entry->state == RESOLVED || entry->state == FAILED) && now >= entry->expiresNs)
			entry->state = FREE;
		if (entry->state != FREE && strcasecmp(entry->host, host) == 0)
			lookup = entry;
		else if (entry->state == FREE && !spare)
			spare = entry;
	}
	if (lookup && lookup->state == RESOLVED) {
		memcpy(addresses, lookup->addresses, sizeof(lookup->addresses));
		*count = lookup->count;
		result = FIELDCAM_RESOLVE_DONE;
	}
	else if (lookup && lookup->state == FAILED) {
		snprintf(failure, size, "NET_DNS_FAILED: resolving %s: %s", host, lookup->failure);
		result = FIELDCAM_RESOLVE_FAILED;
	}
	else if (!lookup) {
		/* Evict a held answer when every entry is taken: running lookups are never evicted. */
		for (i = 0; !spare && i < MAX_LOOKUPS; i++) {
			if (gLookups[i].state == RESOLVED || gLookups[i].state == FAILED)
				spare = &gLookups[i];
		}
		if (!spare) {
			snprintf(failure, size, "NET_DNS_FAILED: resolving %s: %d other lookups are still running", host,
				MAX_LOOKUPS);
			result = FIELDCAM_RESOLVE_FAILED;
		}
		else if (startPipe(failure, size) < 0)
			result = FIELDCAM_RESOLVE_FAILED;
		else {
			memset(spare, 0, sizeof(*spare));
			snprintf(spare->host, sizeof(spare->host), "%s", host);
			spare->state = RESOLVING;
			pthread_attr_init(&attributes);
			pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&attributes, THREAD_STACK);
			error = pthread_create(&thread, &attributes, lookupThread, spare);
			pthread_attr_destroy(&attributes);
			if (error) {
				spare->state = FREE;
				snprintf(failure, size, "NET_DNS_FAILED: resolving %s: %s: cannot start a lookup thread: %s", host,
					fieldcamErrnoName(error), strerror(error));
				result = FIELDCAM_RESOLVE_FAILED;
			}
		}
	}
	pthread_mutex_unlock(&gLock);
	return result;
}
