/*
 * The MJPEG reader's camera read in one call (issue 12; the contracts are ByteScanPort.pushJpeg and readJpeg):
 *   native.pushJpeg(cursor, n, state, walk[, pool, batch])  a read of n bytes committed into the cursor and walked
 *   native.readJpeg(source, limit, reader)                   the camera's read(2) itself, then as pushJpeg
 * The walk is the JPEG scanner (scan.c, fieldcamJpegScan) on the reader's image walk (`walk`, a Float64Array laid out
 * as firmware/core/mjpeg/mjpegWalk.ts, MJPEG_WALK): an image being assembled is scanned no further than a slot from its
 * start, as MjpegReader.parse caps it. Without a pool and batch the walk stops at the first event (SOI, EOI, an error),
 * which waits in the scanner's record for the reader. With them it takes the events the reader would simply take
 * itself and goes on: an SOI right where the last image ended (no bytes between to count or check), and the EOI of an
 * image of the size the reader last announced, which becomes a frame record from the pool's free stack in the batch
 * (records.c, fieldcamBatchFrameRecord). It stops at any other event, with nothing of it taken: a gap before an SOI,
 * the first image or a new size (onFormat), no free record or batch entry, an error, a slot's worth of image. So every
 * drop, counter, error and callback stays the reader's, and a 64 KiB read of 320x240 images is one call, not ~30.
 */
#include "runtime.h"

/* firmware/core/mjpeg/mjpegWalk.ts (MJPEG_WALK): indices into `walk`. */
enum {
	W_ASSEMBLING, /* 1 inside an image that will be emitted */
	W_IMAGE_START, /* its SOI's logical offset */
	W_GAP_START, /* where the bytes outside any image began */
	W_SAW_IMAGE, /* 1 once an image began */
	W_SLOT_BYTES, /* in: the pool's slot size, the largest image */
	W_WIDTH, /* in: the size the reader last announced (0 before the first image) */
	W_HEIGHT,
	W_SEQ, /* the next frame's seq */
	W_BATCH, /* records in the batch */
	W_HANDED, /* the reader's: after a callback threw, the first record not handed out */
	W_GAP_FREE, /* in: the longest run of bytes outside images the reader need not check */
	W_STOP, /* out (readJpeg, -n): where the walk stopped; -1: the read walked whole and the reader's tail done */
	W_TIMED, /* out (readJpeg, -n): 1 when the source has read times */
	W_LENGTH
};
/* The scanner's record (scan.c; JPEG_SCAN): the entries the walk reads, and its states outside an image. */
enum { JS_STATE = 0, JS_EVENT = 1, JS_WIDTH = 9, JS_HEIGHT = 10 };
enum { J_SEEK, J_SEEK_FF, J_MARKER };
enum { JE_NONE, JE_SOI, JE_EOI };

typedef struct {
	txMachine* the;
	const uint8_t* d; /* the slot's bytes */
	double base; /* the logical offset of d[0] */
	uint32_t* st;
	double* w;
	txSlot* cursor; /* the StreamCursor; */
	txSlot* pool; /* the pool and batch (the arguments or fields referring to them); pool NULL: one event per call */
	txSlot* batch;
} ImageWalk;

/* The walk record (`walk`), checked before anything changes: a record no reader leaves is a RangeError. */
static double* walkRecord(txMachine* the, txSlot* slot)
{
	size_t entries;
	double* w = fieldcamViewData(the, slot, 8, &entries, "walk");
	if (entries < W_LENGTH)
		xsRangeError("walk must hold %d entries, it has %zu", W_LENGTH, entries);
	if (!(w[W_ASSEMBLING] == 0 || w[W_ASSEMBLING] == 1) || !(w[W_SLOT_BYTES] >= 1) || !(w[W_BATCH] >= 0 && w[W_BATCH] <= 0xffffffffu))
		xsRangeError("walk is not an MJPEG reader's (assembling %g, slot bytes %g, batch %g)", w[W_ASSEMBLING], w[W_SLOT_BYTES], w[W_BATCH]);
	return w;
}

/* The walk over d[i..to): returns the index of the first byte not consumed (an event left there waits in the record). */
static size_t walkImages(ImageWalk* j, size_t i, size_t to)
{
	double* w = j->w;
	uint32_t* st = j->st;
	for (;;) {
		size_t stop = to;
		uint32_t event;
		double at;
		if (w[W_ASSEMBLING] != 0) {
			/* MjpegReader.parse's cap: at or before i the reader refuses the image (tooLarge). */
			double cap = w[W_IMAGE_START] + w[W_SLOT_BYTES] - j->base;
			if (cap <= (double)i)
				return i;
			if (cap < (double)to)
				stop = (size_t)cap;
		}
		i = fieldcamJpegScan(j->d, i, stop, st);
		event = st[JS_EVENT];
		if (!j->pool || (event == JE_NONE && i == to))
			return i;
		at = j->base + (double)i;
		if (event == JE_SOI) {
			/* The image starts where the last one ended, or before (an SOI that cut it short): no gap. */
			if (at - 2 > w[W_GAP_START])
				return i;
			w[W_SAW_IMAGE] = 1;
			w[W_ASSEMBLING] = 1;
			w[W_IMAGE_START] = at - 2;
		}
		else if (event == JE_EOI) {
			if (w[W_ASSEMBLING] != 0) {
				if (st[JS_WIDTH] != w[W_WIDTH] || st[JS_HEIGHT] != w[W_HEIGHT]
						|| !fieldcamBatchFrameRecord(j->the, j->pool, j->batch, (uint32_t)w[W_BATCH], j->cursor, NULL, 0, 0, w[W_IMAGE_START], at,
							w[W_SEQ], 1))
					return i;
				w[W_BATCH] += 1;
				w[W_SEQ] += 1;
				w[W_ASSEMBLING] = 0;
			}
			w[W_GAP_START] = at; /* (after a dropped image too: its end) */
		}
		else if (event != JE_NONE)
			return i; /* an error */
		st[JS_EVENT] = JE_NONE;
	}
}

/* The read committed: the walk over it from the old targetOffset. */
static double walkRead(txMachine* the, const FieldcamCursorRead* read, uint32_t* st, double* w, txSlot* cursor, txSlot* pool, txSlot* batch)
{
	ImageWalk j;
	size_t from = (size_t)read->from;
	j.the = the;
	j.d = read->data;
	j.base = read->position - read->from;
	j.st = st;
	j.w = w;
	j.cursor = fieldcamObjectOf(the, cursor, "cursor");
	j.pool = pool && batch && pool->kind == XS_REFERENCE_KIND && batch->kind == XS_REFERENCE_KIND ? pool : NULL;
	j.batch = batch;
	fieldcamCursorCommit(the, read);
	return (double)walkImages(&j, from, from + (size_t)read->n);
}

/*
 * native.pushJpeg(cursor, n, state, walk[, pool, batch]): a camera read of `n` bytes in one call: what
 * StreamCursor.commit(n) does to the cursor's fields (targetOffset, targetSpace, position), then the walk over the n
 * bytes (above). Returns the index of the first byte not consumed, or -1 with nothing changed when `n` is not an
 * integer in 1..targetSpace or the cursor's fields are not what StreamCursor keeps: the reader's own push then
 * decides (and names the error).
 */
void fieldcamNativePushJpeg(txMachine* the)
{
	FieldcamCursorRead read;
	uint32_t* st;
	double* w;
	fieldcamObjectOf(the, &xsArg(0), "cursor"); /* a cursor that is not an object is refused first, as always */
	st = fieldcamJpegRecord(the, &xsArg(2));
	w = walkRecord(the, &xsArg(3));
	xsResult = xsInteger(-1);
	if (!fieldcamCursorTake(the, &xsArg(0), &xsArg(1), &read))
		return;
	xsResult = xsNumber(walkRead(the, &read, st, w, &xsArg(0), mxArgc > 5 ? &xsArg(4) : NULL, mxArgc > 5 ? &xsArg(5) : NULL));
}

/*
 * What MjpegReader.parse does after the events of a read the walk consumed whole (base + to is its end), when the
 * bytes outside images need no check: the cursor keeps the image being assembled, or from the read's end (an SOI
 * may begin with its last byte: the cursor always keeps the previous slot). 0 when the reader must judge the gap.
 */
static int readerTail(txMachine* the, txSlot* keepFrom, const uint32_t* st, const double* w, double end)
{
	uint32_t state = st[JS_STATE];
	if (state < J_MARKER && end - (state == J_SEEK_FF ? 1 : 0) - w[W_GAP_START] > w[W_GAP_FREE])
		return 0;
	if (!keepFrom)
		return 0;
	fieldcamSetNumberField(the, keepFrom, w[W_ASSEMBLING] != 0 ? w[W_IMAGE_START] : end, "cursor.keepFrom");
	return 1;
}

/* The MJPEG reader's fields readJpeg takes (by name, as pushJpeg's arguments; the batch is absent without records). */
enum { R_PHASE, R_CURSOR, R_JPEG, R_WALK, R_POOL, R_BATCH, R_COUNT };
static const char* const gReaderNames[R_COUNT] = { "phase", "cursor", "jpeg", "walk", "pool", "batch" };
static txID gReaderIds[R_COUNT];
static txMachine* gReaderIdsOf = NULL;

/*
 * native.readJpeg(source, limit, reader): the camera's read itself, in the MJPEG reader's READY phase: a read(2) of
 * source.fd of at most `limit` bytes straight into the reader's cursor's prepared space (the source's lastReadAt set as
 * its `read` would), then what pushJpeg does with the n bytes it brought, on the reader's own fields (cursor, jpeg,
 * walk, pool, batch: one argument, not six, per camera read), and the reader's tail when the walk consumed them all
 * (readerTail). Returns n when the reader has nothing more to do (no record in the batch, no read time), else -n with
 * W_STOP and W_TIMED set. 0 with nothing changed when the reader is not READY, the source has no fd, the prepared
 * space is empty or the overflow scratch's, or the read brought no bytes (would block, end of stream, error): the
 * caller then reads through `source.read`, which decides. Every field is checked before the read: a refusal after it
 * would lose the bytes.
 */
void fieldcamNativeReadJpeg(txMachine* the)
{
	FieldcamCursorRead read;
	txSlot* r[R_COUNT];
	uint32_t* st;
	double* w;
	double index, end;
	int i;
	if (gReaderIdsOf != the) {
		for (i = 0; i < R_COUNT; i++)
			gReaderIds[i] = xsID((char*)gReaderNames[i]);
		gReaderIdsOf = the;
	}
	fieldcamFindFields(fieldcamObjectOf(the, &xsArg(2), "reader"), gReaderIds, R_COUNT, r);
	for (i = 0; i < R_POOL; i++) {
		if (!r[i])
			xsTypeError("reader.%s is missing", gReaderNames[i]);
	}
	st = fieldcamJpegRecord(the, r[R_JPEG]);
	w = walkRecord(the, r[R_WALK]);
	xsResult = xsInteger(0);
	/* READY is 0 (MjpegReader). */
	if (!((r[R_PHASE]->kind == XS_INTEGER_KIND && r[R_PHASE]->value.integer == 0)
				|| (r[R_PHASE]->kind == XS_NUMBER_KIND && r[R_PHASE]->value.number == 0)))
		return;
	if (!fieldcamCursorSourceTake(the, r[R_CURSOR], &xsArg(0), &xsArg(1), &read) || !fieldcamCursorSourceRead(the, &read))
		return;
	index = walkRead(the, &read, st, w, r[R_CURSOR], r[R_POOL], r[R_BATCH]);
	end = read.from + read.n;
	if (index == end && st[JS_EVENT] == JE_NONE && readerTail(the, read.keepFrom, st, w, read.position + read.n)) {
		if (w[W_BATCH] == 0 && !read.timed) {
			xsResult = xsInteger((xsIntegerValue)read.n);
			return;
		}
		index = -1;
	}
	w[W_STOP] = index;
	w[W_TIMED] = read.timed ? 1 : 0;
	xsResult = xsInteger(-(xsIntegerValue)read.n);
}
