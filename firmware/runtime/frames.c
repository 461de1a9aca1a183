/*
 * native.queueFrame(frame, input): FrameInput.onFrame's steady state in one call (issue 12; the contract is
 * FrameQueuePort.queueFrame). For a file's cadence (no capture clock; read times or not) and FragmentQueue.push's
 * plain case, it does what onFrame and push do, on the core's own objects in place (fields.c): the read that
 * brought the frame's first byte looked up, the frame stamped from its seq, appended to the queue's ring, the
 * counters counted. Every other case returns 0 with nothing changed, and the TypeScript path decides (every drop,
 * counter and error stays its own). Nothing here runs JS or allocates.
 */
#include "runtime.h"

enum {
	/* FrameInput */
	I_QUEUE, I_STATS, I_READ_COUNT, I_CAPTURE, I_ORIGIN, I_TICK_SCALE, I_TICK_NUM, I_FORMAT_FIXED, I_COUNT,
	/* FragmentQueue */
	Q_RING = I_COUNT, Q_HEAD, Q_LENGTH, Q_PAUSED, Q_AWAITING_KEY, Q_OPEN, Q_OPEN_START_PTS, Q_MAX_FRAGMENT_MS,
	Q_MIN_FRAGMENT_MS, Q_GATE, Q_LAST_END, Q_END,
	/* FrameInputStats */
	S_FRAMES = Q_END, S_ACCESS_UNITS, S_KEY_FRAMES, S_END,
	/* Frame */
	F_PTS = S_END, F_DTS, F_DURATION, F_KEY, F_FRAGMENT_START, F_SENT, F_SEQ, F_END,
	/* With read times only (found when there are some: most of the fields lie far down both objects' lists) */
	R_READ_END = F_END, R_READ_AT, R_READ_FIRST, R_END,
	T_STREAM_OFFSET = R_END, T_CAPTURED_AT, ID_TOTAL
};
static const char* const gNames[ID_TOTAL] = {
	"queue", "stats", "readCount", "capture", "origin", "tickScale", "tickNum", "formatFixed",
	"ring", "head", "length", "paused", "awaitingKey", "open", "openStartPts", "maxFragmentMs", "minFragmentMs", "gate",
	"lastEnd",
	"frames", "accessUnits", "keyFrames",
	"pts", "dts", "duration", "key", "fragmentStart", "sent", "seq",
	"readEnd", "readAt", "readFirst",
	"streamOffset", "capturedAt",
};
static txID gIds[ID_TOTAL];
static txMachine* gIdsOf = NULL;

/* The queue's answers (FRAME_QUEUE in firmware/io/FrameQueue.ts). */
#define NOT_MINE 0
#define QUEUED 1

/* Math.round: the nearest integer, halves toward +Infinity, -0 for -0.5 <= x < 0 (floor(x + 0.5) is wrong for the
 * largest double below 0.5). */
static double jsRound(double x)
{
	double r = floor(x);
	if (x - r >= 0.5)
		r += 1.0;
	if (r == 0 && signbit(x))
		r = -0.0;
	return r;
}

static int booleanField(txMachine* the, txSlot* slot, const char* name)
{
	if (!slot || slot->kind != XS_BOOLEAN_KIND)
		xsTypeError("%s must be a boolean", name);
	return slot->value.boolean;
}

static txSlot* objectField(txMachine* the, txSlot* slot, const char* name)
{
	if (!slot || slot->kind != XS_REFERENCE_KIND)
		xsTypeError("%s must be an object", name);
	return slot->value.reference;
}

void fieldcamNativeQueueFrame(txMachine* the)
{
	txSlot* frame = fieldcamObjectOf(the, &xsArg(0), "frame");
	txSlot* input = fieldcamObjectOf(the, &xsArg(1), "input");
	txSlot* in[I_COUNT];
	txSlot* q[Q_END - Q_RING];
	txSlot* st[S_END - S_FRAMES];
	txSlot* f[F_END - F_PTS];
	txSlot* r[R_END - R_READ_END];
	txSlot* t[ID_TOTAL - T_STREAM_OFFSET];
	txSlot *queue, *stats, *ring, *array, *item;
	double origin, tickScale, tickNum, seq, pts, duration, openStartPts, frames, accessUnits, keyFrames, capturedAt = 0;
	uint32_t head, length, capacity, readCount, readFirst = 0;
	int key, open, awaitingKey, fragmentStart;
	int i;

	xsResult = xsInteger(NOT_MINE);
	if (gIdsOf != the) {
		for (i = 0; i < ID_TOTAL; i++)
			gIds[i] = xsID((char*)gNames[i]);
		gIdsOf = the;
	}
	fieldcamFindFields(input, gIds, I_COUNT, in);
	/* A file's cadence only: with a capture clock the stamp is CaptureClock's (TypeScript). */
	if (!in[I_CAPTURE] || in[I_CAPTURE]->kind != XS_UNDEFINED_KIND)
		return;
	readCount = fieldcamIndexField(the, in[I_READ_COUNT], "input.readCount");
	queue = objectField(the, in[I_QUEUE], "input.queue");
	stats = objectField(the, in[I_STATS], "input.stats");
	fieldcamFindFields(queue, gIds + Q_RING, Q_END - Q_RING, q);
	if (booleanField(the, q[Q_PAUSED - Q_RING], "queue.paused"))
		return;
	fieldcamFindFields(frame, gIds + F_PTS, F_END - F_PTS, f);
	fieldcamFindFields(stats, gIds + S_FRAMES, S_END - S_FRAMES, st);

	/* Every field read and its kind checked before anything is written: a refusal or "not mine" changes nothing. */
	origin = fieldcamNumberField(the, in[I_ORIGIN], "input.origin");
	tickScale = fieldcamNumberField(the, in[I_TICK_SCALE], "input.tickScale");
	tickNum = fieldcamNumberField(the, in[I_TICK_NUM], "input.tickNum");
	booleanField(the, in[I_FORMAT_FIXED], "input.formatFixed");
	ring = objectField(the, q[Q_RING - Q_RING], "queue.ring");
	head = fieldcamIndexField(the, q[Q_HEAD - Q_RING], "queue.head");
	length = fieldcamIndexField(the, q[Q_LENGTH - Q_RING], "queue.length");
	awaitingKey = booleanField(the, q[Q_AWAITING_KEY - Q_RING], "queue.awaitingKey");
	open = booleanField(the, q[Q_OPEN - Q_RING], "queue.open");
	openStartPts = fieldcamNumberField(the, q[Q_OPEN_START_PTS - Q_RING], "queue.openStartPts");
	fieldcamNumberField(the, q[Q_LAST_END - Q_RING], "queue.lastEnd");
	frames = fieldcamNumberField(the, st[S_FRAMES - S_FRAMES], "stats.frames");
	accessUnits = fieldcamNumberField(the, st[S_ACCESS_UNITS - S_FRAMES], "stats.accessUnits");
	keyFrames = fieldcamNumberField(the, st[S_KEY_FRAMES - S_FRAMES], "stats.keyFrames");
	seq = fieldcamNumberField(the, f[F_SEQ - F_PTS], "frame.seq");
	key = booleanField(the, f[F_KEY - F_PTS], "frame.key");
	booleanField(the, f[F_FRAGMENT_START - F_PTS], "frame.fragmentStart");
	booleanField(the, f[F_SENT - F_PTS], "frame.sent");
	for (i = F_PTS; i <= F_DURATION; i++)
		fieldcamNumberField(the, f[i - F_PTS], gNames[i]);
	if (readCount > 0) {
		/* FrameInput.capturedAt: the read that brought the frame's first byte, the reads before it forgotten (written
		 * below only if the frame is queued here). */
		size_t ends, ats;
		const double* readEnd;
		const double* readAt;
		double offset;
		fieldcamFindFields(input, gIds + R_READ_END, R_END - R_READ_END, r);
		fieldcamFindFields(frame, gIds + T_STREAM_OFFSET, ID_TOTAL - T_STREAM_OFFSET, t);
		readEnd = fieldcamViewData(the, r[R_READ_END - R_READ_END], sizeof(double), &ends, "input.readEnd");
		readAt = fieldcamViewData(the, r[R_READ_AT - R_READ_END], sizeof(double), &ats, "input.readAt");
		offset = fieldcamNumberField(the, t[T_STREAM_OFFSET - T_STREAM_OFFSET], "frame.streamOffset");
		fieldcamNumberField(the, t[T_CAPTURED_AT - T_STREAM_OFFSET], "frame.capturedAt");
		readFirst = fieldcamIndexField(the, r[R_READ_FIRST - R_READ_END], "input.readFirst");
		if (ats != ends || readFirst >= ends || readCount > ends)
			return;
		while (readCount > 1 && readEnd[readFirst] <= offset) {
			readFirst = (uint32_t)((readFirst + 1) % ends);
			readCount--;
		}
		capturedAt = readAt[readFirst];
	}
	array = ring->next;
	if (ring->ID || !array || array->kind != XS_ARRAY_KIND || array->ID != XS_ARRAY_BEHAVIOR)
		xsTypeError("queue.ring must be an array");
	capacity = array->value.array.length;
	/* A full ring is FragmentQueue.push's error to throw. */
	if (length >= capacity || head >= capacity)
		return;
	item = fxGetIndexProperty(the, array, (txIndex)((head + length) % capacity));
	if (!item || (item->kind != XS_NULL_KIND && item->kind != XS_REFERENCE_KIND) || (item->flag & XS_DONT_SET_FLAG))
		return;

	/* FrameInput.onFrame's file cadence: from the sequence number, never accumulated, so long runs do not drift. */
	pts = origin + jsRound((seq * tickScale) / tickNum);
	duration = origin + jsRound(((seq + 1) * tickScale) / tickNum) - pts;

	/* FragmentQueue.push's plain cases: a frame joining the open fragment within maxFragmentMs, a key frame that opens
	 * no fragment, or one that opens a fragment with no gate to ask. */
	if (!key) {
		if (awaitingKey || !open)
			return; /* awaitKeyFrame */
		if (pts + duration - openStartPts > fieldcamNumberField(the, q[Q_MAX_FRAGMENT_MS - Q_RING], "queue.maxFragmentMs"))
			return; /* fragmentTooLong */
		fragmentStart = 0;
	}
	else {
		fragmentStart = !open || awaitingKey
				|| pts - openStartPts >= fieldcamNumberField(the, q[Q_MIN_FRAGMENT_MS - Q_RING], "queue.minFragmentMs");
		if (fragmentStart && (!q[Q_GATE - Q_RING] || q[Q_GATE - Q_RING]->kind != XS_UNDEFINED_KIND))
			return; /* the gate drops held fragments and admits or holds this one */
	}

	if (readCount > 0) {
		fieldcamSetNumberField(the, r[R_READ_FIRST - R_READ_END], readFirst, "input.readFirst");
		fieldcamSetNumberField(the, in[I_READ_COUNT], readCount, "input.readCount");
		fieldcamSetNumberField(the, t[T_CAPTURED_AT - T_STREAM_OFFSET], capturedAt, "frame.capturedAt");
	}
	fieldcamSetNumberField(the, f[F_PTS - F_PTS], pts, "frame.pts");
	fieldcamSetNumberField(the, f[F_DTS - F_PTS], pts, "frame.dts");
	fieldcamSetNumberField(the, f[F_DURATION - F_PTS], duration, "frame.duration");
	fieldcamSetBooleanField(the, f[F_FRAGMENT_START - F_PTS], fragmentStart, "frame.fragmentStart");
	if (fragmentStart) {
		fieldcamSetBooleanField(the, q[Q_OPEN - Q_RING], 1, "queue.open");
		fieldcamSetBooleanField(the, q[Q_AWAITING_KEY - Q_RING], 0, "queue.awaitingKey");
		fieldcamSetNumberField(the, q[Q_OPEN_START_PTS - Q_RING], pts, "queue.openStartPts");
	}
	fieldcamSetBooleanField(the, f[F_SENT - F_PTS], 0, "frame.sent");
	item->kind = XS_REFERENCE_KIND;
	item->value.reference = frame;
	fieldcamSetNumberField(the, q[Q_LENGTH - Q_RING], (double)length + 1, "queue.length");
	fieldcamSetNumberField(the, q[Q_LAST_END - Q_RING], pts + duration, "queue.lastEnd");
	fieldcamSetNumberField(the, st[S_ACCESS_UNITS - S_FRAMES], accessUnits + 1, "stats.accessUnits");
	fieldcamSetBooleanField(the, in[I_FORMAT_FIXED], 1, "input.formatFixed");
	fieldcamSetNumberField(the, st[S_FRAMES - S_FRAMES], frames + 1, "stats.frames");
	if (key)
		fieldcamSetNumberField(the, st[S_KEY_FRAMES - S_FRAMES], keyFrames + 1, "stats.keyFrames");
	xsResult = xsInteger(QUEUED);
}
