/* fieldcam-runtime: what the host's files share (main, platform, natives, clock, loop, timers, input, files, hash, resolver, net, tls). */
#ifndef FIELDCAM_RUNTIME_H
#define FIELDCAM_RUNTIME_H

#include "xsAll.h"
#include "xs.h"

/* Exit codes, stable for scripts and the simulator (named in the error message as well). */
enum {
	FIELDCAM_EXIT_OK = 0,
	FIELDCAM_EXIT_UNCAUGHT = 1,        /* an exception escaped the bundle, the dispatcher or a promise job */
	FIELDCAM_EXIT_USAGE = 2,           /* bad command line */
	FIELDCAM_EXIT_BUNDLE_READ = 3,     /* bundle missing, unreadable or empty */
	FIELDCAM_EXIT_BUNDLE_INVALID = 4,  /* bundle is not valid JavaScript (SyntaxError while loading) */
	FIELDCAM_EXIT_REJECTION = 5,       /* a promise rejection was never handled */
	FIELDCAM_EXIT_MEMORY = 6,          /* JS heap limit reached or allocation failed */
	FIELDCAM_EXIT_STACK = 7,           /* JS stack overflow */
	FIELDCAM_EXIT_ENGINE = 8           /* any other engine abort */
};

/* Event numbers passed to the JS dispatcher: the same numbers as EVENT in firmware/boards/xs/native.ts. */
enum {
	FIELDCAM_EVENT_TIMER = 1,
	FIELDCAM_EVENT_SIGNAL = 2,
	FIELDCAM_EVENT_INPUT_READABLE = 3,
	FIELDCAM_EVENT_SOCKET_CONNECT = 4,
	FIELDCAM_EVENT_SOCKET_READABLE = 5,
	FIELDCAM_EVENT_SOCKET_WRITABLE = 6,
	FIELDCAM_EVENT_SOCKET_CLOSE = 7
};

/* ---- platform.c ---- */

/* The hard limit on what the JS heap takes from the system (0 = none); main.c sets it before creating the machine. */
extern size_t fieldcamHeapLimit;

/* Computrons spent so far: the engine's 32-bit meter plus what earlier meter callbacks banked. */
unsigned long long fieldcamComputrons(txMachine* the);
txBoolean fieldcamMeterCallback(txMachine* the, txU4 index);

/* ---- natives.c ---- */

/* Defines the global `native` object. */
void fieldcamInstallNatives(txMachine* the);

/* Prints an exception value to stderr as "<prefix>: <String(value)>" plus its stack when it has one. */
void fieldcamPrintException(txMachine* the, txSlot* exception, const char* prefix);

/*
 * Byte ranges (native.ts conventions). Numbers are converted FIRST (a conversion may run JS and so move
 * ArrayBuffer data), then the view is resolved: the address returned stays valid only until the next JS
 * allocation, so callers use it at once and never across a call into JS.
 */
double fieldcamToIndex(txMachine* the, txSlot* value, const char* name);
/* The bytes of a typed array whose elements are `elementSize` bytes; *count is its length in elements. */
void* fieldcamViewData(txMachine* the, txSlot* view, size_t elementSize, size_t* count, const char* name);
/* The range [offset, offset + length) of a byte view (offset and length already converted). */
uint8_t* fieldcamViewRange(txMachine* the, txSlot* view, double offset, double length, const char* name);

/* Throws Error with a printf-formatted message (up to 640 bytes, where xsUnknownError keeps 128). */
void fieldcamThrowError(txMachine* the, const char* format, ...) XS_FUNCTION_NORETURN __attribute__((format(printf, 2, 3)));
/* Throws Error "<ENAME>: <context>: <strerror>" for a system error number. */
void fieldcamThrowErrno(txMachine* the, int error, const char* context) XS_FUNCTION_NORETURN;
/* "ECONNREFUSED" for ECONNREFUSED; "E<number>" for numbers without a name. */
const char* fieldcamErrnoName(int error);

/* ---- loop.c: one poll() loop over timers, sources (fds) and signals ---- */

/*
 * A pollable source (an input fd, a socket, the signal pipe). The loop polls `fd` for `events` and calls
 * `ready`; a `pending` source is called at the next turn without waiting (revents 0), for events a native
 * decided on while JS was running (the host never dispatches from inside a native). `alive` sources keep the
 * process running. Removal is deferred: a removed source is skipped for the rest of the turn and released
 * after it, so a dispatch may close any source, including the one being served.
 */
typedef struct FieldcamSource FieldcamSource;
struct FieldcamSource {
	int fd;              /* -1: not polled */
	short events;        /* POLLIN / POLLOUT; 0: not polled */
	unsigned char alive;
	unsigned char pending;
	unsigned char removed;
	void (*ready)(txMachine* the, FieldcamSource* source, short revents);
	void (*release)(FieldcamSource* source);
	FieldcamSource* next;
};
void fieldcamSourceAdd(FieldcamSource* source);
void fieldcamSourceRemove(FieldcamSource* source);

/* Calls the JS dispatcher with (event, handle, value), then drains promise jobs. A NULL string is `undefined`. */
void fieldcamDispatchNumber(txMachine* the, int event, int handle, double value);
void fieldcamDispatchString(txMachine* the, int event, int handle, const char* value);
/* Runs queued promise jobs until none remain; a rejection still unhandled then is fatal (exit 5). */
void fieldcamDrainJobs(txMachine* the);
/* Runs until nothing can happen any more: no timers, no alive sources, nothing pending. */
void fieldcamRunLoop(txMachine* the);

/* ---- clock.c: the wall and monotonic clocks, N times faster under --time-scale N ---- */
/* Once, before any clock is read: scale >= 1; originMs < 0 anchors the scaled wall clock at boot. */
void fieldcamClockStart(long long scale, long long originMs);
long long fieldcamTimeScale(void);
/* CLOCK_MONOTONIC in nanoseconds (scaled). Timers are due in this time. */
long long fieldcamMonotonicNs(void);
/* CLOCK_REALTIME in nanoseconds since the epoch (scaled). */
long long fieldcamWallNs(void);
/* How long to really sleep for `scaledNs` of scaled time (rounded up). */
long long fieldcamRealWaitNs(long long scaledNs);

/* ---- timers.c ---- */
int fieldcamTimersPending(void);
/* Due time (monotonic ns) of the earliest timer; only when fieldcamTimersPending(). */
long long fieldcamTimersNextDue(void);
/* Fires, in due order, every timer due at `now` that existed before this call. */
void fieldcamTimersRun(txMachine* the, long long now);

/* ---- resolver.c: name lookups on a thread, never in the loop ---- */

/* One address getaddrinfo found (AF_INET: 4 bytes, AF_INET6: 16). */
#define FIELDCAM_MAX_ADDRESSES 8
typedef struct {
	int family;
	unsigned char bytes[16];
} FieldcamAddress;
enum { FIELDCAM_RESOLVE_DONE = 0, FIELDCAM_RESOLVE_WAIT = 1, FIELDCAM_RESOLVE_FAILED = -1 };
/* How long a socket waits for a lookup (runtime time, --dns-timeout) before NET_DNS_TIMEOUT. */
extern int fieldcamDnsTimeoutMs;
/*
 * A held answer (DONE: addresses and count filled), a held or immediate failure (FAILED: "NET_DNS_FAILED: …"
 * in `failure`), or WAIT: a lookup for the name is running, and fieldcamSocketsResolved() is called from the
 * loop when one finishes (ask again then). Never blocks.
 */
int fieldcamResolverLookup(const char* host, FieldcamAddress* addresses, int* count, char* failure, size_t size);
/* net.c: a lookup finished; sockets waiting on a name look it up again at the next turn. */
void fieldcamSocketsResolved(void);

/* ---- net.c / tls.c ---- */

/* One TLS client session over a connected non-blocking socket (tls.c; opaque to net.c). */
typedef struct FieldcamTls FieldcamTls;
enum {
	FIELDCAM_TLS_DONE = 0,         /* handshake finished / write accepted */
	FIELDCAM_TLS_WANT_READ = -2,
	FIELDCAM_TLS_WANT_WRITE = -3,
	FIELDCAM_TLS_CLOSED = -4,      /* orderly close by the peer (close_notify or EOF) */
	FIELDCAM_TLS_ERROR = -1        /* message written to the caller's buffer */
};
/* Parses the PEM material and prepares a session for `name` (servername || host). NULL with `error` set. */
FieldcamTls* fieldcamTlsCreate(const char* name, const char* ca, const char* cert, const char* key, int* fd,
	char* error, size_t errorSize);
int fieldcamTlsHandshake(FieldcamTls* tls, char* error, size_t errorSize);
/* > 0: bytes read; else a FIELDCAM_TLS_* code. */
int fieldcamTlsRead(FieldcamTls* tls, uint8_t* into, size_t length, char* error, size_t errorSize);
/* > 0: bytes taken; else a FIELDCAM_TLS_* code. After WANT_WRITE call again with the same bytes and length. */
int fieldcamTlsWrite(FieldcamTls* tls, const uint8_t* data, size_t length, char* error, size_t errorSize);
/* Largest length one fieldcamTlsWrite takes (one record). */
size_t fieldcamTlsRecordLimit(FieldcamTls* tls);
/* Decrypted bytes mbedTLS already holds (readable without polling). */
size_t fieldcamTlsBuffered(FieldcamTls* tls);
/* Sends close_notify best-effort and frees the session. */
void fieldcamTlsFree(FieldcamTls* tls);
void fieldcamNativeTlsStats(txMachine* the);

/* scan.c: the `00 00 01` search word at a time (its contract is in scan.c), shared with accessunits.c. */
/* files.c: fsync of the folder holding `path` (a rename or unlink is durable only then); 0 or errno. */
int fieldcamSyncFolder(const char* path);
uint32_t fieldcamFindStartCodes(const uint8_t* data, size_t n, uint32_t* found, uint32_t max);

/* ---- natives, by file (natives.c puts them on the `native` object) ---- */
void fieldcamNativeSetDispatcher(txMachine* the);
void fieldcamNativeWatchSignals(txMachine* the);
void fieldcamNativeSetTimer(txMachine* the);
void fieldcamNativeClearTimer(txMachine* the);
void fieldcamNativeOpenInput(txMachine* the);
void fieldcamNativeOpenFifo(txMachine* the);
void fieldcamNativeWatchInput(txMachine* the);
void fieldcamNativeReadInput(txMachine* the);
void fieldcamNativeCloseInput(txMachine* the);
void fieldcamNativeWriteFileAtomic(txMachine* the);
void fieldcamNativeRemoveStaleTemps(txMachine* the);
void fieldcamNativeStorageOpen(txMachine* the);
void fieldcamNativeStorageAppend(txMachine* the);
void fieldcamNativeStorageRead(txMachine* the);
void fieldcamNativeStorageSync(txMachine* the);
void fieldcamNativeStorageTruncate(txMachine* the);
void fieldcamNativeStorageSize(txMachine* the);
void fieldcamNativeStorageClose(txMachine* the);
void fieldcamNativeStorageRename(txMachine* the);
void fieldcamNativeStorageRemove(txMachine* the);
void fieldcamNativeStorageList(txMachine* the);
void fieldcamNativeStorageMakeDirectory(txMachine* the);
void fieldcamNativeStorageFreeBytes(txMachine* the);
void fieldcamNativeStorageCrc32(txMachine* the);
void fieldcamNativeIndexOfByte(txMachine* the);
void fieldcamNativeFindStartCodes(txMachine* the);
void fieldcamNativeClassifyNals(txMachine* the);
void fieldcamNativeCloseAccessUnit(txMachine* the);
void fieldcamNativePushAccessUnits(txMachine* the);
void fieldcamNativeReadAccessUnits(txMachine* the);
void fieldcamNativeCopyNalTable(txMachine* the);
void fieldcamNativeFillFrameRecord(txMachine* the);
/* frames.c: FrameInput.onFrame's steady state, a frame stamped and queued (FrameQueuePort.queueFrame). */
void fieldcamNativeQueueFrame(txMachine* the);
void fieldcamNativeScanJpeg(txMachine* the);
/* scan.c: the JPEG scanner (JpegScanner.scan) on its record, and the record checked (a RangeError for one no scan leaves). */
size_t fieldcamJpegScan(const uint8_t* d, size_t i, size_t n, uint32_t* st);
uint32_t* fieldcamJpegRecord(txMachine* the, txSlot* slot);
/* images.c: the MJPEG reader's camera read, committed and walked, complete images into its batch. */
void fieldcamNativePushJpeg(txMachine* the);
void fieldcamNativeReadJpeg(txMachine* the);

/* ---- ack.c: the PutMedia ACK stream's framing walk (its contract is AckScanPort.followAck) ---- */
void fieldcamNativeAckFollow(txMachine* the);
void fieldcamNativeAckRead(txMachine* the);
/* fields.c: the core's objects read and written in place, by field name (block.c, records.c). */
void fieldcamFindFields(txSlot* instance, const txID* ids, int count, txSlot** found);
txSlot* fieldcamObjectOf(txMachine* the, txSlot* value, const char* name);
txSlot* fieldcamArrayItems(txSlot* value);
uint32_t fieldcamIndexField(txMachine* the, txSlot* slot, const char* name);
double fieldcamNumberField(txMachine* the, txSlot* slot, const char* name);
void fieldcamSetNumberField(txMachine* the, txSlot* slot, double value, const char* name);
void fieldcamSetBooleanField(txMachine* the, txSlot* slot, int value, const char* name);
txSlot* fieldcamObjectOrNullField(txMachine* the, txSlot* slot, const char* name);
void fieldcamSetObjectField(txMachine* the, txSlot* slot, txSlot* object, const char* name);
/* ---- cursor.c: a camera read committed into a StreamCursor (pushAccessUnits, pushJpeg) ---- */
typedef struct {
	txSlot* fields[6];   /* target, targetOffset, targetSpace, position (and onScratch, keepFrom for a source's read) */
	uint8_t* data;       /* cursor.target's bytes */
	double n, from, space, position; /* the read, and the cursor's fields before it */
	int fd;              /* a source's read: its fd, its lastReadAt field (NULL when it has none), */
	txSlot* lastReadAt;
	txSlot* keepFrom;    /* a source's read: the cursor's keepFrom field (NULL when it has none), for a reader's tail */
	int timed;           /* and whether it has read times (lastReadAt a number, not NaN: set by the read) */
} FieldcamCursorRead;
int fieldcamCursorTake(txMachine* the, txSlot* cursor, txSlot* n, FieldcamCursorRead* read);
void fieldcamCursorCommit(txMachine* the, const FieldcamCursorRead* read);
/* A camera read by the native (readAccessUnits, readJpeg): Take checks it is the steady state's (the source's fd,
 * room in a slot; read->n = at most `limit` bytes) and reads nothing; Read then does the read(2) and, when it returned
 * bytes, sets read->n, read->timed and the source's lastReadAt. 0: not the native's, nothing changed. */
int fieldcamCursorSourceTake(txMachine* the, txSlot* cursor, txSlot* source, txSlot* limit, FieldcamCursorRead* read);
int fieldcamCursorSourceRead(txMachine* the, FieldcamCursorRead* job);
/* ---- records.c ---- */
/* A Frame record for the complete access unit [start, end) the cursor holds (fillFrameRecord's contract): NULL once
 * filled, else why not, with nothing written (the range is not held, on the overflow scratch, or a slot is free). */
const char* fieldcamFillFrameRecord(txMachine* the, txSlot* frame, txSlot* cursor, const double* table, size_t tableSlots, double count, double start,
		double end, double seq, int key);
/* A record from the top of the pool's free stack (FramePool.takeFrame), filled as above and put at batch[at], for a
 * reader to hand to onFrame (the H.264 walk's completed access units, the MJPEG walk's images); `pool` and `batch` are
 * the fields or arguments that refer to them. 1, or 0 with nothing changed (no free record, no entry `at` in the
 * batch, or the fill refused). */
int fieldcamBatchFrameRecord(txMachine* the, txSlot* pool, txSlot* batch, uint32_t at, txSlot* cursor, const double* table,
		size_t tableSlots, double count, double start, double end, double seq, int key);
/* block.c: one Matroska SimpleBlock's views (MkvBlockPort). */
void fieldcamNativeMkvBlock(txMachine* the);
void fieldcamNativeMkvWriteBlock(txMachine* the);
void fieldcamNativeMkvWriteBlockAlone(txMachine* the);
/* release.c: FragmentQueue.releaseHead with FramePool.freeFrame (FrameReleasePort). */
void fieldcamNativeReleaseHead(txMachine* the);
void fieldcamNativeSha256(txMachine* the);
void fieldcamNativeHmacSha256(txMachine* the);
void fieldcamNativeSocketOpen(txMachine* the);
void fieldcamNativeSocketRead(txMachine* the);
void fieldcamNativeSocketWrite(txMachine* the);
/* The ranges as one HTTP/1.1 chunk: hex size line, ranges, CRLF, in one gather write (net.c). */
void fieldcamNativeSocketWriteChunk(txMachine* the);
void fieldcamNativeSocketClose(txMachine* the);

#endif /* FIELDCAM_RUNTIME_H */
