/*
 * A camera read committed into the core's StreamCursor in place (its fields by name, fields.c), for the natives that
 * take a read in one call: pushAccessUnits (accessunits.c) and pushJpeg (images.c). `fieldcamCursorTake` says whether
 * `n` is a read StreamCursor.commit(n) would take and reads what the native needs; `fieldcamCursorCommit` then does
 * what commit(n) does to targetOffset, targetSpace and position. Split in two so a native can refuse its other
 * arguments after the take with the cursor unchanged. Nothing here runs JS or allocates.
 *
 * The read entries (readAccessUnits, readJpeg; issue 12, "Ninth step") do the camera's read(2) themselves:
 * `fieldcamCursorSourceTake` checks that the read is the steady state's (the source says its fd, the cursor's
 * prepared space is in a slot, not the overflow scratch) and `fieldcamCursorSourceRead` reads straight into the
 * prepared space. Only a read that returned bytes is the native's: would-block, end of stream and errors return 0
 * with nothing changed, and the reader's caller then reads through `source.read`, which repeats the syscall and
 * does what it always did (the poll watch, SOURCE_END, INPUT_READ_FAILED), so every irregular case is in one place.
 */
#include "runtime.h"
#include <math.h>

enum { C_TARGET, C_TARGET_OFFSET, C_TARGET_SPACE, C_POSITION, C_COUNT, C_ON_SCRATCH = C_COUNT, C_KEEP_FROM, C_READ_COUNT };
static const char* const gNames[C_READ_COUNT] = { "target", "targetOffset", "targetSpace", "position", "onScratch", "keepFrom" };
static txID gIds[C_READ_COUNT];
/* A separate table for the read entries (the shape cache is per table): the four fields, onScratch and keepFrom (for
 * the reader's tail, images.c: one walk over the cursor's fields per read). */
static txID gReadIds[C_READ_COUNT];
/* The FrameSource's fields (firmware/io/FrameSource.ts). */
enum { F_FD, F_LAST_READ_AT, F_COUNT };
static const char* const gSourceNames[F_COUNT] = { "fd", "lastReadAt" };
static txID gSourceIds[F_COUNT];
static txMachine* gIdsOf = NULL;

static void resolveIds(txMachine* the)
{
	size_t i;
	if (gIdsOf == the)
		return;
	for (i = 0; i < C_READ_COUNT; i++)
		gIds[i] = gReadIds[i] = xsID((char*)gNames[i]);
	for (i = 0; i < F_COUNT; i++)
		gSourceIds[i] = xsID((char*)gSourceNames[i]);
	gIdsOf = the;
}

int fieldcamCursorTake(txMachine* the, txSlot* cursor, txSlot* n, FieldcamCursorRead* read)
{
	txSlot** c = read->fields;
	size_t size;
	double count, from, space, position;
	resolveIds(the);
	fieldcamFindFields(fieldcamObjectOf(the, cursor, "cursor"), gIds, C_COUNT, c);
	if (n->kind != XS_INTEGER_KIND && n->kind != XS_NUMBER_KIND)
		return 0;
	count = n->kind == XS_INTEGER_KIND ? (double)n->value.integer : n->value.number;
	if (!c[C_TARGET] || !c[C_TARGET_OFFSET] || !c[C_TARGET_SPACE] || !c[C_POSITION])
		return 0;
	from = fieldcamNumberField(the, c[C_TARGET_OFFSET], "cursor.targetOffset");
	space = fieldcamNumberField(the, c[C_TARGET_SPACE], "cursor.targetSpace");
	position = fieldcamNumberField(the, c[C_POSITION], "cursor.position");
	if (!(count >= 1 && count <= space && count == (double)(uint32_t)count) || !(from >= 0) || from != (double)(size_t)from
			|| position < from)
		return 0;
	read->data = fieldcamViewData(the, c[C_TARGET], 1, &size, "cursor.target");
	if (from + count > (double)size)
		return 0;
	read->n = count;
	read->from = from;
	read->space = space;
	read->position = position;
	return 1;
}

void fieldcamCursorCommit(txMachine* the, const FieldcamCursorRead* read)
{
	fieldcamSetNumberField(the, read->fields[C_TARGET_OFFSET], read->from + read->n, "cursor.targetOffset");
	fieldcamSetNumberField(the, read->fields[C_TARGET_SPACE], read->space - read->n, "cursor.targetSpace");
	fieldcamSetNumberField(the, read->fields[C_POSITION], read->position + read->n, "cursor.position");
}

int fieldcamCursorSourceTake(txMachine* the, txSlot* cursor, txSlot* source, txSlot* limit, FieldcamCursorRead* read)
{
	txSlot** c = read->fields;
	txSlot* s[F_COUNT];
	txSlot* fd;
	size_t size;
	double most, from, space, position;
	resolveIds(the);
	fieldcamFindFields(fieldcamObjectOf(the, cursor, "cursor"), gReadIds, C_READ_COUNT, c);
	fieldcamFindFields(fieldcamObjectOf(the, source, "source"), gSourceIds, F_COUNT, s);
	/* A source without an fd, or one that gave it up (xsCamera's close sets -1), is read through `read`. */
	fd = s[F_FD];
	if (!fd || fd->kind != XS_INTEGER_KIND || fd->value.integer < 0)
		return 0;
	if (limit->kind == XS_INTEGER_KIND)
		most = (double)limit->value.integer;
	else if (limit->kind == XS_NUMBER_KIND)
		most = limit->value.number;
	else
		return 0;
	if (!c[C_TARGET] || !c[C_TARGET_OFFSET] || !c[C_TARGET_SPACE] || !c[C_POSITION] || !c[C_ON_SCRATCH])
		return 0;
	/* The overflow scratch tries to return to the pool at every read (the reader's prepare): not the steady state. */
	if (c[C_ON_SCRATCH]->kind != XS_BOOLEAN_KIND || c[C_ON_SCRATCH]->value.boolean)
		return 0;
	from = fieldcamNumberField(the, c[C_TARGET_OFFSET], "cursor.targetOffset");
	space = fieldcamNumberField(the, c[C_TARGET_SPACE], "cursor.targetSpace");
	position = fieldcamNumberField(the, c[C_POSITION], "cursor.position");
	/* (A limit that is not a whole count is `read`'s to refuse, as before.) */
	if (!(most >= 1) || most != floor(most) || !(space >= 1) || space != (double)(uint32_t)space || !(from >= 0) || from != (double)(size_t)from
			|| position < from)
		return 0;
	if (most > space)
		most = space;
	read->data = fieldcamViewData(the, c[C_TARGET], 1, &size, "cursor.target");
	if (from + most > (double)size)
		return 0;
	read->fd = fd->value.integer;
	read->lastReadAt = s[F_LAST_READ_AT];
	read->keepFrom = c[C_KEEP_FROM];
	read->n = most;
	read->from = from;
	read->space = space;
	read->position = position;
	return 1;
}

int fieldcamCursorSourceRead(txMachine* the, FieldcamCursorRead* job)
{
	txSlot* at = job->lastReadAt;
	ssize_t count;
	do {
		count = read(job->fd, job->data + (size_t)job->from, (size_t)job->n);
	} while (count < 0 && errno == EINTR);
	if (count <= 0)
		return 0;
	/* A source with read times (lastReadAt a number, NaN = none): when this read completed, as its `read` would
	 * leave it (xsCamera: native.monotonic right after readInput), before anything else runs. */
	job->timed = at && (at->kind == XS_INTEGER_KIND || (at->kind == XS_NUMBER_KIND && at->value.number == at->value.number));
	if (job->timed)
		fieldcamSetNumberField(the, at, (double)fieldcamMonotonicNs() / 1e6, "source.lastReadAt");
	job->n = (double)count;
	return 1;
}
