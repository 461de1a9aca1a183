/*
 * native.closeAccessUnit(data, from, to, base, state, table, sps, pps[, cursor, pool, batch]): the H.264 reader's steady state in C
 * (issue 12; docs/performance.md, "Fourth step, reader side"). From `from` it walks the read's start codes, closes
 * each NAL unit into the access unit being assembled (its table) with the checks H264Reader.closeNal makes, and
 * classifies the next one (7.4.1.2.3), until an access unit is complete (one return per frame: the complete one in
 * the DONE entries, the next begun in the state, ZEROS 0 for a call from STOP + 1), the read is done,
 * or something is irregular: then it stops *before* that start code and the reader's own walk takes it from there,
 * so every error, drop and counter stays the JS reader's. With the reader's cursor, pool and batch, and S_CLOSE set
 * (issue 12, "Eighth step"), a complete access unit that the reader would simply emit is not returned: the walk
 * fills a frame record for it from the pool itself (completeAccessUnit) and goes on, so one call completes every
 * frame of a read and JS hands the batch to onFrame in one loop. The contract is ByteScanPort.closeAccessUnit; the state
 * layout is firmware/core/h264/accessUnitWalk.ts (AU_WALK). Nothing is allocated; JS reuses both tables.
 *
 * Irregular (handed over): a NAL unit whose header or the byte after it is not in the read or is zero, or has
 * forbidden_zero_bit set; a type other than 1, 5, 6, 7, 8, 9; a 33rd NAL unit; an SPS or PPS whose bytes differ
 * from the stored ones (or none stored); a slice that the reader's checks would not pass silently (no parameter
 * sets, fields not in the first 32 bits, B slice, slice_type out of range, IDR with non-I slices, macroblock
 * out of the picture, missing first slice, IDR mixed with non-IDR, another PPS id); any NAL byte the check needs
 * that lies before this slot when the walk has no cursor, or before the cursor's previous slot.
 */
#include "runtime.h"

/* firmware/core/h264/accessUnitWalk.ts (AU_WALK): indices into `state` (a Float64Array). */
enum {
	S_ZEROS = 0, /* in: zero bytes just before `from`; out: see below */
	S_STOP = 1, /* out: FRAME: index of the 01 of the new access unit's start code; HANDOVER: where JS goes on */
	S_NAL_START = 2, /* the open NAL unit: logical offset of its start code, */
	S_NAL_HEADER = 3, /* of its header byte, */
	S_NAL_PREFIX = 4, /* its start code's length (3 or 4), */
	S_NAL_TYPE = 5, /* and its type (classified: 0-31) */
	S_AU_END = 6, /* the access unit: logical end of its last NAL unit, */
	S_AU_COUNT = 7, /* NAL units in table, */
	S_AU_HAS_VCL = 8, /* 1 once it has a slice, */
	S_AU_KEY = 9, /* 1 once it has an IDR slice */
	S_PIC_SIZE = 10, /* in: PicSizeInMbs of the active SPS, 0 when the parameter sets are not ready */
	S_PPS_ID = 11, /* in: pic_parameter_set_id of the stored PPS */
	S_AU_START = 12, /* the access unit: logical offset of its first start code (set here when one begins) */
	S_DONE_START = 13, /* out (FRAME): the complete access unit, whose NAL units are the table's first DONE_COUNT rows: */
	S_DONE_END = 14, /* its start, end, */
	S_DONE_COUNT = 15, /* NAL units */
	S_DONE_KEY = 16, /* and 1 when it holds an IDR slice */
	S_CLOSE = 17, /* in: 1 when the walk may complete steady-state access units itself (completeAccessUnit) */
	S_SLOT_BYTES = 18, /* in: the pool's slot size; a larger access unit is the reader's */
	S_SEQ = 19, /* in and out: the next frame's seq */
	S_BATCH = 20, /* in and out: records in the batch */
	S_HANDED = 21, /* the reader's: after a callback threw, the first record of the batch not handed out */
	S_RESULT = 22, /* out (readAccessUnits, when it returns -n): what pushAccessUnits would have returned, + RESULT_TIMED */
	S_LENGTH = 23
};
enum { RESULT_DONE = 0, RESULT_FRAME = 1, RESULT_HANDOVER = 2, RESULT_QUIET = 3, RESULT_TIMED = 4 };
#define MAX_NALS 32 /* MAX_NALS_PER_FRAME (firmware/core/media/Frame.ts) */

typedef struct {
	const uint8_t* d; /* the slot */
	size_t to;
	double base; /* logical offset of d[0] */
	double* s;
	double* table;
	size_t tableSlots;
	txMachine* the;
	txSlot* cursor; /* StreamCursor, or NULL; with it the FramePool and the batch (an Array): completeAccessUnit's */
	txSlot* pool; /* (the fields or arguments that refer to these two) */
	txSlot* batch;
	const uint8_t* sps;
	size_t spsLength;
	const uint8_t* pps;
	size_t ppsLength;
	/* The cursor's previous slot, looked up when a NAL unit's bytes lie before this one (heldByte): its data, the
	 * logical offset of its first byte and the bytes it holds; prevLooked once looked up. */
	const uint8_t* prev;
	double prevBase;
	double prevFill;
	int prevLooked;
} Walk;

/* The StreamCursor's previous slot (a frame begun in it goes on in this one), and a Slot's bytes. */
enum { V_PREV, V_PREV_BASE, V_PREV_FILL, V_COUNT };
static const char* const gPrevNames[V_COUNT] = { "prev", "prevBase", "prevFill" };
static txID gPrevIds[V_COUNT];
static txID gBytesId;
static txMachine* gPrevIdsOf = NULL;

/* Looks up the cursor's previous slot once per call (only a NAL unit begun before this slot needs it). */
static void lookUpPrevious(Walk* w)
{
	txMachine* the = w->the;
	txSlot* v[V_COUNT];
	txSlot *prev, *bytes;
	size_t size, i;
	w->prevLooked = 1;
	w->prev = NULL;
	if (!w->cursor)
		return;
	if (gPrevIdsOf != the) {
		for (i = 0; i < V_COUNT; i++)
			gPrevIds[i] = xsID((char*)gPrevNames[i]);
		gBytesId = xsID("bytes");
		gPrevIdsOf = the;
	}
	fieldcamFindFields(w->cursor, gPrevIds, V_COUNT, v);
	if (!v[V_PREV] || !v[V_PREV_BASE] || !v[V_PREV_FILL])
		return;
	prev = fieldcamObjectOrNullField(the, v[V_PREV], "cursor.prev");
	if (!prev)
		return;
	fieldcamFindFields(prev, &gBytesId, 1, &bytes);
	if (!bytes)
		return;
	w->prev = fieldcamViewData(the, bytes, 1, &size, "cursor.prev.bytes");
	w->prevBase = fieldcamNumberField(the, v[V_PREV_BASE], "cursor.prevBase");
	w->prevFill = fieldcamNumberField(the, v[V_PREV_FILL], "cursor.prevFill");
	/* The previous slot's bytes end where this slot's begin (StreamCursor.prepare); anything else is not this walk's. */
	if (!(w->prevFill >= 0 && w->prevFill <= (double)size && w->prevBase + w->prevFill == w->base))
		w->prev = NULL;
}

/* The byte at logical offset `at` into *b, from this slot or the cursor's previous one: 0 when neither holds it. */
static int heldByte(Walk* w, double at, uint8_t* b)
{
	if (at >= w->base) {
		if (at - w->base >= (double)w->to)
			return 0;
		*b = w->d[(size_t)(at - w->base)];
		return 1;
	}
	if (!w->prevLooked)
		lookUpPrevious(w);
	if (!w->prev || at < w->prevBase)
		return 0;
	*b = w->prev[(size_t)(at - w->prevBase)];
	return 1;
}

/* The leading ue(v) fields of a slice header from the 32 bits after its NAL header, as SliceHeader.readWord: 0 when
 * the word cannot hold them or might hold an emulation_prevention_three_byte (two zero bytes among its first three). */
static int readSliceWord(uint32_t w, uint32_t* firstMb, uint32_t* sliceType, uint32_t* ppsId)
{
	uint32_t values[3];
	int left = 32, k;
	if ((w & 0xffff0000u) == 0 || (w & 0x00ffff00u) == 0)
		return 0;
	for (k = 0; k < 3; k++) {
		int z = w ? __builtin_clz(w) : 32;
		if (2 * z + 1 > left)
			return 0;
		values[k] = (w >> (31 - 2 * z)) - 1;
		w = 2 * z + 1 >= 32 ? 0 : w << (2 * z + 1);
		left -= 2 * z + 1;
	}
	*firstMb = values[0];
	*sliceType = values[1];
	*ppsId = values[2];
	return 1;
}

/* Would H264Reader.closeNal add the open NAL unit (header at logical h, `length` bytes) without a word? Its bytes may
 * begin in the cursor's previous slot (a frame read across two slots: the reader's cursor.byteAt reads there too). */
static int closesQuietly(Walk* w, double h, double length, uint32_t type)
{
	const double* s = w->s;
	double at = h - w->base;
	if (s[S_AU_COUNT] >= MAX_NALS)
		return 0;
	if (type == 6 || type == 9)
		return 1;
	if (type == 7 || type == 8) {
		const uint8_t* stored = type == 7 ? w->sps : w->pps;
		size_t storedLength = type == 7 ? w->spsLength : w->ppsLength, i;
		uint8_t b;
		if (storedLength == 0 || length != (double)storedLength)
			return 0;
		if (at >= 0)
			return memcmp(w->d + (size_t)at, stored, storedLength) == 0;
		for (i = 0; i < storedLength; i++)
			if (!heldByte(w, h + (double)i, &b) || b != stored[i])
				return 0;
		return 1;
	}
	if (type == 1 || type == 5) {
		uint8_t p[4];
		uint32_t firstMb, sliceType, ppsId, kind, i;
		int hasVcl = s[S_AU_HAS_VCL] != 0, key = s[S_AU_KEY] != 0;
		if (s[S_PIC_SIZE] <= 0 || length < 5)
			return 0;
		if (at >= 0)
			memcpy(p, w->d + (size_t)at + 1, 4);
		else
			for (i = 0; i < 4; i++)
				if (!heldByte(w, h + 1 + i, p + i))
					return 0;
		if (!readSliceWord(((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3], &firstMb, &sliceType, &ppsId))
			return 0;
		kind = sliceType % 5;
		if (sliceType > 9 || kind == 1 || (type == 5 && kind != 2 && kind != 4))
			return 0;
		if ((double)firstMb >= s[S_PIC_SIZE] || (!hasVcl && firstMb != 0) || (hasVcl && (type == 5) != key))
			return 0;
		return (double)ppsId == s[S_PPS_ID];
	}
	return 0;
}

/*
 * The complete access unit in the DONE entries, as the reader's closedAu emits one in its steady state (the reader
 * allows it with S_CLOSE: no key frame awaited, no parameter-set change to announce): a record from the top of the
 * pool's free stack, filled with seq S_SEQ and appended to the batch by records.c (fieldcamBatchFrameRecord), for the
 * reader to hand to onFrame. Returns 0 with nothing changed when the reader must judge it: larger than a slot, no
 * free record, the batch full, or a range the cursor does not hold.
 */
static int completeAccessUnit(Walk* w)
{
	double* s = w->s;
	if (s[S_DONE_END] - s[S_DONE_START] > s[S_SLOT_BYTES]
			|| !fieldcamBatchFrameRecord(w->the, w->pool, w->batch, (uint32_t)s[S_BATCH], w->cursor, w->table, w->tableSlots,
				s[S_DONE_COUNT], s[S_DONE_START], s[S_DONE_END], s[S_SEQ], s[S_DONE_KEY] != 0))
		return 0;
	s[S_BATCH] += 1;
	s[S_SEQ] += 1;
	return 1;
}

/*
 * The start code whose 01 is at d[p], after `zeros` zero bytes: closes the open NAL unit and opens the next. Returns
 * RESULT_DONE (go on), RESULT_FRAME (the new NAL unit begins the next access unit) or RESULT_HANDOVER (nothing
 * changed: JS takes this start code).
 */
static int startCode(Walk* w, size_t p, uint32_t zeros)
{
	double* s = w->s;
	uint32_t prefix = zeros >= 3 ? 4 : 3;
	double startAt = w->base + (double)p - (double)prefix + 1;
	double end = startAt - (double)(zeros - prefix + 1); /* trailing_zero_8bits belong to no NAL unit */
	double h = s[S_NAL_HEADER];
	uint32_t open = (uint32_t)s[S_NAL_TYPE], header, type, startsAu = 0;
	int openSlice = open == 1 || open == 5, hasVcl, slice;
	double* row;
	/* The new NAL unit's class, as scan.c classifyNal (7.4.1.2.3), with the open one counted. */
	if (p + 1 >= w->to || w->d[p + 1] == 0 || (w->d[p + 1] & 0x80))
		return RESULT_HANDOVER;
	header = w->d[p + 1];
	type = header & 0x1f;
	if (type != 1 && type != 5 && (type < 6 || type > 9))
		return RESULT_HANDOVER;
	slice = type == 1 || type == 5;
	hasVcl = openSlice || s[S_AU_HAS_VCL] != 0;
	if (slice && hasVcl) {
		if (p + 2 >= w->to || w->d[p + 2] == 0)
			return RESULT_HANDOVER;
		startsAu = (w->d[p + 2] & 0x80) ? 1 : 0;
	} else if (!slice) {
		startsAu = hasVcl ? 1 : 0;
	}
	if (!closesQuietly(w, h, end - h, open))
		return RESULT_HANDOVER;
	/* Commit: the open NAL unit joins the access unit (AccessUnit.add), the new one is open. */
	row = w->table + 4 * (size_t)s[S_AU_COUNT];
	row[0] = h;
	row[1] = end - h;
	row[2] = s[S_NAL_PREFIX];
	row[3] = open;
	s[S_AU_COUNT] += 1;
	s[S_AU_END] = end;
	if (openSlice) {
		s[S_AU_HAS_VCL] = 1;
		if (open == 5)
			s[S_AU_KEY] = 1;
	}
	s[S_NAL_START] = startAt;
	s[S_NAL_HEADER] = startAt + prefix;
	s[S_NAL_PREFIX] = prefix;
	s[S_NAL_TYPE] = type;
	s[S_STOP] = (double)p;
	if (!startsAu)
		return RESULT_DONE;
	/* The access unit is complete: handed out in the DONE entries, and the next begins with the new NAL unit (as
	 * AccessUnit.begin), so the reader need not copy the state back and forth per frame. */
	s[S_DONE_START] = s[S_AU_START];
	s[S_DONE_END] = s[S_AU_END];
	s[S_DONE_COUNT] = s[S_AU_COUNT];
	s[S_DONE_KEY] = s[S_AU_KEY];
	s[S_AU_START] = startAt;
	s[S_AU_END] = startAt;
	s[S_AU_COUNT] = 0;
	s[S_AU_HAS_VCL] = 0;
	s[S_AU_KEY] = 0;
	s[S_ZEROS] = 0; /* the next call goes on after this 01 */
	if (s[S_CLOSE] != 0 && w->batch && completeAccessUnit(w))
		return RESULT_DONE;
	return RESULT_FRAME;
}

/* A stop at the start code with its 01 at d[p] after `zeros` zeros: JS's walk resumes where that zero run begins
 * (or at `from`, with the carried zeros, when the run reaches back into the previous read). */
static int handOver(Walk* w, size_t from, uint32_t carried, size_t p, uint32_t zeros)
{
	if ((double)p - (double)zeros < (double)from) {
		w->s[S_STOP] = (double)from;
		w->s[S_ZEROS] = carried;
	} else {
		w->s[S_STOP] = (double)(p - zeros);
		w->s[S_ZEROS] = 0;
	}
	return RESULT_HANDOVER;
}

/* The checks and setup both natives share: the state, table and parameter sets into `w` (the data view and range are the caller's). */
static void openWalk(txMachine* the, Walk* w, double base, txSlot* state, txSlot* table, txSlot* sps, txSlot* pps)
{
	size_t slots, tableSlots;
	w->the = the;
	w->cursor = w->pool = w->batch = NULL;
	w->prev = NULL;
	w->prevLooked = 0;
	w->s = fieldcamViewData(the, state, 8, &slots, "state");
	if (slots < S_LENGTH)
		xsRangeError("state must hold %d entries, it has %zu", S_LENGTH, slots);
	w->table = fieldcamViewData(the, table, 8, &tableSlots, "table");
	if (tableSlots < 4 * MAX_NALS)
		xsRangeError("table must hold %d entries, it has %zu", 4 * MAX_NALS, tableSlots);
	w->tableSlots = tableSlots;
	w->sps = fieldcamViewData(the, sps, 1, &w->spsLength, "sps");
	w->pps = fieldcamViewData(the, pps, 1, &w->ppsLength, "pps");
	if (!(base >= 0 && base <= 9007199254740991.0))
		xsRangeError("base is %g, not a stream offset", base);
	if (!(w->s[S_ZEROS] >= 0 && w->s[S_ZEROS] <= 0xffffffffu) || !(w->s[S_AU_COUNT] >= 0 && w->s[S_AU_COUNT] <= MAX_NALS)
			|| !(w->s[S_NAL_TYPE] >= 0 && w->s[S_NAL_TYPE] < 32) || !(w->s[S_BATCH] >= 0 && w->s[S_BATCH] <= 0xffffffffu))
		xsRangeError("state: zeros, NAL count, open NAL type or batch out of range");
	w->base = base;
}

/* completeAccessUnit's objects: the cursor, and the pool and batch at xsArg(at), xsArg(at + 1) when both are objects
 * (absent, the walk returns every complete access unit as FRAME). */
static void openCompleter(txMachine* the, Walk* w, txSlot* cursor, int at)
{
	if (mxArgc > at + 1 && xsArg(at).kind == XS_REFERENCE_KIND && xsArg(at + 1).kind == XS_REFERENCE_KIND) {
		w->cursor = cursor;
		w->pool = &xsArg(at);
		w->batch = &xsArg(at + 1);
	}
}

/* The walk over d[from..to) (closeAccessUnit's contract): returns its result. */
static int walkRange(Walk* w, size_t from)
{
	size_t n = w->to - from, i, headEnd;
	uint32_t carried = (uint32_t)w->s[S_ZEROS], z;
	uint32_t pairs[32];
	int result, quiet = 1;
	/* Head, byte by byte: a start code whose zeros came in earlier reads has its 01 at d[from] or d[from + 1]. */
	z = carried;
	headEnd = carried == 0 ? 0 : (n < 2 ? n : 2);
	for (i = 0; i < headEnd; i++) {
		uint8_t b = w->d[from + i];
		if (b == 0) {
			z++;
			continue;
		}
		if (b == 1 && z >= 2) {
			result = startCode(w, from + i, z);
			quiet = 0;
			if (result == RESULT_HANDOVER)
				result = handOver(w, from, carried, from + i, z);
			if (result != RESULT_DONE)
				return result;
		}
		z = 0;
	}
	/* Body: the word-at-a-time search (scan.c) for `00 00 01` with its first zero at or after d[from]. */
	if (n >= 3) {
		size_t at = from;
		for (;;) {
			uint32_t got = fieldcamFindStartCodes(w->d + at, w->to - at - 2, pairs, 16), k;
			for (k = 0; k < got; k++) {
				size_t p = at + pairs[2 * k];
				uint32_t zeros = pairs[2 * k + 1];
				/* Counted back to d[at]: past `from` d[at - 1] is a 01, so only a run reaching d[from] goes on into
				 * the carried zeros. */
				if (p - at == zeros && at == from)
					zeros += carried;
				result = startCode(w, p, zeros);
				quiet = 0;
				if (result == RESULT_HANDOVER)
					result = handOver(w, from, carried, p, zeros);
				if (result != RESULT_DONE)
					return result;
			}
			if (got < 16)
				break;
			at += pairs[2 * got - 2] + 1;
			if (at + 2 >= w->to)
				break;
		}
	}
	/* The zero run left at the end (a start code may continue in the next read). */
	{
		size_t k = w->to;
		while (k > from && w->d[k - 1] == 0)
			k--;
		w->s[S_ZEROS] = k == from ? carried + (double)n : (double)(w->to - k);
	}
	/* No start code at all (the middle of a slice): JS need not read the state back. */
	return quiet ? RESULT_QUIET : RESULT_DONE;
}

void fieldcamNativeCloseAccessUnit(txMachine* the)
{
	double fromArg = fieldcamToIndex(the, &xsArg(1), "from");
	double toArg = fieldcamToIndex(the, &xsArg(2), "to");
	Walk w;
	size_t slots;
	if (toArg < fromArg)
		xsRangeError("range %.0f..%.0f is reversed", fromArg, toArg);
	fieldcamViewRange(the, &xsArg(0), fromArg, toArg - fromArg, "data");
	w.d = fieldcamViewData(the, &xsArg(0), 1, &slots, "data");
	openWalk(the, &w, xsToNumber(xsArg(3)), &xsArg(4), &xsArg(5), &xsArg(6), &xsArg(7));
	if (mxArgc > 8 && xsArg(8).kind == XS_REFERENCE_KIND)
		openCompleter(the, &w, xsArg(8).value.reference, 9);
	w.to = (size_t)toArg;
	xsResult = xsInteger(walkRange(&w, (size_t)fromArg));
}

/*
 * native.pushAccessUnits(cursor, n, state, table, sps, pps[, pool, batch]): a camera read of `n` bytes in the reader's steady state
 * in one call (ByteScanPort.pushAccessUnits): what StreamCursor.commit(n) does to the cursor's fields (targetOffset,
 * targetSpace, position), then closeAccessUnit over the read (cursor.target[from..from + n), base = position - from
 * before the commit). Returns closeAccessUnit's result, or NOT_TAKEN (-1), with nothing changed, when `n` is not an
 * integer in 1..targetSpace or the cursor's fields are not what StreamCursor keeps: the reader's own push then
 * decides (and names the error).
 */
void fieldcamNativePushAccessUnits(txMachine* the)
{
	FieldcamCursorRead read;
	Walk w;
	xsResult = xsInteger(-1);
	if (!fieldcamCursorTake(the, &xsArg(0), &xsArg(1), &read))
		return;
	w.d = read.data;
	openWalk(the, &w, read.position - read.from, &xsArg(2), &xsArg(3), &xsArg(4), &xsArg(5));
	openCompleter(the, &w, xsArg(0).value.reference, 6);
	fieldcamCursorCommit(the, &read);
	w.to = (size_t)(read.from + read.n);
	xsResult = xsInteger(walkRange(&w, (size_t)read.from));
}

/* The H.264 reader's fields readAccessUnits takes (ByteScanPort.readAccessUnits: by name, as pushAccessUnits' arguments). */
enum { R_PORT_OWNS, R_PHASE, R_CURSOR, R_AU_WALK, R_AU, R_WALK_SPS, R_WALK_PPS, R_POOL, R_BATCH, R_COUNT };
static const char* const gReaderNames[R_COUNT] = { "portOwns", "phase", "cursor", "auWalk", "au", "walkSps", "walkPps", "pool", "batch" };
static txID gReaderIds[R_COUNT];
static txID gTableId[1];
static txMachine* gReaderIdsOf = NULL;

/*
 * native.readAccessUnits(source, limit, reader): the camera's read itself in the H.264 reader's steady state
 * (ByteScanPort.readAccessUnits; issue 12, "Ninth step"; the reader's portOwns true, its phase READY): a read(2) of source.fd of at most `limit` bytes straight
 * into the reader's cursor's prepared space (the source's lastReadAt set as its `read` would), then what
 * pushAccessUnits does with the n bytes it brought, on the reader's own fields (cursor, auWalk, au.table, walkSps,
 * walkPps, pool, batch: one argument, not eight, per camera read). Returns n when the reader has nothing more to do (a
 * source without read times, and a read walked with no record in the batch: QUIET, or DONE with state[S_BATCH] 0),
 * else -n with the result in state[S_RESULT] (DONE only with records to hand out, so QUIET for DONE without), plus
 * RESULT_TIMED when the source has read times (the reader notes the read's time first). 0 with nothing changed when
 * the reader is not in its steady state, the source has no fd, the prepared space is empty or the overflow scratch's, or the read brought no bytes (would
 * block, end of stream, error): the caller then reads through `source.read`, which decides.
 */
void fieldcamNativeReadAccessUnits(txMachine* the)
{
	FieldcamCursorRead read;
	Walk w;
	txSlot* r[R_COUNT];
	txSlot* table;
	int result, i;
	if (gReaderIdsOf != the) {
		for (i = 0; i < R_COUNT; i++)
			gReaderIds[i] = xsID((char*)gReaderNames[i]);
		gTableId[0] = xsID("table");
		gReaderIdsOf = the;
	}
	fieldcamFindFields(fieldcamObjectOf(the, &xsArg(2), "reader"), gReaderIds, R_COUNT, r);
	for (i = 0; i < R_POOL; i++) {
		if (!r[i])
			xsTypeError("reader.%s is missing", gReaderNames[i]);
	}
	fieldcamFindFields(fieldcamObjectOf(the, r[R_AU], "reader.au"), gTableId, 1, &table);
	if (!table)
		xsTypeError("reader.au.table is missing");
	xsResult = xsInteger(0);
	/* The steady state (AnnexBReader: the walk's state is the port's, and no call is running: READY is 0). */
	if (r[R_PORT_OWNS]->kind != XS_BOOLEAN_KIND || !r[R_PORT_OWNS]->value.boolean
			|| !((r[R_PHASE]->kind == XS_INTEGER_KIND && r[R_PHASE]->value.integer == 0)
				|| (r[R_PHASE]->kind == XS_NUMBER_KIND && r[R_PHASE]->value.number == 0)))
		return;
	if (!fieldcamCursorSourceTake(the, r[R_CURSOR], &xsArg(0), &xsArg(1), &read))
		return;
	/* Every field checked before the read: a refusal after it would lose the bytes. */
	w.d = read.data;
	openWalk(the, &w, read.position - read.from, r[R_AU_WALK], table, r[R_WALK_SPS], r[R_WALK_PPS]);
	if (r[R_POOL] && r[R_BATCH] && r[R_POOL]->kind == XS_REFERENCE_KIND && r[R_BATCH]->kind == XS_REFERENCE_KIND) {
		w.cursor = r[R_CURSOR]->value.reference;
		w.pool = r[R_POOL];
		w.batch = r[R_BATCH];
	}
	if (!fieldcamCursorSourceRead(the, &read))
		return;
	fieldcamCursorCommit(the, &read);
	w.to = (size_t)(read.from + read.n);
	result = walkRange(&w, (size_t)read.from);
	if (result == RESULT_DONE && w.s[S_BATCH] == 0)
		result = RESULT_QUIET;
	if (!read.timed && result == RESULT_QUIET) {
		xsResult = xsInteger((xsIntegerValue)read.n);
		return;
	}
	w.s[S_RESULT] = result + (read.timed ? RESULT_TIMED : 0);
	xsResult = xsInteger(-(xsIntegerValue)read.n);
}

/*
 * native.copyNalTable(table, count, start, offsets, lengths, prefixes, types): the access unit's NAL table (4 entries
 * per NAL unit: logical header offset, length, start-code length, type) into a frame record's four typed arrays,
 * offsets made relative to `start` (AccessUnit.copyTo in one call: JS would spend ~100 computrons per NAL unit).
 * Refuses a count beyond any of the arrays, and values that do not fit their element (the table is the reader's,
 * so that would be a bug, not input).
 */
void fieldcamNativeCopyNalTable(txMachine* the)
{
	size_t tableSlots, offsetSlots, lengthSlots, prefixSlots, typeSlots, i;
	const double* table = fieldcamViewData(the, &xsArg(0), 8, &tableSlots, "table");
	double count = fieldcamToIndex(the, &xsArg(1), "count");
	double start = xsToNumber(xsArg(2));
	uint32_t* offsets = fieldcamViewData(the, &xsArg(3), 4, &offsetSlots, "offsets");
	uint32_t* lengths = fieldcamViewData(the, &xsArg(4), 4, &lengthSlots, "lengths");
	uint8_t* prefixes = fieldcamViewData(the, &xsArg(5), 1, &prefixSlots, "prefixes");
	uint8_t* types = fieldcamViewData(the, &xsArg(6), 1, &typeSlots, "types");
	if (count * 4 > (double)tableSlots || count > (double)offsetSlots || count > (double)lengthSlots || count > (double)prefixSlots
			|| count > (double)typeSlots)
		xsRangeError("count %.0f is more than the table or the frame's arrays hold", count);
	for (i = 0; i < (size_t)count; i++) {
		const double* row = table + 4 * i;
		double offset = row[0] - start;
		if (!(offset >= 0 && offset <= 0xffffffffu && row[1] >= 0 && row[1] <= 0xffffffffu && row[2] >= 0 && row[2] <= 255
				&& row[3] >= 0 && row[3] <= 255))
			xsRangeError("NAL table row %zu is out of range", i);
		offsets[i] = (uint32_t)offset;
		lengths[i] = (uint32_t)row[1];
		prefixes[i] = (uint8_t)row[2];
		types[i] = (uint8_t)row[3];
	}
}
