/*
 * The PutMedia acknowledgement stream's framing (issue 12, the upload side): AckParser follows each ACK object's
 * strings and nesting byte by byte to find its end, about 40 computrons per byte in XS, ~4,700 per ACK. This is the
 * same walk in C, one call per read of the response:
 *   native.ackFollow(bytes, from, end, state, scratch)   see below; its contract is AckScanPort.followAck
 *   (firmware/io/AckScan.ts), its TypeScript twin firmware/core/kvs/followAck.ts (the Node board's, and the
 *   reference the suites compare this with).
 * and the reading of a complete ACK as KVS sends it, which took JSON.parse of its text (~2,900 computrons):
 *   native.ackRead(scratch, length, out)                 AckScanPort.readAck; anything unusual is left to JS.
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

/* The members an ACK the C reader takes may hold (kvs-reference.md §4.4), and the event types in
 * ACK_EVENT_TYPES order (firmware/core/kvs/ackFormat.ts). */
enum { EVENT_TYPE, FRAGMENT_TIMECODE, FRAGMENT_NUMBER, ERROR_ID };
static const char* const gKeys[] = { "EventType", "FragmentTimecode", "FragmentNumber", "ErrorId" };
static const char* const gTypes[] = { "BUFFERING", "RECEIVED", "PERSISTED", "ERROR", "IDLE" };
#define MAX_FRAGMENT_NUMBER 128 /* ACK_LIMITS.maxFragmentNumberChars */
#define MAX_INTEGER 9007199254740992.0 /* ACK_LIMITS.maxInteger, 2^53: refused here, judged in JS */

static int isJsonSpace(uint8_t b)
{
	return b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09;
}

/* The index of the `count` names equal to s[0..n), or -1. */
static int lookup(const uint8_t* s, size_t n, const char* const* names, int count)
{
	int k;
	for (k = 0; k < count; k++)
		if (strlen(names[k]) == n && memcmp(s, names[k], n) == 0)
			return k;
	return -1;
}

/* A JSON string with no escape from s[*i] (its opening quote): its contents' bounds, or 0 (no closing quote, or a
 * backslash or control character inside: JSON.parse reads those, not this). */
static int readString(const uint8_t* s, size_t length, size_t* i, size_t* from, size_t* n)
{
	size_t j;
	if (*i >= length || s[*i] != 0x22)
		return 0;
	for (j = *i + 1; j < length && s[j] != 0x22; j++)
		if (s[j] == 0x5c || s[j] < 0x20)
			return 0;
	if (j >= length)
		return 0;
	*from = *i + 1;
	*n = j - *i - 1;
	*i = j + 1;
	return 1;
}

/* Decimal digits only, 1..max of them. */
static int allDigits(const uint8_t* s, size_t n, size_t max)
{
	size_t k;
	if (n < 1 || n > max)
		return 0;
	for (k = 0; k < n; k++)
		if (s[k] < 0x30 || s[k] > 0x39)
			return 0;
	return 1;
}

/* The value of n <= 16 decimal digits (exact in a uint64, rounded once to a double as JSON.parse rounds). */
static double decimal(const uint8_t* s, size_t n)
{
	uint64_t v = 0;
	size_t k;
	for (k = 0; k < n; k++)
		v = v * 10 + (uint64_t)(s[k] - 0x30);
	return (double)v;
}

/*
 * native.ackRead(scratch, length, out): AckParser's fast path for the ACKs KVS sends, one call per ACK instead of
 * JSON.parse of the object's text. Takes scratch[0..length), one complete plain object (no nesting, escape, sign,
 * fraction or exponent: the framing walk said so), only when it is exactly a JSON object of the known members, each
 * at most once: EventType (one of the five types), FragmentTimecode (a JSON integer below 2^53, no leading zero),
 * FragmentNumber (1 to 128 digits), ErrorId (such an integer, or a string of 1 to 15 digits); with whitespace between
 * tokens, and the event's rule: ERROR has an ErrorId, BUFFERING, RECEIVED and PERSISTED a FragmentTimecode. Then
 * out[0] = the type's index in ACK_EVENT_TYPES, out[1] = the timecode or -1, out[2] = the ErrorId or -1, out[3] and
 * out[4] = the FragmentNumber's digits' offset and count in scratch (count 0: absent), and it returns 1. Anything else
 * (an unknown or repeated member, another value, a leading zero…) returns 0 with `out` untouched: JSON.parse and
 * AckObjectReader decide it, with their own results and error codes. Reads nothing outside scratch[0..length);
 * allocates nothing.
 */
void fieldcamNativeAckRead(txMachine* the)
{
	double length = fieldcamToIndex(the, &xsArg(1), "length");
	size_t count;
	size_t n;
	double* out;
	const uint8_t* s;
	size_t i = 1;
	int seen = 0;
	int type = -1;
	double timecode = -1, errorId = -1;
	size_t numberFrom = 0, numberLength = 0;
	out = fieldcamViewData(the, &xsArg(2), sizeof(double), &count, "ackRead(out)");
	if (count < 5)
		xsRangeError("ackRead: out must hold 5 entries, it holds %zu", count);
	s = fieldcamViewRange(the, &xsArg(0), 0, length, "scratch");
	n = (size_t)length;
	if (n < 2 || s[0] != 0x7b)
		goto js;
	for (;;) {
		size_t from, len;
		int key;
		while (i < n && isJsonSpace(s[i]))
			i++;
		if (!readString(s, n, &i, &from, &len))
			goto js;
		key = lookup(s + from, len, gKeys, 4);
		if (key < 0 || (seen & (1 << key)))
			goto js;
		seen |= 1 << key;
		while (i < n && isJsonSpace(s[i]))
			i++;
		if (i >= n || s[i] != 0x3a)
			goto js;
		i++;
		while (i < n && isJsonSpace(s[i]))
			i++;
		if (i >= n)
			goto js;
		if (key == EVENT_TYPE || key == FRAGMENT_NUMBER || (key == ERROR_ID && s[i] == 0x22)) {
			if (!readString(s, n, &i, &from, &len))
				goto js;
			if (key == EVENT_TYPE) {
				type = lookup(s + from, len, gTypes, 5);
				if (type < 0)
					goto js;
			} else if (key == FRAGMENT_NUMBER) {
				if (!allDigits(s + from, len, MAX_FRAGMENT_NUMBER))
					goto js;
				numberFrom = from;
				numberLength = len;
			} else {
				if (!allDigits(s + from, len, 15))
					goto js;
				errorId = decimal(s + from, len);
			}
		} else {
			/* a JSON integer: 0, or a nonzero digit and more digits */
			double v;
			from = i;
			while (i < n && s[i] >= 0x30 && s[i] <= 0x39)
				i++;
			len = i - from;
			if (len < 1 || len > 16 || (len > 1 && s[from] == 0x30))
				goto js;
			v = decimal(s + from, len);
			if (v >= MAX_INTEGER)
				goto js;
			if (key == FRAGMENT_TIMECODE)
				timecode = v;
			else
				errorId = v;
		}
		while (i < n && isJsonSpace(s[i]))
			i++;
		if (i < n && s[i] == 0x2c) {
			i++;
			continue;
		}
		if (i + 1 == n && s[i] == 0x7d)
			break;
		goto js;
	}
	if (type < 0)
		goto js;
	if (type == 3 ? errorId < 0 : (type != 4 && timecode < 0))
		goto js;
	out[0] = type;
	out[1] = timecode;
	out[2] = errorId;
	out[3] = (double)numberFrom;
	out[4] = (double)numberLength;
	xsResult = xsInteger(1);
	return;
js:
	xsResult = xsInteger(0);
}
