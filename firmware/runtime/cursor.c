/*
 * A camera read committed into the core's StreamCursor in place (its fields by name, fields.c), for the natives that
 * take a read in one call: pushAccessUnits (accessunits.c) and pushJpeg (scan.c). `fieldcamCursorTake` says whether
 * `n` is a read StreamCursor.commit(n) would take and reads what the native needs; `fieldcamCursorCommit` then does
 * what commit(n) does to targetOffset, targetSpace and position. Split in two so a native can refuse its other
 * arguments after the take with the cursor unchanged. Nothing here runs JS or allocates.
 */
#include "runtime.h"

enum { C_TARGET, C_TARGET_OFFSET, C_TARGET_SPACE, C_POSITION, C_COUNT };
static const char* const gNames[C_COUNT] = { "target", "targetOffset", "targetSpace", "position" };
static txID gIds[C_COUNT];
static txMachine* gIdsOf = NULL;

int fieldcamCursorTake(txMachine* the, txSlot* cursor, txSlot* n, FieldcamCursorRead* read)
{
	txSlot** c = read->fields;
	size_t size, i;
	double count, from, space, position;
	if (gIdsOf != the) {
		for (i = 0; i < C_COUNT; i++)
			gIds[i] = xsID((char*)gNames[i]);
		gIdsOf = the;
	}
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
