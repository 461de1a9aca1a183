/*
 * native.releaseHead(queue, pool): FragmentQueue.releaseHead in its steady state, in one call (issue 12; the contract
 * is FrameReleasePort.releaseHead, firmware/io/FrameRelease.ts). The twin of what accessunits.c does when it takes a
 * record from the pool's free stack: here the oldest frame of the queue's ring goes back onto that stack with the slot
 * references it holds (FramePool.freeFrame). In XS the two methods cost ~120 computrons per frame of property traffic;
 * here it is one call, for the offline Muxer (a frame written is a frame done) and the uploader's release on ACK.
 *
 * Only the steady state is taken. Anything else (an empty queue, a reference count that would go below zero, a free
 * stack at its end, a field that is not what the TypeScript classes leave there) returns false with NOTHING changed,
 * and the queue's TypeScript path then does the same step and throws the same errors as before. So every check is made
 * before the first field is written. Fields are found by name (fields.c); nothing here runs JS or allocates.
 */
#include "runtime.h"

enum {
	/* FragmentQueue */
	Q_RING, Q_HEAD, Q_LENGTH, Q_UNSENT_FROM, Q_END,
	/* FramePool */
	P_FREE_FRAMES = Q_END, P_FREE_COUNT, P_SLOTS_IN_USE, P_END,
	/* Frame */
	F_SLOT_A = P_END, F_SLOT_B, F_END,
	/* Slot */
	R_REFS = F_END, ID_TOTAL
};
static const char* const gNames[ID_TOTAL] = {
	"ring", "head", "length", "unsentFrom",
	"freeFrames", "freeCount", "slotsInUse",
	"slotA", "slotB",
	"refs",
};
static txID gIds[ID_TOTAL];
static txMachine* gIdsOf = NULL;

/* A writable field holding a count the TypeScript code keeps (0 to 2^31 - 1), into `value`; 0 when it is anything else. */
static int countField(txSlot* slot, int32_t* value)
{
	if (!slot || (slot->flag & XS_DONT_SET_FLAG))
		return 0;
	if (slot->kind == XS_INTEGER_KIND) {
		*value = slot->value.integer;
		return *value >= 0;
	}
	if (slot->kind == XS_NUMBER_KIND && slot->value.number >= 0 && slot->value.number <= 0x7FFFFFFF
			&& slot->value.number == (double)(int32_t)slot->value.number) {
		*value = (int32_t)slot->value.number;
		return 1;
	}
	return 0;
}

static void setCount(txSlot* slot, int32_t value)
{
	slot->kind = XS_INTEGER_KIND;
	slot->value.integer = value;
}

/*
 * A frame's piece slot (`field`: slotA or slotB) into `refs` (its Slot's refs field, NULL for a null piece); `taken`
 * references of the same Slot are already given back by this call. 0 when the TypeScript path must judge it.
 */
static int pieceOf(txSlot* field, txSlot** refs, int32_t taken)
{
	int32_t count;
	*refs = NULL;
	if (!field || (field->flag & XS_DONT_SET_FLAG))
		return 0;
	if (field->kind == XS_NULL_KIND)
		return 1;
	if (field->kind != XS_REFERENCE_KIND)
		return 0;
	fieldcamFindFields(field->value.reference, gIds + R_REFS, 1, refs);
	return countField(*refs, &count) && count > taken;
}

void fieldcamNativeReleaseHead(txMachine* the)
{
	txSlot* q[Q_END - Q_RING];
	txSlot* p[P_END - P_FREE_FRAMES];
	txSlot* f[F_END - F_SLOT_A];
	txSlot *ring, *frees, *item, *into, *frame, *slotA, *slotB, *refsA, *refsB;
	int32_t head, length, unsentFrom, freeCount, slotsInUse, refs;
	int i;

	if (gIdsOf != the) {
		for (i = 0; i < ID_TOTAL; i++)
			gIds[i] = xsID((char*)gNames[i]);
		gIdsOf = the;
	}
	xsResult = xsFalse;
	if (xsArg(0).kind != XS_REFERENCE_KIND || xsArg(1).kind != XS_REFERENCE_KIND)
		return;
	fieldcamFindFields(xsArg(0).value.reference, gIds + Q_RING, Q_END - Q_RING, q);
	fieldcamFindFields(xsArg(1).value.reference, gIds + P_FREE_FRAMES, P_END - P_FREE_FRAMES, p);
	ring = fieldcamArrayItems(q[Q_RING - Q_RING]);
	frees = fieldcamArrayItems(p[P_FREE_FRAMES - P_FREE_FRAMES]);
	if (!ring || !frees || !countField(q[Q_HEAD - Q_RING], &head) || !countField(q[Q_LENGTH - Q_RING], &length)
			|| !countField(q[Q_UNSENT_FROM - Q_RING], &unsentFrom) || !countField(p[P_FREE_COUNT - P_FREE_FRAMES], &freeCount)
			|| !countField(p[P_SLOTS_IN_USE - P_FREE_FRAMES], &slotsInUse))
		return;
	/* An empty queue is the TypeScript path's RangeError; a free stack at its end (a record freed twice) grows there. */
	if (length == 0 || (uint32_t)head >= ring->value.array.length || (uint32_t)freeCount >= frees->value.array.length)
		return;
	item = fxGetIndexProperty(the, ring, (txIndex)head);
	into = fxGetIndexProperty(the, frees, (txIndex)freeCount);
	if (!item || item->kind != XS_REFERENCE_KIND || (item->flag & XS_DONT_SET_FLAG) || !into || (into->flag & XS_DONT_SET_FLAG))
		return;
	frame = item->value.reference;
	fieldcamFindFields(frame, gIds + F_SLOT_A, F_END - F_SLOT_A, f);
	slotA = f[F_SLOT_A - F_SLOT_A];
	slotB = f[F_SLOT_B - F_SLOT_A];
	/* The same Slot in both pieces gives back two references: the second is checked against what the first left. */
	if (!pieceOf(slotA, &refsA, 0) || !slotB
			|| !pieceOf(slotB, &refsB, refsA && slotB->kind == XS_REFERENCE_KIND && slotB->value.reference == slotA->value.reference ? 1 : 0))
		return;

	/* Every check passed: FragmentQueue.releaseHead, then FramePool.freeFrame, as the TypeScript path writes them. */
	item->kind = XS_NULL_KIND;
	setCount(q[Q_HEAD - Q_RING], (int32_t)(((uint32_t)head + 1) % ring->value.array.length));
	setCount(q[Q_LENGTH - Q_RING], length - 1);
	if (unsentFrom > 0)
		setCount(q[Q_UNSENT_FROM - Q_RING], unsentFrom - 1);
	if (refsA) {
		countField(refsA, &refs);
		setCount(refsA, refs - 1);
		if (refs == 1)
			slotsInUse--;
		slotA->kind = XS_NULL_KIND;
	}
	if (refsB) {
		countField(refsB, &refs); /* read again: the first piece may have been the same Slot */
		setCount(refsB, refs - 1);
		if (refs == 1)
			slotsInUse--;
		slotB->kind = XS_NULL_KIND;
	}
	setCount(p[P_SLOTS_IN_USE - P_FREE_FRAMES], slotsInUse);
	into->kind = XS_REFERENCE_KIND;
	into->value.reference = frame;
	setCount(p[P_FREE_COUNT - P_FREE_FRAMES], freeCount + 1);
	xsResult = xsTrue;
}
