/*
 * The byte searches of the media path (design.md §3). In XS's interpreter a JS byte loop — even
 * Uint8Array.prototype.indexOf, which goes through the generic element getter — costs hundreds of ARM
 * instructions per byte; these cost one or two.
 *   native.indexOfByte(data, value, from, to)     first i in [from, to) with data[i] === value, or -1
 *                                                 (the MJPEG reader's search for X'FF')
 *   native.findStartCodes(data, from, to, found)  the Annex-B start codes in [from, to): see below
 *   native.classifyNals(data, from, to, zeros, hasVcl, out)  start codes plus each NAL's type and access-unit
 *                                                 boundary (H.264 7.4.1.2.3): see below
 *   native.findJpegMarker(data, from, to)         the first X'FF' in [from, to) that is not X'FF00' or RSTn
 *   native.skipJpegSegments(data, from, to)       past the JPEG marker segments the scanner only skips
 *   native.walkJpegHeaders(data, from, to, out)   an image's headers up to its entropy-coded data (SOF, SOS taken)
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


/*
 * ZERO_FLAGS(w): a flag in every byte of w that is zero, and ODD_FLAGS the flags of the bytes at odd addresses (w
 * loaded from an aligned address). On ARMv6 and later one UQSUB8 (0x01 - byte, saturated: 01 where the byte is 0,
 * else 00; ACLE __uqsub8); elsewhere the borrow test, whose 80 flags every zero byte (and may flag a 01 byte above a
 * zero: a false alarm costs a look, never a miss).
 */
#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#define ZERO_FLAGS(w) ((uint32_t)__uqsub8(0x01010101u, (w)))
#define FLAG_BITS 0x01010101u
#else
#define ZERO_FLAGS(w) (((w) - 0x01010101u) & ~(w))
#define FLAG_BITS 0x80808080u
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ODD_FLAGS (FLAG_BITS & 0xFF00FF00u)
#else
#define ODD_FLAGS (FLAG_BITS & 0x00FF00FFu)
#endif

/* Bytes per turn of the main loop: eight aligned words (16 bytes per turn cost 1.31 instructions per byte, 32 cost
 * 1.12: the loop's own three instructions count half as much). */
#define BLOCK 32

/* The zero bytes before the 01 of a start code whose first zero is at d[i]: its two and the run before, back to d[0]. */
static __attribute__((noinline, cold)) uint32_t zerosOf(const uint8_t* d, size_t i)
{
	uint32_t zeros = 2;
	while (i > 0 && d[i - 1] == 0) {
		i--;
		zeros++;
	}
	return zeros;
}

#define IS_START_CODE(d, i) ((d)[i] == 0 && (d)[(i) + 1] == 0 && (d)[(i) + 2] == 1)

/* Records the start code whose first zero is at data[i]; returns from fieldcamFindStartCodes once found is full.
 * zerosOf is out of line: a start code is rare next to the bytes scanned, and this is expanded ~40 times. */
#define RECORD(i)                                                                                                          \
	do {                                                                                                               \
		found[2 * count] = (uint32_t)(i) + 2;                                                                      \
		found[2 * count + 1] = zerosOf(data, (i));                                                                 \
		if (++count == max)                                                                                        \
			return count;                                                                                      \
	} while (0)

/* The byte at p + k (k odd): when it is zero, a start code may begin at p + k - 1 (00 00 01 from there) or at p + k,
 * not both (p[k + 1] would be 01 and 00). */
#define CHECK_ODD(k)                                                                                                       \
	do {                                                                                                               \
		if (p[k] == 0) {                                                                                           \
			if (p[(k) - 1] == 0 && p[(k) + 1] == 1)                                                            \
				RECORD((size_t)(p - data) + (k) - 1);                                                      \
			else if (p[(k) + 1] == 0 && p[(k) + 2] == 1)                                                       \
				RECORD((size_t)(p - data) + (k));                                                          \
		}                                                                                                          \
	} while (0)

/*
 * Every `00 00 01` (H.264 B.1: start_code_prefix_one_3bytes after a zero byte) whose first zero lies in
 * data[0..n), as the index of its 01 byte, which may lie up to 2 bytes past n (the caller passes n = to - from - 2
 * and the bytes up to `to`). Each hit also gets the run of zero bytes just before the 01, counted back to data[0]
 * (at least 2: trailing_zero_8bits and the zero_byte of a 4-byte code are told apart by the caller). Writes
 * (index, zeros) pairs into found until it holds `max` of them; returns the number of pairs.
 *
 * A start code has two zeros in a row, so one of them is at an odd address: only the bytes at odd addresses need a
 * look. The main loop takes 32 aligned bytes per turn and tests the zero flags of their odd bytes at once: on the
 * ARM1176 an LDM and five LDRs, eight UQSUB8, seven ORRs, a TST and the loop's three, 27 instructions or 0.84 per
 * byte (with the rest, 1.12 per byte of H.264 payload: docs/performance.md, "Native costs on the ARM1176"). Only a
 * quarter (two words) with an odd zero is looked at byte by byte, and only at its odd bytes (CHECK_ODD). Loads
 * are from aligned addresses (ARMv6 may trap or rotate an unaligned LDR), through memcpy so the compiler sees no
 * aliasing. Also the search of accessunits.c.
 */
uint32_t fieldcamFindStartCodes(const uint8_t* data, size_t n, uint32_t* found, uint32_t max)
{
	uint32_t count = 0;
	size_t s = 0, head = (size_t)(-(uintptr_t)data & 3);
	const uint8_t* p;
	/* Byte by byte up to an aligned address. */
	if (head > n)
		head = n;
	for (; s < head; s++)
		if (IS_START_CODE(data, s))
			RECORD(s);
	/* Blocks of eight words. Reads reach p[33] <= data[n + 1]. */
	if (n - s >= BLOCK) {
		const uint8_t* last = data + n - BLOCK;
		for (p = data + s; p <= last; p += BLOCK) {
			uint32_t w[8], z0, z1, z2, z3;
			memcpy(w, __builtin_assume_aligned(p, 4), BLOCK);
			z0 = ZERO_FLAGS(w[0]) | ZERO_FLAGS(w[1]);
			z1 = ZERO_FLAGS(w[2]) | ZERO_FLAGS(w[3]);
			z2 = ZERO_FLAGS(w[4]) | ZERO_FLAGS(w[5]);
			z3 = ZERO_FLAGS(w[6]) | ZERO_FLAGS(w[7]);
			if (__builtin_expect(((z0 | z1 | z2 | z3) & ODD_FLAGS) != 0, 0)) {
				/* Each quarter (two words) with an odd zero, by its odd bytes. */
				if (z0 & ODD_FLAGS) {
					CHECK_ODD(1);
					CHECK_ODD(3);
					CHECK_ODD(5);
					CHECK_ODD(7);
				}
				if (z1 & ODD_FLAGS) {
					CHECK_ODD(9);
					CHECK_ODD(11);
					CHECK_ODD(13);
					CHECK_ODD(15);
				}
				if (z2 & ODD_FLAGS) {
					CHECK_ODD(17);
					CHECK_ODD(19);
					CHECK_ODD(21);
					CHECK_ODD(23);
				}
				if (z3 & ODD_FLAGS) {
					CHECK_ODD(25);
					CHECK_ODD(27);
					CHECK_ODD(29);
					CHECK_ODD(31);
				}
			}
		}
	}
	else
		p = data + s;
	/* Single words, then the last bytes one by one. */
	for (; (size_t)(data + n - p) >= 4; p += 4) {
		uint32_t w;
		memcpy(&w, __builtin_assume_aligned(p, 4), 4);
		if (ZERO_FLAGS(w) & ODD_FLAGS) {
			CHECK_ODD(1);
			CHECK_ODD(3);
		}
	}
	for (s = (size_t)(p - data); s < n; s++)
		if (IS_START_CODE(data, s))
			RECORD(s);
	return count;
}

#undef CHECK_ODD
#undef RECORD

/*
 * native.findStartCodes(data, from, to, found): for each `00 00 01` whose 01 is at an index p in [from + 2, to),
 * in order, found[2k] = p and found[2k + 1] = the zero bytes just before p counted back no further than `from`.
 * Stops when found (a Uint32Array) is full; returns the number of pairs written. The caller resumes past the last
 * p. Nothing is allocated; the table is the caller's, reused.
 */
void fieldcamNativeFindStartCodes(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	const uint8_t* data;
	uint32_t* found;
	size_t slots;
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	data = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	found = fieldcamViewData(the, &xsArg(3), 4, &slots, "found");
	if (slots < 2)
		xsRangeError("found must hold at least one pair (2 entries), it has %zu", slots);
	if (to - from < 3) {
		xsResult = xsInteger(0);
		return;
	}
	{
		uint32_t count = fieldcamFindStartCodes(data, (size_t)(to - from) - 2, found, (uint32_t)(slots / 2));
		uint32_t i;
		for (i = 0; i < count; i++)
			found[2 * i] += (uint32_t)from;
		xsResult = xsInteger((xsIntegerValue)count);
	}
}

/*
 * The NAL unit whose start code has its 01 at d[p]: its type, and whether it begins a new access unit (7.4.1.2.3:
 * once the access unit has a slice, an AUD, SPS, PPS, SEI or type 14..18 does, and so does a slice whose
 * first_mb_in_slice is 0, i.e. whose ue(v) begins with bit 1). Writes (type, startsAu) to rec and updates *hasVcl;
 * returns 0, writing nothing, when the bytes it needs are not in d[0..n) or are zero (a zero may be the first
 * byte of the next start code, or an empty NAL) or the header has forbidden_zero_bit set: those go to the JS
 * reader, which decides them with its error codes (H264Reader.classify is the one rule; this is its common case).
 */
static int classifyNal(const uint8_t* d, size_t p, size_t n, int* hasVcl, uint32_t* rec)
{
	size_t h = p + 1;
	uint32_t header, type, startsAu = 0;
	int slice;
	if (h >= n || d[h] == 0 || (d[h] & 0x80))
		return 0;
	header = d[h];
	type = header & 0x1f;
	slice = type == 1 || type == 5;
	if (slice && *hasVcl) {
		if (h + 1 >= n || d[h + 1] == 0)
			return 0;
		startsAu = (d[h + 1] & 0x80) ? 1 : 0;
	} else if ((type >= 6 && type <= 9) || (type >= 14 && type <= 18)) {
		startsAu = *hasVcl ? 1 : 0;
	}
	if (startsAu)
		*hasVcl = 0;
	if (slice)
		*hasVcl = 1;
	rec[0] = type;
	rec[1] = startsAu;
	return 1;
}

/*
 * native.classifyNals(data, from, to, zeros, hasVcl, out): the H.264 reader's walk over one read in one call, so
 * JS never calls per start code into a scanner or reads a header byte (docs/performance.md, issue 12). `zeros`
 * zero bytes precede `from` (carried from the previous read); hasVcl says whether the access unit in progress
 * (with the open NAL) has a slice. For each start code whose 01 is at p in [from, to), in order, a record of four
 * entries from out[1]: p, the zero bytes before p (counting the carried ones, >= 2), the new NAL's type and 1 if
 * it begins an access unit, else 0; type 255 when classifyNal leaves it to JS, and that record is the last.
 * Stops after an undecided record or when out is full (JS resumes past the last p, with no zeros carried);
 * otherwise the whole range was scanned and out[0] = the zero bytes at its end (carried ones included when the
 * range is all zeros). Returns the number of records.
 */
void fieldcamNativeClassifyNals(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	double carriedArg = fieldcamToIndex(the, &xsArg(3), "zeros");
	int hasVcl = xsToBoolean(xsArg(4)) ? 1 : 0;
	const uint8_t* d;
	uint32_t* out;
	size_t slots, n, i, headEnd;
	uint32_t max, count = 0, carried, z;
	uint32_t pairs[32];
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	if (carriedArg > 0xffffffffu)
		xsRangeError("zeros is %.0f, more than 32 bits", carriedArg);
	d = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	out = fieldcamViewData(the, &xsArg(5), 4, &slots, "out");
	if (slots < 5)
		xsRangeError("out must hold the zero count and one record (5 entries), it has %zu", slots);
	max = (uint32_t)((slots - 1) / 4);
	n = (size_t)(to - from);
	carried = (uint32_t)carriedArg;
	/* Head, byte by byte: a start code whose zeros came in earlier reads has its 01 at d[0] or d[1]. */
	z = carried;
	headEnd = carried == 0 ? 0 : (n < 2 ? n : 2);
	for (i = 0; i < headEnd; i++) {
		if (d[i] == 0) {
			z++;
			continue;
		}
		if (d[i] == 1 && z >= 2) {
			uint32_t* rec = out + 1 + 4 * count;
			rec[0] = (uint32_t)(from + (double)i);
			rec[1] = z;
			count++;
			if (!classifyNal(d, i, n, &hasVcl, rec + 2)) {
				rec[2] = 255;
				rec[3] = 0;
				xsResult = xsInteger((xsIntegerValue)count);
				return;
			}
			if (count == max) {
				xsResult = xsInteger((xsIntegerValue)count);
				return;
			}
		}
		z = 0;
	}
	/* Body: candidate `00 00 01` with its first zero at d[s], s >= 0, through the word-at-a-time search. */
	if (n >= 3) {
		size_t at = 0;
		for (;;) {
			uint32_t got = fieldcamFindStartCodes(d + at, n - at - 2, pairs, 16), k;
			for (k = 0; k < got; k++) {
				size_t p = at + pairs[2 * k];
				uint32_t zeros = pairs[2 * k + 1];
				uint32_t* rec = out + 1 + 4 * count;
				/* Counted back to d[at]: past 0 (a resumed search) d[at - 1] is a 01, so only a run reaching d[0]
				 * goes on into the carried zeros. */
				if (p == zeros)
					zeros += carried;
				rec[0] = (uint32_t)(from + (double)p);
				rec[1] = zeros;
				count++;
				if (!classifyNal(d, p, n, &hasVcl, rec + 2)) {
					rec[2] = 255;
					rec[3] = 0;
					xsResult = xsInteger((xsIntegerValue)count);
					return;
				}
				if (count == max) {
					xsResult = xsInteger((xsIntegerValue)count);
					return;
				}
			}
			if (got < 16)
				break;
			at += pairs[2 * got - 2] + 1;
			if (at + 2 >= n)
				break;
		}
	}
	/* The zero run left at the end (a start code may continue in the next read). */
	{
		size_t k = n;
		while (k > 0 && d[k - 1] == 0)
			k--;
		out[0] = k == 0 ? carried + (uint32_t)n : (uint32_t)(n - k);
	}
	xsResult = xsInteger((xsIntegerValue)count);
}

/*
 * native.findJpegMarker(data, from, to): the first j in [from, to) with data[j] === 0xFF that is not a stuffed
 * X'FF00' nor a restart marker X'FFD0'-X'FFD7' (T.81 B.1.1.5, F.1.2.3: both belong to entropy-coded data), i.e.
 * data[j + 1] is another value or lies at `to` (not known yet); -1 when there is none. The MJPEG reader's scan of
 * entropy-coded data: JS sees the marker that ends it, never the stuffed X'FF's inside it. memchr is glibc's
 * word-at-a-time search.
 */
void fieldcamNativeFindJpegMarker(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	const uint8_t* data;
	const uint8_t* at;
	const uint8_t* end;
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	data = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	at = data;
	end = data + (size_t)(to - from);
	while (at < end) {
		const uint8_t* hit = memchr(at, 0xff, (size_t)(end - at));
		if (!hit)
			break;
		if (hit + 1 == end || (hit[1] != 0x00 && (hit[1] & 0xf8) != 0xd0)) {
			xsResult = xsInteger((xsIntegerValue)(from + (double)(hit - data)));
			return;
		}
		at = hit + 2;
	}
	xsResult = xsInteger(-1);
}

/* Marker codes whose segment the JPEG scanner only skips (T.81 Table B.1): every code with a length field except
 * the frame headers (SOFn, DHP), SOS and DNL, whose parameters it reads. Fill bytes, TEM, RSTn, SOI and EOI have
 * no length; X'FF00' is no marker. */
static int isSkippedSegment(uint8_t m)
{
	if (m == 0x00 || m == 0x01 || m == 0xff || (m & 0xf8) == 0xd0)
		return 0;
	if (m == 0xd8 || m == 0xd9 || m == 0xda || m == 0xdc || m == 0xde)
		return 0;
	if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
		return 0;
	return 1;
}

/*
 * native.skipJpegSegments(data, from, to): from `from`, where a marker must start, skips whole marker segments the
 * JPEG scanner would skip without looking inside (APPn, DQT, DHT, DRI, COM, …: X'FF', code, length >= 2, then
 * length - 2 bytes), as long as each lies entirely in [from, to). Returns the index where the first other thing
 * starts (a frame or scan header, a fill byte, an invalid length, a segment that runs past `to`, not a marker):
 * `from` itself when there is none. The scanner's state machine takes it from there, so results are its own.
 */
void fieldcamNativeSkipJpegSegments(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	const uint8_t* data;
	size_t i = 0;
	size_t n;
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	data = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	n = (size_t)(to - from);
	while (i + 4 <= n && data[i] == 0xff && isSkippedSegment(data[i + 1])) {
		size_t length = ((size_t)data[i + 2] << 8) | data[i + 3];
		if (length < 2 || i + 2 + length > n)
			break;
		i += 2 + length;
	}
	xsResult = xsNumber(from + (double)i);
}

/* SOF0-3, 5-7, 9-11, 13-15 and DHP (T.81 Table B.1, B.3.2): the segments whose parameters give the frame size. */
static int isFrameHeader(uint8_t m)
{
	return (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) || m == 0xde;
}

/*
 * native.walkJpegHeaders(data, from, to, out): an image's headers, from `from` where a marker must start (the JPEG
 * scanner's MARKER state), as far as the scanner would go without an event: whole segments it only skips (as
 * skipJpegSegments), whole valid frame headers (SOFn/DHP: Lf = 8 + 3 x Nf, Nf >= 1, X >= 1; T.81 B.2.2), the first
 * of which sets out[0] = 1, out[1] = X (width), out[2] = Y (height) unless out[0] was 1 already, and a whole valid
 * scan header (SOS after a frame header: Ls = 6 + 2 x Ns, 1 <= Ns <= 4; B.2.3), after which it stops with out[3] = 1
 * (entropy-coded data follows). Anything else stops it, untouched, with out[3] = 0: a byte other than X'FF', a
 * fill byte, EOI, SOI, RSTn, TEM, DNL, X'FF00', a segment not whole in [from, to), a length below 2, an invalid
 * frame or scan header, SOS before a frame header; the scanner's state machine takes it from there with its own
 * error codes. Returns the index where it stopped (`from` when it took nothing).
 */
void fieldcamNativeWalkJpegHeaders(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	const uint8_t* d;
	uint32_t* out;
	size_t slots, i = 0, n;
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	d = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	out = fieldcamViewData(the, &xsArg(3), 4, &slots, "out");
	if (slots < 4)
		xsRangeError("out must hold 4 entries, it has %zu", slots);
	n = (size_t)(to - from);
	out[3] = 0;
	while (i + 4 <= n && d[i] == 0xff) {
		uint8_t m = d[i + 1];
		size_t length = ((size_t)d[i + 2] << 8) | d[i + 3];
		const uint8_t* p = d + i + 4; /* the parameters */
		if (length < 2 || i + 2 + length > n)
			break;
		if (isSkippedSegment(m)) {
			i += 2 + length;
		} else if (isFrameHeader(m)) {
			if (length < 8 || p[5] == 0 || length != 8 + 3 * (size_t)p[5] || ((p[3] << 8) | p[4]) == 0)
				break;
			if (!out[0]) {
				out[0] = 1;
				out[1] = ((uint32_t)p[3] << 8) | p[4];
				out[2] = ((uint32_t)p[1] << 8) | p[2];
			}
			i += 2 + length;
		} else if (m == 0xda) {
			if (!out[0] || length < 6 || p[0] < 1 || p[0] > 4 || length != 6 + 2 * (size_t)p[0])
				break;
			i += 2 + length;
			out[3] = 1;
			break;
		} else {
			break;
		}
	}
	xsResult = xsNumber(from + (double)i);
}
