/*
 * The byte searches of the media path (design.md §3). In XS's interpreter a JS byte loop — even
 * Uint8Array.prototype.indexOf, which goes through the generic element getter — costs hundreds of ARM
 * instructions per byte; these cost one or two.
 *   native.indexOfByte(data, value, from, to)     first i in [from, to) with data[i] === value, or -1
 *                                                 (the MJPEG reader's search for X'FF')
 *   native.findStartCodes(data, from, to, found)  the Annex-B start codes in [from, to): see below
 *   native.classifyNals(data, from, to, zeros, hasVcl, out)  start codes plus each NAL's type and access-unit
 *                                                 boundary (H.264 7.4.1.2.3): see below
 *   native.scanJpeg(data, from, to, state)        the JPEG scanner over [from, to) up to its next event: see below
 * The MJPEG reader's camera read in one call (pushJpeg, readJpeg) walks reads with this scanner: images.c.
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
 * The JPEG scanner (firmware/core/mjpeg/JpegScanner.ts) in C: the same state machine on the same state record, so
 * either continues the other's work and both stop at the same byte with the same event. The record's indices, the
 * states and the error numbers mirror firmware/core/mjpeg/jpegScanState.ts (JPEG_SCAN, JPEG_STATE, JPEG_ERROR);
 * the events mirror JPEG_EVENT.
 */
enum { JS_STATE, JS_EVENT, JS_MARKER, JS_LENGTH, JS_REMAINING, JS_HEAD_WANT, JS_HEAD_HAVE, JS_HAS_FRAME_HEADER, JS_HAS_SCAN,
	JS_WIDTH, JS_HEIGHT, JS_ERROR, JS_HEAD, JS_HEAD_BYTES = 6, JS_SIZE = JS_HEAD + JS_HEAD_BYTES };
enum { J_SEEK, J_SEEK_FF, J_MARKER, J_MARKER_CODE, J_LENGTH_HI, J_LENGTH_LO, J_SEGMENT, J_ENTROPY, J_ENTROPY_FF, J_STATES };
enum { JE_NONE, JE_SOI, JE_EOI, JE_ERROR };
enum { JERR_NONE, JERR_NOT_A_MARKER, JERR_SOI_BEFORE_EOI, JERR_STUFFED_OUTSIDE_SCAN, JERR_SOS_BEFORE_SOF, JERR_LENGTH_BELOW_2,
	JERR_EOI_BEFORE_SOF, JERR_EOI_BEFORE_SOS, JERR_NO_LINES, JERR_FRAME_HEADER_LENGTH, JERR_FRAME_HEADER_NO_SAMPLES,
	JERR_SCAN_HEADER_LENGTH, JERR_DNL_INVALID };

/* SOF0-3, 5-7, 9-11, 13-15 and DHP (T.81 Table B.1, B.3.2): the segments whose parameters give the frame size. */
static int isFrameHeader(uint32_t m)
{
	return (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) || m == 0xde;
}

/*
 * FF_FLAGS(w): a flag in every byte of w that is X'FF'. On ARMv6 and later one UQSUB8 (byte - 0xFE, saturated: 01
 * where the byte is X'FF', else 00; exact); elsewhere the borrow test on ~w (~w - 0x01.. = ~(w + 0x01..), so an add
 * and a bit-clear), whose 80 flags every X'FF' and may flag an X'FE' above one: the lowest flag is always an X'FF'.
 */
#if defined(__ARM_FEATURE_SIMD32)
#define FF_FLAGS(w) ((uint32_t)__uqsub8((w), 0xfefefefeu))
#else
#define FF_FLAGS(w) (((w) & ~((w) + 0x01010101u)) & 0x80808080u)
#endif

/* Bytes per turn of findFF's main loop: four aligned words, whose flags stay in registers for the turn that finds one. */
#define FF_BLOCK 16

/* An X'FF' at d[j] that ends entropy-coded data: not a stuffed X'FF00' nor a restart marker RSTn (F.1.2.3, B.1.1.5;
 * both belong to the data), or the last byte of the range (its next byte is not known yet). */
#define ENDS_ENTROPY(d, j, n) ((j) + 1 == (n) || ((d)[(j) + 1] != 0x00 && ((d)[(j) + 1] & 0xf8) != 0xd0))

/* An X'FF' at d[j] that findFF stops at: any, or with `entropy` one that ENDS_ENTROPY. */
#define FF_STOP(d, j, n, entropy) ((d)[j] == 0xff && (!(entropy) || ENDS_ENTROPY(d, j, n)))

/* The first flag of `m` (FF_FLAGS of the word at d[at]) that findFF stops at, lowest first (memory is little-endian
 * on every target), or NOT_FOUND. */
#define NOT_FOUND ((size_t)-1)
static inline size_t stopInWord(const uint8_t* d, size_t at, uint32_t m, size_t n, int entropy)
{
	for (; m; m &= m - 1) {
		size_t j = at + ((size_t)__builtin_ctz(m) >> 3);
		if (FF_STOP(d, j, n, entropy))
			return j;
	}
	return NOT_FOUND;
}

/*
 * The first X'FF' in d[i..n) (with `entropy`: the first that ends entropy-coded data), or n. Entropy-coded data is
 * nearly all of a JPEG image, so this is the scanner's cost: 16 aligned bytes per turn while none is X'FF' (on the
 * ARM1176 four loads, four UQSUB8, three ORRs and the loop's three: under one instruction per byte). A turn that finds
 * one looks at each flagged word's flags, from the flags it already computed (eight words per turn, as
 * fieldcamFindStartCodes takes them, left too few registers to keep them: each X'FF' then cost ~95 instructions), so a
 * stuffed X'FF00' or RSTn (about one in 200 bytes of entropy-coded data) costs a look at its next byte and no new
 * search. Aligned loads as in fieldcamFindStartCodes.
 */
static size_t findFF(const uint8_t* d, size_t i, size_t n, int entropy)
{
	while (i < n && (((uintptr_t)(d + i)) & 3) != 0) {
		if (FF_STOP(d, i, n, entropy))
			return i;
		i++;
	}
	if (n - i >= FF_BLOCK) {
		/* One pointer against the last block's start: the loop's own cost is an add, a compare and a branch. */
		const uint8_t* p = d + i;
		const uint8_t* last = d + n - FF_BLOCK;
		do {
			uint32_t w[4], f0, f1, f2, f3;
			memcpy(w, __builtin_assume_aligned(p, 4), FF_BLOCK);
			f0 = FF_FLAGS(w[0]);
			f1 = FF_FLAGS(w[1]);
			f2 = FF_FLAGS(w[2]);
			f3 = FF_FLAGS(w[3]);
			if (__builtin_expect((f0 | f1 | f2 | f3) != 0, 0)) {
				size_t at = (size_t)(p - d), j;
				if ((f0 && (j = stopInWord(d, at, f0, n, entropy)) != NOT_FOUND)
						|| (f1 && (j = stopInWord(d, at + 4, f1, n, entropy)) != NOT_FOUND)
						|| (f2 && (j = stopInWord(d, at + 8, f2, n, entropy)) != NOT_FOUND)
						|| (f3 && (j = stopInWord(d, at + 12, f3, n, entropy)) != NOT_FOUND))
					return j;
			}
			p += FF_BLOCK;
		} while (p <= last);
		i = (size_t)(p - d);
	}
	while (n - i >= 4) {
		uint32_t w;
		size_t j;
		memcpy(&w, __builtin_assume_aligned(d + i, 4), 4);
		if ((j = stopInWord(d, i, FF_FLAGS(w), n, entropy)) != NOT_FOUND)
			return j;
		i += 4;
	}
	while (i < n) {
		if (FF_STOP(d, i, n, entropy))
			return i;
		i++;
	}
	return n;
}

static size_t jpegFail(uint32_t* st, size_t i, uint32_t error)
{
	st[JS_STATE] = J_SEEK;
	st[JS_EVENT] = JE_ERROR;
	st[JS_ERROR] = error;
	return i;
}

/* JpegScanner.endSegment: the captured parameters of the segment just read, checked; returns the event raised. */
static uint32_t jpegEndSegment(uint32_t* st)
{
	uint32_t m = st[JS_MARKER], length = st[JS_LENGTH];
	const uint32_t* h = st + JS_HEAD;
	st[JS_STATE] = J_MARKER;
	if (isFrameHeader(m)) {
		/* Lf = 8 + 3 x Nf, Nf >= 1, X >= 1; Y = 0 defers the line count to DNL (B.2.2). */
		if (length < 8 || h[5] == 0 || length != 8 + 3 * h[5])
			jpegFail(st, 0, JERR_FRAME_HEADER_LENGTH);
		else if (((h[3] << 8) | h[4]) == 0)
			jpegFail(st, 0, JERR_FRAME_HEADER_NO_SAMPLES);
		else if (!st[JS_HAS_FRAME_HEADER]) {
			st[JS_HAS_FRAME_HEADER] = 1;
			st[JS_HEIGHT] = (h[1] << 8) | h[2];
			st[JS_WIDTH] = (h[3] << 8) | h[4];
		}
	} else if (m == 0xda) {
		/* Ls = 6 + 2 x Ns, 1 <= Ns <= 4 (B.2.3). */
		if (length < 6 || h[0] < 1 || h[0] > 4 || length != 6 + 2 * h[0])
			jpegFail(st, 0, JERR_SCAN_HEADER_LENGTH);
		else {
			st[JS_HAS_SCAN] = 1;
			st[JS_STATE] = J_ENTROPY;
		}
	} else if (m == 0xdc) {
		/* Ld = 4, NL >= 1 (B.2.5). */
		uint32_t lines = (h[0] << 8) | h[1];
		if (length != 4 || lines == 0)
			jpegFail(st, 0, JERR_DNL_INVALID);
		else if (st[JS_HEIGHT] == 0)
			st[JS_HEIGHT] = lines;
	}
	return st[JS_EVENT];
}

/* JpegScanner.scan over d[i..n): consumes bytes up to the first event and returns the index of the first unconsumed one. */
size_t fieldcamJpegScan(const uint8_t* d, size_t i, size_t n, uint32_t* st)
{
	st[JS_EVENT] = JE_NONE;
	while (i < n) {
		switch (st[JS_STATE]) {
		case J_ENTROPY: {
			/* Stuffed X'FF00' and RSTn are passed over in findFF; any other X'FF' ends the data (F.1.2.3, B.2.1). */
			size_t j = findFF(d, i, n, 1);
			if (j == n)
				return n;
			i = j + 1;
			st[JS_STATE] = J_ENTROPY_FF;
			break;
		}
		case J_ENTROPY_FF: {
			uint8_t b = d[i];
			if (b == 0x00 || (b & 0xf8) == 0xd0) {
				st[JS_STATE] = J_ENTROPY;
				i++;
			} else if (b == 0xff) {
				i++; /* a fill byte before a marker (B.1.1.2) */
			} else {
				st[JS_STATE] = J_MARKER_CODE; /* not consumed: MARKER_CODE reads it */
			}
			break;
		}
		case J_SEEK: {
			size_t j = findFF(d, i, n, 0);
			if (j == n)
				return n;
			i = j + 1;
			st[JS_STATE] = J_SEEK_FF;
			break;
		}
		case J_SEEK_FF: {
			uint8_t b = d[i++];
			if (b == 0xd8) {
				st[JS_STATE] = J_MARKER;
				st[JS_WIDTH] = st[JS_HEIGHT] = 0;
				st[JS_HAS_FRAME_HEADER] = st[JS_HAS_SCAN] = 0;
				st[JS_EVENT] = JE_SOI;
				return i;
			}
			if (b != 0xff)
				st[JS_STATE] = J_SEEK;
			break;
		}
		case J_MARKER:
			if (d[i++] != 0xff)
				return jpegFail(st, i, JERR_NOT_A_MARKER);
			st[JS_STATE] = J_MARKER_CODE;
			break;
		case J_MARKER_CODE: {
			uint8_t m = d[i++];
			if (m == 0xff)
				break; /* fill byte (B.1.1.2) */
			if (m == 0xd9) {
				/* EOI (B.2.1): an image needs a frame header, at least one scan and a known number of lines. */
				if (!st[JS_HAS_FRAME_HEADER])
					return jpegFail(st, i, JERR_EOI_BEFORE_SOF);
				if (!st[JS_HAS_SCAN])
					return jpegFail(st, i, JERR_EOI_BEFORE_SOS);
				if (!st[JS_HEIGHT])
					return jpegFail(st, i, JERR_NO_LINES);
				st[JS_STATE] = J_SEEK;
				st[JS_EVENT] = JE_EOI;
				return i;
			}
			if (m == 0xd8) {
				/* The next image starts before this one ended: the SOI is left for the next scan. */
				jpegFail(st, i - 1, JERR_SOI_BEFORE_EOI);
				st[JS_STATE] = J_SEEK_FF;
				return i - 1;
			}
			if (m == 0x00)
				return jpegFail(st, i, JERR_STUFFED_OUTSIDE_SCAN);
			if (m == 0x01 || (m & 0xf8) == 0xd0) {
				st[JS_STATE] = J_MARKER; /* markers without parameters (B.1.1.3) */
				break;
			}
			if (m == 0xda && !st[JS_HAS_FRAME_HEADER])
				return jpegFail(st, i, JERR_SOS_BEFORE_SOF);
			st[JS_MARKER] = m;
			st[JS_STATE] = J_LENGTH_HI;
			break;
		}
		case J_LENGTH_HI:
			st[JS_LENGTH] = (uint32_t)d[i++] << 8;
			st[JS_STATE] = J_LENGTH_LO;
			break;
		case J_LENGTH_LO: {
			uint32_t length = st[JS_LENGTH] | d[i++];
			uint32_t m = st[JS_MARKER];
			if (length < 2)
				return jpegFail(st, i, JERR_LENGTH_BELOW_2);
			st[JS_LENGTH] = length;
			st[JS_REMAINING] = length - 2;
			st[JS_HEAD_HAVE] = 0;
			st[JS_HEAD_WANT] = isFrameHeader(m) || m == 0xda || m == 0xdc ? (length - 2 < JS_HEAD_BYTES ? length - 2 : JS_HEAD_BYTES) : 0;
			st[JS_STATE] = J_SEGMENT;
			if (length == 2 && jpegEndSegment(st) != JE_NONE)
				return i;
			break;
		}
		case J_SEGMENT: {
			uint32_t have = st[JS_HEAD_HAVE], want = st[JS_HEAD_WANT];
			if (have < want) {
				size_t take = want - have;
				if (take > n - i)
					take = n - i;
				st[JS_REMAINING] -= (uint32_t)take;
				while (take--)
					st[JS_HEAD + have++] = d[i++];
				st[JS_HEAD_HAVE] = have;
			} else {
				size_t skip = st[JS_REMAINING];
				if (skip > n - i)
					skip = n - i;
				i += skip;
				st[JS_REMAINING] -= (uint32_t)skip;
			}
			if (st[JS_REMAINING] == 0 && jpegEndSegment(st) != JE_NONE)
				return i;
			break;
		}
		}
	}
	return i;
}

/*
 * A JPEG scanner's record (`state`, a Uint32Array) checked before any byte is read: a record no scan could have left
 * (an unknown state, a capture count past the record) is a RangeError, so the head bytes are never written out of
 * bounds. scanJpeg's check, and images.c's.
 */
uint32_t* fieldcamJpegRecord(txMachine* the, txSlot* slot)
{
	size_t slots;
	uint32_t* st = fieldcamViewData(the, slot, 4, &slots, "state");
	if (slots < JS_SIZE)
		xsRangeError("state must hold %d entries, it has %zu", JS_SIZE, slots);
	if (st[JS_STATE] >= J_STATES || st[JS_HEAD_WANT] > JS_HEAD_BYTES || st[JS_HEAD_HAVE] > st[JS_HEAD_WANT])
		xsRangeError("state is not a JPEG scanner's record (state %u, head %u of %u)", st[JS_STATE], st[JS_HEAD_HAVE], st[JS_HEAD_WANT]);
	return st;
}

/*
 * native.scanJpeg(data, from, to, state): the JPEG scanner over data[from..to) up to its first event (SOI, EOI, an
 * error), on `state` (a Uint32Array, JPEG_SCAN); returns the index of the first unconsumed byte, as
 * JpegScanner.scan does. One call per event: the MJPEG reader sees two per image and no byte of it. A record no
 * scan could have left (an unknown state, a capture count past the record) is a RangeError, before any byte is
 * read, so the head bytes are never written out of bounds.
 */
void fieldcamNativeScanJpeg(txMachine* the)
{
	double from = fieldcamToIndex(the, &xsArg(1), "from");
	double to = fieldcamToIndex(the, &xsArg(2), "to");
	const uint8_t* d;
	uint32_t* st;
	if (to < from)
		xsRangeError("range %.0f..%.0f is reversed", from, to);
	d = fieldcamViewRange(the, &xsArg(0), from, to - from, "data");
	st = fieldcamJpegRecord(the, &xsArg(3));
	xsResult = xsNumber(from + (double)fieldcamJpegScan(d, 0, (size_t)(to - from), st));
}
