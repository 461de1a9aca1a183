/*
 * The byte search of the media path (design.md §3): the H.264 reader looks for the 01 of each start code, the
 * MJPEG reader for X'FF'. In XS's interpreter a JS byte loop — even Uint8Array.prototype.indexOf, which goes
 * through the generic element getter — costs hundreds of ARM instructions per byte; memchr costs a few.
 *   native.indexOfByte(data, value, from, to)   first i in [from, to) with data[i] === value, or -1
 */
#include "runtime.h"

void fieldcamNativeIndexOfByte(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(2), "from");
	double to = fieldcamToIndex(the, &xsArg(3), "to");
	int value = xsToInteger(xsArg(1));
	const uint8_t* data;
	const uint8_t* hit;
	if (value < 0 || value > 255)
		xsRangeError("value must be a byte (0-255), got %d", value);
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	data = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	hit = memchr(data, value, (size_t)(to - from));
	xsResult = xsInteger(hit ? (xsIntegerValue)(from + (double)(hit - data)) : -1);
}
