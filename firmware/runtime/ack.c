/*
 * The PutMedia acknowledgement stream's framing (issue 12, the upload side): AckParser follows each ACK object's
 * strings and nesting byte by byte to find its end, about 40 computrons per byte in XS, ~4,700 per ACK. This is the
 * same walk in C, one call per read of the response:
 *   native.ackFollow(bytes, from, end, state, scratch)   see below; its contract is AckScanPort.followAck
 *   (firmware/io/AckScan.ts), its TypeScript twin firmware/core/kvs/followAck.ts (the Node board's, and the
 *   reference the suites compare this with).
 */
#include "runtime.h"

/* The state layout (firmware/core/kvs/followAck.ts ACK_WALK). */
enum { KEEP, LENGTH, DEPTH, COLONS, PLAIN, IN_STRING, ESCAPE, SKIPPED, CLOSED, WALK_SIZE };

/* A state entry that must be a whole number in [0, max]. */
static double entry(txMachine* the, const double* state, int at, double max, const char* name)
{
	double v = state[at];
	if (!(v >= 0 && v <= max) || v != (double)(uint32_t)v)
		xsRangeError("ackFollow: state[%d] (%s) must be a whole number in 0..%.0f, got %g", at, name, max, v);
	return v;
}

/*
 * native.ackFollow(bytes, from, end, state, scratch): follows an ACK object from bytes[from] (AckParser's OBJECT
 * state when state[KEEP] is 1, its RESYNC state when 0) for at most the bytes its budget leaves: scratch.length
 * minus state[LENGTH] (kept bytes) or minus state[SKIPPED] (bytes followed since an error). Strings are followed
 * with their escapes (a backslash at the end of a read sets state[ESCAPE]: the next read's first byte is skipped);
 * outside strings ":" counts in state[COLONS], "{" and "[" deepen state[DEPTH] and clear state[PLAIN], "}" and "]"
 * close, and "-", ".", "e", "E", "+" clear state[PLAIN]; a backslash clears it too. It stops after the byte that
 * takes the depth to 0 (state[CLOSED] = 1), at `end`, or at the budget. With KEEP the bytes followed are appended to
 * scratch at state[LENGTH], else state[SKIPPED] grows by them. Returns the index where it stopped. Never reads
 * outside [from, end) nor writes outside scratch; allocates nothing.
 */
void fieldcamNativeAckFollow(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double end = fieldcamToIndex(the, &xsArg(2), "end");
	size_t count;
	size_t scratchBytes;
	double* state;
	uint8_t* scratch;
	const uint8_t* bytes;
	int keep;
	size_t length, skipped, budget, n, i, limit;
	double depth, colons;
	int plain, inString, escaped = 0, closed = 0;
	if (end < from)
		xsRangeError("ackFollow: range %.0f..%.0f is reversed", from, end);
	state = fieldcamViewData(the, &xsArg(3), sizeof(double), &count, "ackFollow(state)");
	if (count < WALK_SIZE)
		xsRangeError("ackFollow: state must hold %d entries, it holds %zu", WALK_SIZE, count);
	scratch = fieldcamViewData(the, &xsArg(4), 1, &scratchBytes, "ackFollow(scratch)");
	bytes = fieldcamViewRange(the, &xsArg(0), from, end - from, "bytes");
	/* The views are resolved: from here nothing may run JS or allocate (an error thrown before any write is fine). */
	keep = entry(the, state, KEEP, 1, "keep") == 1;
	length = (size_t)entry(the, state, LENGTH, (double)scratchBytes, "length");
	skipped = (size_t)entry(the, state, SKIPPED, (double)scratchBytes, "skipped");
	depth = entry(the, state, DEPTH, 4294967295.0, "depth");
	colons = entry(the, state, COLONS, 4294967295.0, "colons");
	plain = entry(the, state, PLAIN, 1, "plain") == 1;
	inString = entry(the, state, IN_STRING, 1, "inString") == 1;
	budget = scratchBytes - (keep ? length : skipped);
	n = (size_t)(end - from);
	limit = n > budget ? budget : n;
	i = 0;
	if (entry(the, state, ESCAPE, 1, "escape") == 1) {
		/* the byte after a backslash that ended the previous piece */
		if (i < limit)
			i++;
		else
			escaped = 1;
	}
	while (i < limit) {
		uint8_t b;
		if (inString) {
			size_t j = i;
			while (j < limit && bytes[j] != 0x22 && bytes[j] != 0x5c)
				j++;
			if (j == limit) {
				i = limit;
				break;
			}
			if (bytes[j] == 0x5c) {
				plain = 0;
				if (j + 1 < limit)
					i = j + 2;
				else {
					i = limit;
					escaped = 1;
				}
				continue;
			}
			inString = 0;
			i = j + 1;
			continue;
		}
		b = bytes[i++];
		if (b == 0x22)
			inString = 1;
		else if (b == 0x3a)
			colons++;
		else if (b == 0x7b || b == 0x5b) {
			depth++;
			plain = 0;
		} else if (b == 0x7d || b == 0x5d) {
			if (--depth == 0) {
				closed = 1;
				break;
			}
		} else if (b == 0x2d || b == 0x2e || b == 0x65 || b == 0x45 || b == 0x2b)
			plain = 0;
	}
	if (keep) {
		memmove(scratch + length, bytes, i);
		state[LENGTH] = (double)(length + i);
	} else
		state[SKIPPED] = (double)(skipped + i);
	state[DEPTH] = depth;
	state[COLONS] = colons;
	state[PLAIN] = plain;
	state[IN_STRING] = inString;
	state[ESCAPE] = escaped;
	state[CLOSED] = closed;
	xsResult = xsNumber(from + (double)i);
}
