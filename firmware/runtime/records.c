/*
 * native.fillFrameRecord(frame, cursor, table, count, start, end, seq, key): the H.264 reader's frame record for a
 * complete access unit in one call (issue 12; the contract is ByteScanPort.fillFrameRecord). What Frame.reset,
 * StreamCursor.fillFrame (the pieces in the cursor's current and previous slots, one slot reference each) and
 * copyNalTable do in JS, on the core's own objects in place (fields.c). Nothing is allocated; every range is checked
 * against what the cursor holds before a field is written, so a refused record is left as it was. The fill itself
 * (fieldcamFillFrameRecord) is also what the access-unit walk (accessunits.c) fills the records it completes with:
 * one rule for a record, in one place.
 */
#include "runtime.h"

enum {
	/* Frame */
	F_SLOT_A, F_START_A, F_END_A, F_SLOT_B, F_START_B, F_END_B, F_PTS, F_DTS, F_DURATION, F_KEY, F_TRACK, F_FRAGMENT_START,
	F_SENT, F_HELD, F_CLIP, F_SEQ, F_STREAM_OFFSET, F_CAPTURED_AT, F_NAL_COUNT, F_NAL_OFFSET, F_NAL_LENGTH, F_NAL_PREFIX,
	F_NAL_TYPE, F_COUNT,
	/* StreamCursor */
	C_CUR = F_COUNT, C_CUR_BASE, C_TARGET_OFFSET, C_PREV, C_PREV_BASE, C_PREV_FILL, C_SCRATCH, C_END,
	/* Slot */
	R_REFS = C_END, ID_TOTAL
};
static const char* const gNames[ID_TOTAL] = {
	"slotA", "startA", "endA", "slotB", "startB", "endB", "pts", "dts", "duration", "key", "track", "fragmentStart",
	"sent", "held", "clip", "seq", "streamOffset", "capturedAt", "nalCount", "nalOffset", "nalLength", "nalPrefix",
	"nalType",
	"cur", "curBase", "targetOffset", "prev", "prevBase", "prevFill", "scratch",
	"refs",
};
static txID gIds[ID_TOTAL];
static txMachine* gIdsOf = NULL;

/* The `refs` field of a Slot. */
static txSlot* refsOf(txMachine* the, txSlot* slot)
{
	txSlot* refs;
	fieldcamFindFields(slot, gIds + R_REFS, 1, &refs);
	return refs;
}

/* Why fieldcamFillFrameRecord left a record as it was (the native throws it; the access-unit walk hands over). */
static char gRefusal[96];

const char* fieldcamFillFrameRecord(txMachine* the, txSlot* frame, txSlot* cursor, const double* table, size_t tableSlots, double count, double start,
		double end, double seq, int key)
{
	txSlot* f[F_COUNT];
	txSlot* c[C_END - C_CUR];
	txSlot *cur, *prev, *scratch, *slotA, *slotB, *refsA, *refsB = NULL;
	size_t offsetSlots, lengthSlots, prefixSlots, typeSlots, i;
	double curBase, fill, prevBase, prevFill, position, startA, endA, endB = 0;
	uint32_t* offsets;
	uint32_t* lengths;
	uint8_t* prefixes;
	uint8_t* types;

	if (gIdsOf != the) {
		for (i = 0; i < ID_TOTAL; i++)
			gIds[i] = xsID((char*)gNames[i]);
		gIdsOf = the;
	}
	fieldcamFindFields(frame, gIds, F_COUNT, f);
	fieldcamFindFields(cursor, gIds + C_CUR, C_END - C_CUR, c);
	offsets = fieldcamViewData(the, f[F_NAL_OFFSET], 4, &offsetSlots, "frame.nalOffset");
	lengths = fieldcamViewData(the, f[F_NAL_LENGTH], 4, &lengthSlots, "frame.nalLength");
	prefixes = fieldcamViewData(the, f[F_NAL_PREFIX], 1, &prefixSlots, "frame.nalPrefix");
	types = fieldcamViewData(the, f[F_NAL_TYPE], 1, &typeSlots, "frame.nalType");
	if (count * 4 > (double)tableSlots || count > (double)offsetSlots || count > (double)lengthSlots || count > (double)prefixSlots
			|| count > (double)typeSlots)
		xsRangeError("count %.0f is more than the table or the frame's arrays hold", count);
	for (i = 0; i < (size_t)count; i++) {
		const double* row = table + 4 * i;
		double offset = row[0] - start;
		if (!(offset >= 0 && offset <= 0xffffffffu && row[1] >= 0 && row[1] <= 0xffffffffu && row[2] >= 0 && row[2] <= 255
				&& row[3] >= 0 && row[3] <= 255))
			xsRangeError("NAL table row %zu is out of range", i);
	}

	/* StreamCursor.fillFrame: the range must be held, and not on the overflow scratch. */
	cur = fieldcamObjectOrNullField(the, c[C_CUR - C_CUR], "cursor.cur");
	prev = fieldcamObjectOrNullField(the, c[C_PREV - C_CUR], "cursor.prev");
	scratch = fieldcamObjectOrNullField(the, c[C_SCRATCH - C_CUR], "cursor.scratch");
	curBase = fieldcamNumberField(the, c[C_CUR_BASE - C_CUR], "cursor.curBase");
	fill = fieldcamNumberField(the, c[C_TARGET_OFFSET - C_CUR], "cursor.targetOffset");
	prevBase = fieldcamNumberField(the, c[C_PREV_BASE - C_CUR], "cursor.prevBase");
	prevFill = fieldcamNumberField(the, c[C_PREV_FILL - C_CUR], "cursor.prevFill");
	position = curBase + fill;
	if (!(prev ? start >= prevBase && start < position : cur != NULL && start >= curBase && start < position) || end > position || end <= start) {
		snprintf(gRefusal, sizeof(gRefusal), "range %.0f..%.0f is not held", start, end);
		return gRefusal;
	}
	if (cur == scratch)
		return "a frame cannot be read from the overflow scratch";
	if (start >= curBase) {
		slotA = cur;
		startA = start - curBase;
		endA = end - curBase;
		slotB = NULL;
	}
	else if (end <= prevBase + prevFill) {
		slotA = prev;
		startA = start - prevBase;
		endA = end - prevBase;
		slotB = NULL;
	}
	else {
		slotA = prev;
		startA = start - prevBase;
		endA = prevFill;
		slotB = cur;
		endB = end - curBase;
	}
	refsA = refsOf(the, slotA);
	if (fieldcamIndexField(the, refsA, "slot.refs") == 0)
		return "slot is free; acquire it first";
	if (slotB) {
		refsB = refsOf(the, slotB);
		if (fieldcamIndexField(the, refsB, "slot.refs") == 0)
			return "slot is free; acquire it first";
	}
	/* Every field's kind is checked before the first is written: a refused record stays as it was. */
	if (!f[F_KEY] || f[F_KEY]->kind != XS_BOOLEAN_KIND || !f[F_FRAGMENT_START] || f[F_FRAGMENT_START]->kind != XS_BOOLEAN_KIND
			|| !f[F_SENT] || f[F_SENT]->kind != XS_BOOLEAN_KIND || !f[F_HELD] || f[F_HELD]->kind != XS_BOOLEAN_KIND)
		xsTypeError("frame: key, fragmentStart, sent and held must be booleans");
	for (i = F_START_A; i <= F_CAPTURED_AT; i++) {
		if (i == F_SLOT_B || i == F_KEY || i == F_FRAGMENT_START || i == F_SENT || i == F_HELD)
			continue;
		if (!f[i] || (f[i]->kind != XS_INTEGER_KIND && f[i]->kind != XS_NUMBER_KIND))
			xsTypeError("frame.%s must be a number", gNames[i]);
	}
	if (!f[F_NAL_COUNT] || (f[F_NAL_COUNT]->kind != XS_INTEGER_KIND && f[F_NAL_COUNT]->kind != XS_NUMBER_KIND))
		xsTypeError("frame.nalCount must be a number");

	/* Frame.reset, then the record. */
	fieldcamSetObjectField(the, f[F_SLOT_A], slotA, "frame.slotA");
	fieldcamSetNumberField(the, f[F_START_A], startA, "frame.startA");
	fieldcamSetNumberField(the, f[F_END_A], endA, "frame.endA");
	fieldcamSetObjectField(the, f[F_SLOT_B], slotB, "frame.slotB");
	fieldcamSetNumberField(the, f[F_START_B], 0, "frame.startB");
	fieldcamSetNumberField(the, f[F_END_B], endB, "frame.endB");
	fieldcamSetNumberField(the, f[F_PTS], 0, "frame.pts");
	fieldcamSetNumberField(the, f[F_DTS], 0, "frame.dts");
	fieldcamSetNumberField(the, f[F_DURATION], 0, "frame.duration");
	fieldcamSetBooleanField(the, f[F_KEY], key, "frame.key");
	fieldcamSetNumberField(the, f[F_TRACK], 0, "frame.track");
	fieldcamSetBooleanField(the, f[F_FRAGMENT_START], 0, "frame.fragmentStart");
	fieldcamSetBooleanField(the, f[F_SENT], 0, "frame.sent");
	fieldcamSetBooleanField(the, f[F_HELD], 0, "frame.held");
	fieldcamSetNumberField(the, f[F_CLIP], 0, "frame.clip");
	fieldcamSetNumberField(the, f[F_SEQ], seq, "frame.seq");
	fieldcamSetNumberField(the, f[F_STREAM_OFFSET], start, "frame.streamOffset");
	fieldcamSetNumberField(the, f[F_CAPTURED_AT], -1, "frame.capturedAt");
	fieldcamSetNumberField(the, refsA, (double)fieldcamIndexField(the, refsA, "slot.refs") + 1, "slot.refs");
	if (refsB)
		fieldcamSetNumberField(the, refsB, (double)fieldcamIndexField(the, refsB, "slot.refs") + 1, "slot.refs");
	for (i = 0; i < (size_t)count; i++) {
		const double* row = table + 4 * i;
		offsets[i] = (uint32_t)(row[0] - start);
		lengths[i] = (uint32_t)row[1];
		prefixes[i] = (uint8_t)row[2];
		types[i] = (uint8_t)row[3];
	}
	fieldcamSetNumberField(the, f[F_NAL_COUNT], count, "frame.nalCount");
	return NULL;
}

/* FramePool's free-record stack (FramePool.takeFrame). */
enum { P_FREE_FRAMES, P_FREE_COUNT, P_FREE_LOW, P_COUNT };
static const char* const gPoolNames[P_COUNT] = { "freeFrames", "freeCount", "freeLow" };
static txID gPoolIds[P_COUNT];
static txMachine* gPoolIdsOf = NULL;

int fieldcamBatchFrameRecord(txMachine* the, txSlot* pool, txSlot* batch, uint32_t at, txSlot* cursor, const double* table,
		size_t tableSlots, double count, double start, double end, double seq, int key)
{
	txSlot* p[P_COUNT];
	txSlot *items, *item, *into, *frame;
	uint32_t freeCount, freeLow;
	int i;
	items = fieldcamArrayItems(batch);
	if (!items || at >= items->value.array.length || !(into = fxGetIndexProperty(the, items, at)))
		return 0;
	if (gPoolIdsOf != the) {
		for (i = 0; i < P_COUNT; i++)
			gPoolIds[i] = xsID((char*)gPoolNames[i]);
		gPoolIdsOf = the;
	}
	fieldcamFindFields(fieldcamObjectOf(the, pool, "pool"), gPoolIds, P_COUNT, p);
	freeCount = fieldcamIndexField(the, p[P_FREE_COUNT], "pool.freeCount");
	freeLow = fieldcamIndexField(the, p[P_FREE_LOW], "pool.freeLow");
	if (freeCount == 0)
		return 0;
	items = fieldcamArrayItems(p[P_FREE_FRAMES]);
	if (!items || freeCount - 1 >= items->value.array.length || !(item = fxGetIndexProperty(the, items, freeCount - 1))
			|| item->kind != XS_REFERENCE_KIND)
		return 0;
	frame = item->value.reference;
	if (fieldcamFillFrameRecord(the, frame, cursor, table, tableSlots, count, start, end, seq, key))
		return 0;
	fieldcamSetNumberField(the, p[P_FREE_COUNT], freeCount - 1, "pool.freeCount");
	if (freeCount - 1 < freeLow)
		fieldcamSetNumberField(the, p[P_FREE_LOW], freeCount - 1, "pool.freeLow");
	into->kind = XS_REFERENCE_KIND;
	into->value.reference = frame;
	return 1;
}

void fieldcamNativeFillFrameRecord(txMachine* the)
{
	/* Numbers first: a conversion may run JS (and move a buffer's data). */
	double count = fieldcamToIndex(the, &xsArg(3), "count");
	double start = xsToNumber(xsArg(4));
	double end = xsToNumber(xsArg(5));
	double seq = xsToNumber(xsArg(6));
	int key = xsToBoolean(xsArg(7));
	txSlot* frame = fieldcamObjectOf(the, &xsArg(0), "frame");
	txSlot* cursor = fieldcamObjectOf(the, &xsArg(1), "cursor");
	size_t tableSlots;
	const double* table = fieldcamViewData(the, &xsArg(2), 8, &tableSlots, "table");
	const char* refusal = fieldcamFillFrameRecord(the, frame, cursor, table, tableSlots, count, start, end, seq, key);
	if (refusal)
		xsRangeError("%s", refusal);
}
