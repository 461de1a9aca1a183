/*
 * native.mkvBlock(frame, out, header, relative, lengths): one Matroska SimpleBlock for one frame, appended to a
 * gather list in one call (the contract is MkvBlockPort, firmware/core/mkv/MkvBlockPort.ts; the TypeScript
 * twin is pushBlockViews). In XS every property read and element store is a counted bytecode, so building the
 * block's views in JS cost ~1,300 computrons per frame (~70,000 ARM1176 instructions); here it is one call.
 *
 * The frame and the view list are the core's own objects (Frame, ViewList): their fields are read and written
 * in place, by one walk over each object's properties, matched against identifiers resolved once (by name: the
 * bundles keep property names; a renamed or missing field is a TypeError here, never a wrong read). Nothing
 * here runs JS or allocates, so the data addresses stay valid for the whole call (natives.c fieldcamViewData);
 * every offset is checked against its view before a byte is read or written.
 */
#include "runtime.h"

/* NAL unit types left out of an AVCC sample (pushAvccPayload): access unit delimiter, filler data. */
#define NAL_AUD 9
#define NAL_FILLER 12
/* The block header template of MkvWriter: ID A3, 4-octet size VINT, track 0x81, int16 timecode, flags. */
#define HEADER_BYTES 9
#define HEADER_SIZE_OFFSET 1
#define HEADER_SIZE_WIDTH 4
#define HEADER_TIMECODE_OFFSET 6
#define HEADER_FLAGS_OFFSET 8
#define FLAG_KEY 0x80
/* Largest content a 4-octet VINT holds (2^28 - 2, RFC 8794 §4). */
#define CONTENT_MAX 0x0FFFFFFEu

enum {
	ID_SLOT_A, ID_START_A, ID_END_A, ID_SLOT_B, ID_START_B, ID_END_B, ID_KEY, ID_NAL_COUNT,
	ID_NAL_OFFSET, ID_NAL_LENGTH, ID_NAL_PREFIX, ID_NAL_TYPE, ID_PTS, ID_DTS, ID_DURATION, ID_BYTES,
	ID_CAPACITY, ID_SOURCES, ID_OFFSETS, ID_LENGTHS, ID_COUNT, ID_BYTE_LENGTH, ID_TOTAL
};
static const char* const gNames[ID_TOTAL] = {
	"slotA", "startA", "endA", "slotB", "startB", "endB", "key", "nalCount",
	"nalOffset", "nalLength", "nalPrefix", "nalType", "pts", "dts", "duration", "bytes",
	"capacity", "sources", "offsets", "lengths", "count", "byteLength",
};
static txID gIds[ID_TOTAL];
static txMachine* gIdsOf = NULL;

static void resolveIds(txMachine* the)
{
	int i;
	for (i = 0; i < ID_TOTAL; i++)
		gIds[i] = xsID((char*)gNames[i]);
	gIdsOf = the;
}

/* The own data properties of `instance` named by gIds[first..last] into found[first..last] (fields.c). */
static void findFields(txSlot* instance, int first, int last, txSlot** found)
{
	fieldcamFindFields(instance, gIds + first, last - first + 1, found + first);
}

#define objectOf fieldcamObjectOf
#define indexField fieldcamIndexField
#define setNumberField fieldcamSetNumberField

/* A piece of the frame's payload: the slot's byte view (a reference, pushed as the range's source) and its data. */
typedef struct {
	txSlot* view;
	uint8_t* data;
	uint32_t start;
	uint32_t length;
} Piece;

typedef struct {
	txSlot* sources;     /* the Array's internal slot (XS_ARRAY_KIND) */
	uint32_t* offsets;
	uint32_t* lengths;
	uint32_t capacity;
	uint32_t count;
	double byteLength;
	int full;
} Views;

/* ViewList.push: a range that continues the previous one in the same source is merged into it. */
static void pushRange(txMachine* the, Views* out, txSlot* source, uint32_t offset, uint32_t length)
{
	txSlot* item;
	if (length == 0 || out->full)
		return;
	if (out->count > 0) {
		uint32_t last = out->count - 1;
		item = fxGetIndexProperty(the, out->sources, last);
		if (item && item->kind == XS_REFERENCE_KIND && item->value.reference == source->value.reference
				&& out->offsets[last] + out->lengths[last] == offset) {
			out->lengths[last] += length;
			out->byteLength += length;
			return;
		}
	}
	if (out->count == out->capacity) {
		out->full = 1;
		return;
	}
	item = fxGetIndexProperty(the, out->sources, out->count);
	if (!item)
		xsTypeError("out.sources must be a dense array of capacity entries");
	item->kind = XS_REFERENCE_KIND;
	item->value.reference = source->value.reference;
	out->offsets[out->count] = offset;
	out->lengths[out->count] = length;
	out->count++;
	out->byteLength += length;
}

/* pushFrameBytes: the logical payload range [from, from + length) split across the frame's pieces. */
static void pushPayload(txMachine* the, Views* out, Piece* a, Piece* b, uint32_t from, uint32_t length)
{
	if (from < a->length) {
		uint32_t n = a->length - from < length ? a->length - from : length;
		pushRange(the, out, a->view, a->start + from, n);
		from += n;
		length -= n;
	}
	if (length > 0)
		pushRange(the, out, b->view, b->start + from - a->length, length);
}

static void setPayloadByte(Piece* a, Piece* b, uint32_t at, uint8_t value)
{
	if (at < a->length)
		a->data[a->start + at] = value;
	else
		b->data[b->start + at - a->length] = value;
}

/* A frame piece: slot.bytes and [start, end) inside it. */
static void readPiece(txMachine* the, txSlot* slot, txSlot* startField, txSlot* endField, Piece* piece, const char* name)
{
	txSlot* fields[ID_TOTAL];
	size_t size;
	uint32_t start = indexField(the, startField, "frame.start"), end = indexField(the, endField, "frame.end");
	if (end < start)
		xsRangeError("%s: range %u..%u is reversed", name, start, end);
	piece->start = start;
	piece->length = end - start;
	piece->view = NULL;
	piece->data = NULL;
	if (!slot || slot->kind == XS_NULL_KIND || slot->kind == XS_UNDEFINED_KIND) {
		if (end > start)
			xsTypeError("%s has bytes but no slot", name);
		return;
	}
	findFields(objectOf(the, slot, name), ID_BYTES, ID_BYTES, fields);
	if (!fields[ID_BYTES])
		xsTypeError("%s.bytes is missing", name);
	piece->view = fields[ID_BYTES];
	piece->data = fieldcamViewData(the, piece->view, 1, &size, name);
	if ((size_t)end > size)
		xsRangeError("%s: range %u..%u is outside its slot's %zu bytes", name, start, end, size);
}

/*
 * Appends the block of the frame `frameArg` to the list `listArg` (pushBlock's contract): the header template
 * `headerView` with `relative` and the key flag, then the payload (AVCC when `lengthsArg` is a Uint8Array, else
 * whole). `fields` gets the frame's fields (ID_SLOT_A..ID_BYTES - 1), unless `haveFields` says the caller found them
 * already (mkvWriteBlock: one walk of the frame per call). Returns the bytes appended, or -1 when the list is full
 * (the ranges that fitted are in it).
 */
static double appendBlock(txMachine* the, txSlot* frameArg, txSlot* listArg, txSlot* headerView, uint32_t relative, txSlot* lengthsArg,
	txSlot** fields, int haveFields)
{
	txSlot* frame;
	txSlot* list;
	txSlot* listFields[ID_TOTAL];
	uint8_t* header;
	uint8_t* lengths = NULL;
	size_t headerSize, lengthsSize = 0, n1, n2;
	Piece a, b;
	Views out;
	double markBytes, content;

	header = fieldcamViewData(the, headerView, 1, &headerSize, "header");
	if (headerSize != HEADER_BYTES)
		xsRangeError("header must be the %d-byte SimpleBlock template, it has %zu bytes", HEADER_BYTES, headerSize);
	if (lengthsArg->kind != XS_NULL_KIND)
		lengths = fieldcamViewData(the, lengthsArg, 1, &lengthsSize, "lengths");

	frame = objectOf(the, frameArg, "frame");
	if (!haveFields)
		findFields(frame, ID_SLOT_A, ID_BYTES - 1, fields);
	readPiece(the, fields[ID_SLOT_A], fields[ID_START_A], fields[ID_END_A], &a, "frame.slotA");
	readPiece(the, fields[ID_SLOT_B], fields[ID_START_B], fields[ID_END_B], &b, "frame.slotB");
	if (!fields[ID_KEY] || fields[ID_KEY]->kind != XS_BOOLEAN_KIND)
		xsTypeError("frame.key must be a boolean");

	list = objectOf(the, listArg, "out");
	findFields(list, ID_CAPACITY, ID_BYTE_LENGTH, listFields);
	out.capacity = indexField(the, listFields[ID_CAPACITY], "out.capacity");
	out.count = indexField(the, listFields[ID_COUNT], "out.count");
	if (!listFields[ID_BYTE_LENGTH] || (listFields[ID_BYTE_LENGTH]->kind != XS_INTEGER_KIND && listFields[ID_BYTE_LENGTH]->kind != XS_NUMBER_KIND))
		xsTypeError("out.byteLength must be a number");
	out.byteLength = listFields[ID_BYTE_LENGTH]->kind == XS_INTEGER_KIND ? listFields[ID_BYTE_LENGTH]->value.integer : listFields[ID_BYTE_LENGTH]->value.number;
	if (!listFields[ID_OFFSETS] || !listFields[ID_LENGTHS])
		xsTypeError("out.offsets and out.lengths must be Uint32Arrays");
	out.offsets = fieldcamViewData(the, listFields[ID_OFFSETS], 4, &n1, "out.offsets");
	out.lengths = fieldcamViewData(the, listFields[ID_LENGTHS], 4, &n2, "out.lengths");
	{
		txSlot* array = objectOf(the, listFields[ID_SOURCES], "out.sources")->next;
		if (!array || array->kind != XS_ARRAY_KIND)
			xsTypeError("out.sources must be an Array");
		out.sources = array;
		if (out.capacity > n1 || out.capacity > n2 || out.capacity > array->value.array.length || out.count > out.capacity)
			xsRangeError("out: capacity %u, count %u do not fit its tables", out.capacity, out.count);
	}
	out.full = 0;
	markBytes = out.byteLength;

	header[HEADER_TIMECODE_OFFSET] = (uint8_t)(relative >> 8);
	header[HEADER_TIMECODE_OFFSET + 1] = (uint8_t)(relative & 0xFF);
	header[HEADER_FLAGS_OFFSET] = fields[ID_KEY]->value.boolean ? FLAG_KEY : 0;
	pushRange(the, &out, headerView, 0, HEADER_BYTES);

	if (!lengths) {
		/* The whole payload (MJPEG: one JPEG picture per block). */
		pushPayload(the, &out, &a, &b, 0, a.length + b.length);
	}
	else {
		/* AVCC (pushAvccPayload): each NAL unit after its length as 4 octets big-endian, written over a 4-byte
		 * start code in place or into `lengths` (4 bytes per NAL index) after a 3-byte one. */
		uint32_t size = a.length + b.length, n, i;
		size_t t0, t1, t2, t3;
		uint32_t* offsets;
		uint32_t* nalLengths;
		uint8_t* prefixes;
		uint8_t* types;
		n = indexField(the, fields[ID_NAL_COUNT], "frame.nalCount");
		if (!fields[ID_NAL_OFFSET] || !fields[ID_NAL_LENGTH] || !fields[ID_NAL_PREFIX] || !fields[ID_NAL_TYPE])
			xsTypeError("frame has no NAL table");
		offsets = fieldcamViewData(the, fields[ID_NAL_OFFSET], 4, &t0, "frame.nalOffset");
		nalLengths = fieldcamViewData(the, fields[ID_NAL_LENGTH], 4, &t1, "frame.nalLength");
		prefixes = fieldcamViewData(the, fields[ID_NAL_PREFIX], 1, &t2, "frame.nalPrefix");
		types = fieldcamViewData(the, fields[ID_NAL_TYPE], 1, &t3, "frame.nalType");
		if (n > t0 || n > t1 || n > t2 || n > t3)
			xsRangeError("frame.nalCount %u is more than its NAL table holds", n);
		for (i = 0; i < n; i++) {
			uint32_t offset = offsets[i], length = nalLengths[i];
			uint8_t be[4];
			if (types[i] == NAL_AUD || types[i] == NAL_FILLER)
				continue;
			if (length > size || offset > size - length)
				xsRangeError("NAL %u (%u+%u) is outside the frame's %u bytes", i, offset, length, size);
			be[0] = (uint8_t)(length >> 24);
			be[1] = (uint8_t)(length >> 16);
			be[2] = (uint8_t)(length >> 8);
			be[3] = (uint8_t)length;
			if (prefixes[i] == 4) {
				if (offset < 4)
					xsRangeError("NAL %u at %u has no 4-byte start code before it", i, offset);
				if (offset + length <= a.length) {
					memcpy(a.data + a.start + offset - 4, be, 4);
				}
				else {
					setPayloadByte(&a, &b, offset - 4, be[0]);
					setPayloadByte(&a, &b, offset - 3, be[1]);
					setPayloadByte(&a, &b, offset - 2, be[2]);
					setPayloadByte(&a, &b, offset - 1, be[3]);
				}
				pushPayload(the, &out, &a, &b, offset - 4, length + 4);
			}
			else {
				if ((size_t)i * 4 + 4 > lengthsSize)
					xsRangeError("scratch must hold 4 bytes per NAL unit: %zu bytes, NAL index %u", lengthsSize, i);
				memcpy(lengths + (size_t)i * 4, be, 4);
				pushRange(the, &out, lengthsArg, i * 4, 4);
				pushPayload(the, &out, &a, &b, offset, length);
			}
		}
	}

	setNumberField(the, listFields[ID_COUNT], out.count, "out.count");
	setNumberField(the, listFields[ID_BYTE_LENGTH], out.byteLength, "out.byteLength");
	if (out.full)
		return -1;
	content = out.byteLength - markBytes - (HEADER_SIZE_OFFSET + HEADER_SIZE_WIDTH);
	if (content <= CONTENT_MAX) {
		uint32_t c = (uint32_t)content;
		header[HEADER_SIZE_OFFSET] = (uint8_t)((0x80 >> (HEADER_SIZE_WIDTH - 1)) | (c >> 24));
		header[HEADER_SIZE_OFFSET + 1] = (uint8_t)(c >> 16);
		header[HEADER_SIZE_OFFSET + 2] = (uint8_t)(c >> 8);
		header[HEADER_SIZE_OFFSET + 3] = (uint8_t)c;
	}
	return out.byteLength - markBytes;
}

void fieldcamNativeMkvBlock(txMachine* the)
{
	txSlot* fields[ID_TOTAL];
	double relative = fieldcamToIndex(the, &xsArg(3), "relative");
	if (gIdsOf != the)
		resolveIds(the);
	if (relative > 0x7FFF)
		xsRangeError("relative timecode %.0f is outside 0-32767", relative);
	xsResult = xsNumber(appendBlock(the, &xsArg(0), &xsArg(1), &xsArg(2), (uint32_t)relative, &xsArg(4), fields, 0));
}

/* The writer's block state (firmware/core/mkv/blockState.ts BLOCK_STATE: the same numbers) and writeBlock's results. */
enum {
	S_CLUSTER, S_BLOCKS, S_BYTES, S_FRAGMENT_END, S_HAVE_FRAME, S_LAST_DTS, S_LAST_DURATION, S_MAX_MS, S_MAX_BYTES, S_OPEN, S_LENGTH
};
#define W_LIST_FULL (-1)
#define W_REFUSED (-2)
#define W_TOO_LARGE (-3)
/* Number.MAX_SAFE_INTEGER */
#define SAFE_INTEGER_MAX 9007199254740991.0

/* A frame time (pts, dts, duration): a non-negative safe integer, as MkvWriter's checkTime wants; else -1. */
static double frameTime(txMachine* the, txSlot* slot, const char* name)
{
	double value;
	if (slot && slot->kind == XS_INTEGER_KIND)
		return slot->value.integer >= 0 ? (double)slot->value.integer : -1;
	if (!slot || slot->kind != XS_NUMBER_KIND)
		xsTypeError("%s must be a number", name);
	value = slot->value.number;
	if (!(value >= 0) || value > SAFE_INTEGER_MAX || value != floor(value))
		return -1;
	return value;
}

/*
 * MkvWriter.block in one call (MkvBlockPort.writeBlock): the KVS checks against the writer's state, the block
 * appended as mkvBlock appends it, the state updated. A refusal returns a result below 0 with the state untouched;
 * MkvWriter names it with its own checks. `clear`: the list is emptied first (ViewList.clear: count and byteLength
 * 0), before anything else (writeBlockAlone).
 */
static double writeBlock(txMachine* the, txSlot* frameArg, txSlot* listArg, txSlot* headerArg, txSlot* lengthsArg, txSlot* stateArg, int clear)
{
	txSlot* fields[ID_TOTAL];
	txSlot* frame;
	size_t count;
	double* state;
	double pts, dts, duration, cluster, relative, end, written, content;
	if (gIdsOf != the)
		resolveIds(the);
	if (clear) {
		txSlot* listFields[ID_TOTAL];
		findFields(objectOf(the, listArg, "out"), ID_COUNT, ID_BYTE_LENGTH, listFields);
		setNumberField(the, listFields[ID_COUNT], 0, "out.count");
		setNumberField(the, listFields[ID_BYTE_LENGTH], 0, "out.byteLength");
	}
	state = fieldcamViewData(the, stateArg, sizeof(double), &count, "state");
	if (count < S_LENGTH)
		xsRangeError("state must hold %d entries, it holds %zu", S_LENGTH, count);
	if (state[S_OPEN] != 1)
		return W_REFUSED; /* before the frame is read: no block outside a fragment, whatever the frame */
	frame = objectOf(the, frameArg, "frame");
	findFields(frame, ID_SLOT_A, ID_BYTES - 1, fields); /* appendBlock's too: ID_KEY..ID_DURATION are among them */
	pts = frameTime(the, fields[ID_PTS], "frame.pts");
	dts = frameTime(the, fields[ID_DTS], "frame.dts");
	duration = frameTime(the, fields[ID_DURATION], "frame.duration");
	if (pts < 0 || dts < 0 || duration < 0)
		return W_REFUSED;
	if (!fields[ID_KEY] || fields[ID_KEY]->kind != XS_BOOLEAN_KIND)
		xsTypeError("frame.key must be a boolean");
	cluster = state[S_CLUSTER];
	relative = pts - cluster;
	end = pts + duration > state[S_FRAGMENT_END] ? pts + duration : state[S_FRAGMENT_END];
	if ((state[S_BLOCKS] == 0 && (!fields[ID_KEY]->value.boolean || pts != dts))
			|| !(relative >= 0 && relative <= 0x7FFF)
			|| (state[S_HAVE_FRAME] == 1 && dts < state[S_LAST_DTS] + state[S_LAST_DURATION])
			|| end - cluster > state[S_MAX_MS])
		return W_REFUSED;
	written = appendBlock(the, frameArg, listArg, headerArg, (uint32_t)relative, lengthsArg, fields, 1);
	if (written < 0)
		return W_LIST_FULL;
	content = written - (HEADER_SIZE_OFFSET + HEADER_SIZE_WIDTH);
	if (content > CONTENT_MAX || state[S_BYTES] + written > state[S_MAX_BYTES])
		return W_TOO_LARGE;
	state[S_BLOCKS] += 1;
	state[S_BYTES] += written;
	state[S_FRAGMENT_END] = end;
	state[S_HAVE_FRAME] = 1;
	state[S_LAST_DTS] = dts;
	state[S_LAST_DURATION] = duration;
	return written;
}

/* native.mkvWriteBlock(frame, out, header, lengths, state): MkvBlockPort.writeBlock. */
void fieldcamNativeMkvWriteBlock(txMachine* the)
{
	xsResult = xsNumber(writeBlock(the, &xsArg(0), &xsArg(1), &xsArg(2), &xsArg(3), &xsArg(4), 0));
}

/*
 * native.mkvWriteBlockAlone(out, header, lengths, state, frame): MkvBlockPort.writeBlockAlone, writeBlock into the
 * emptied list with the frame last, so that a writer binds the rest once (MkvWriter.blockAloneInto): the offline
 * Muxer's block per frame is then one bound native call.
 */
void fieldcamNativeMkvWriteBlockAlone(txMachine* the)
{
	xsResult = xsNumber(writeBlock(the, &xsArg(4), &xsArg(0), &xsArg(1), &xsArg(2), &xsArg(3), 1));
}
