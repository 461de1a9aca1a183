/*
 * The natives that work on the core's own objects in place (block.c: Frame, ViewList; records.c: Frame, StreamCursor,
 * Slot) find their fields by name: identifiers resolved once per machine (the bundles keep property names), matched
 * in one walk over an object's own properties. A renamed or missing field is a TypeError, never a wrong read.
 * Nothing here runs JS or allocates.
 */
#include "runtime.h"

void fieldcamFindFields(txSlot* instance, const txID* ids, int count, txSlot** found)
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
