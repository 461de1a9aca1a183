/*
 * The natives that work on the core's own objects in place (block.c: Frame, ViewList; records.c: Frame, StreamCursor,
 * Slot) find their fields by name: identifiers resolved once per machine (the bundles keep property names), matched
 * in one walk over an object's own properties. A renamed or missing field is a TypeError, never a wrong read.
 * Nothing here runs JS or allocates.
 */
#include "runtime.h"

/*
 * The search itself: the first own property (internal slots skipped) with each ID, NULL when there is none.
 * O(properties x ids): a Frame's 23 fields cost ~1,000 ARM1176 instructions this way, and the media path
 * looks them up several times per frame, hence the shape cache below.
 */
static void findFieldsByName(txSlot* instance, const txID* ids, int count, txSlot** found)
{
	txSlot* p;
	int i, left = count;
	for (i = 0; i < count; i++)
		found[i] = NULL;
	for (p = instance->next; p && left; p = p->next) {
		if (p->flag & XS_INTERNAL_FLAG)
			continue;
		for (i = 0; i < count; i++) {
			if (p->ID == ids[i] && !found[i]) {
				found[i] = p;
				left--;
				break;
			}
		}
	}
}

/*
 * Shape cache (issue 12): per call site (its `ids` table and count), where the fields were in the property list
 * the last time they were all found: in list order, how many links to follow from the previous one and which
 * entry of `ids` sits there. The next call follows those links once and checks each slot's ID and flags; any
 * difference (another shape, a field deleted or added before one) falls back to the search and records the new
 * positions. A hit gives what the search would: an object's own properties have distinct IDs (XS keeps one slot
 * per key), so a non-internal slot with ids[i] is the one the search finds. A miss only costs time; the table is
 * fixed (no allocation), keyed by the table's address, and shared by the machines of the process (every
 * hit is verified, so an entry recorded by another machine is merely a miss). Calls that miss a field are not
 * recorded: they end in a TypeError or a refused record, and proving an absence would take the full walk.
 */
#define SHAPE_FIELDS 32
#define SHAPE_ENTRIES 32
#define SHAPE_MAX_STEP 255

typedef struct {
	uint8_t step; /* links from the previous field found (from the instance for the first) */
	uint8_t which; /* the entry of ids found there: its ID is read from ids on every call, never kept here, since
	                * a call site re-resolves its IDs for another machine, where an old ID may name another key */
} ShapeField;

typedef struct {
	const txID* ids; /* the call site; NULL when the entry is empty */
	int count;
	ShapeField fields[SHAPE_FIELDS]; /* in list order */
} Shape;

static Shape gShapes[SHAPE_ENTRIES];

/* The entry of a call site: open addressing with linear probing from a hash of the table's address. Call sites are
 * static tables, so entries are never evicted, only rewritten for their own site; NULL when the table is full. */
static Shape* shapeOf(const txID* ids, int count, int add)
{
	uint32_t key = (uint32_t)(uintptr_t)ids ^ (uint32_t)count;
	uint32_t at = (key * 2654435761u) >> 27, n; /* Knuth's multiplicative hash, top 5 bits: 32 entries */
	for (n = 0; n < SHAPE_ENTRIES; n++, at = (at + 1) & (SHAPE_ENTRIES - 1)) {
		Shape* shape = &gShapes[at];
		if (shape->ids == ids && (shape->count == count || (add && shape->count == -1 - count)))
			return shape;
		if (!shape->ids)
			return add ? shape : NULL;
	}
	return NULL;
}

/* Records where the search found the fields (all of them), as links from one to the next in list order. */
static void recordShape(Shape* shape, txSlot* instance, const txID* ids, int count, txSlot** found)
{
	txSlot* p;
	int k = 0, step = 0;
	shape->count = -1 - count; /* found by no lookup until complete, yet still this site's entry */
	for (p = instance->next; p && k < count; p = p->next) {
		int i;
		step++;
		if (step > SHAPE_MAX_STEP)
			return;
		for (i = 0; i < count; i++) {
			if (found[i] == p) {
				shape->fields[k].step = (uint8_t)step;
				shape->fields[k].which = (uint8_t)i;
				k++;
				step = 0;
				break;
			}
		}
	}
	if (k != count)
		return;
	shape->count = count;
	shape->ids = ids;
}

void fieldcamFindFields(txSlot* instance, const txID* ids, int count, txSlot** found)
{
	Shape* shape;
	int i;
	if (count > SHAPE_FIELDS) {
		findFieldsByName(instance, ids, count, found);
		return;
	}
	shape = shapeOf(ids, count, 0);
	if (shape && count > 0) {
		/* ~19 ARM1176 instructions per field: follow the links, check the slot, take it. */
		const ShapeField* f = shape->fields;
		const ShapeField* end = f + count;
		txSlot* p = instance;
		do {
			unsigned step = f->step, which;
			do {
				p = p->next;
				if (!p)
					goto search;
			} while (--step);
			which = f->which;
			if (p->ID != ids[which] || (p->flag & XS_INTERNAL_FLAG))
				goto search;
			found[which] = p;
		} while (++f < end);
		return;
	}
search:
	findFieldsByName(instance, ids, count, found);
	for (i = 0; i < count; i++)
		if (!found[i])
			return;
	shape = shapeOf(ids, count, 1);
	if (shape)
		recordShape(shape, instance, ids, count, found);
}

/*
 * The items of the ordinary dense Array that `value` (a field or an argument) refers to: the Array's internal slot, its
 * length and items. NULL for anything else: not an object, another kind of object, or an alias of a preloaded Array
 * (a nonzero ID).
 */
txSlot* fieldcamArrayItems(txSlot* value)
{
	txSlot* array;
	if (!value || value->kind != XS_REFERENCE_KIND)
		return NULL;
	array = value->value.reference->next;
	if (value->value.reference->ID || !array || array->kind != XS_ARRAY_KIND || array->ID != XS_ARRAY_BEHAVIOR)
		return NULL;
	return array;
}

txSlot* fieldcamObjectOf(txMachine* the, txSlot* value, const char* name)
{
	if (!value || value->kind != XS_REFERENCE_KIND)
		xsTypeError("%s must be an object", name);
	return value->value.reference;
}

uint32_t fieldcamIndexField(txMachine* the, txSlot* slot, const char* name)
{
	double number;
	if (slot && slot->kind == XS_INTEGER_KIND && slot->value.integer >= 0)
		return (uint32_t)slot->value.integer;
	if (!slot || slot->kind != XS_NUMBER_KIND)
		xsTypeError("%s must be a number", name);
	number = slot->value.number;
	if (!(number >= 0) || number > 4294967295.0 || number != (double)(uint32_t)number)
		xsRangeError("%s must be an integer from 0 to 2^32-1, got %g", name, number);
	return (uint32_t)number;
}

double fieldcamNumberField(txMachine* the, txSlot* slot, const char* name)
{
	if (slot && slot->kind == XS_INTEGER_KIND)
		return slot->value.integer;
	if (!slot || slot->kind != XS_NUMBER_KIND)
		xsTypeError("%s must be a number", name);
	return slot->value.number;
}

/* Fields written keep their kind rules: a number field stays a number (an integer when it fits), never read-only. */
void fieldcamSetNumberField(txMachine* the, txSlot* slot, double value, const char* name)
{
	if (!slot || (slot->kind != XS_INTEGER_KIND && slot->kind != XS_NUMBER_KIND) || (slot->flag & XS_DONT_SET_FLAG))
		xsTypeError("%s must be a writable number", name);
	if (value <= 0x7FFFFFFF && value >= -0x7FFFFFFF && value == (double)(txInteger)value) {
		slot->kind = XS_INTEGER_KIND;
		slot->value.integer = (txInteger)value;
	}
	else {
		slot->kind = XS_NUMBER_KIND;
		slot->value.number = value;
	}
}

void fieldcamSetBooleanField(txMachine* the, txSlot* slot, int value, const char* name)
{
	if (!slot || slot->kind != XS_BOOLEAN_KIND || (slot->flag & XS_DONT_SET_FLAG))
		xsTypeError("%s must be a writable boolean", name);
	slot->value.boolean = value ? 1 : 0;
}

/* A field that holds an object or null (a Frame's slotA, slotB; a cursor's cur, prev): the object, or NULL for null. */
txSlot* fieldcamObjectOrNullField(txMachine* the, txSlot* slot, const char* name)
{
	if (slot && slot->kind == XS_REFERENCE_KIND)
		return slot->value.reference;
	if (slot && slot->kind == XS_NULL_KIND)
		return NULL;
	xsTypeError("%s must be an object or null", name);
	return NULL;
}

void fieldcamSetObjectField(txMachine* the, txSlot* slot, txSlot* object, const char* name)
{
	if (!slot || (slot->kind != XS_REFERENCE_KIND && slot->kind != XS_NULL_KIND) || (slot->flag & XS_DONT_SET_FLAG))
		xsTypeError("%s must be a writable object field", name);
	if (object) {
		slot->kind = XS_REFERENCE_KIND;
		slot->value.reference = object;
	}
	else
		slot->kind = XS_NULL_KIND;
}
