/*
 * The global `native` object: the only door from JS to the host. Its contract, name by name, is
 * firmware/boards/xs/native.ts; the board layer (firmware/boards/xs) wraps it. This file holds the basics
 * (print, readFile, exit, clocks, computrons, memory), the byte-range helpers every native shares, and the
 * table that puts the natives of loop.c, timers.c, input.c, files.c, hash.c and net.c on the object.
 */
#include "runtime.h"

/* A surrogate in CESU-8: ED A0..BF xx. Returns its UTF-16 code unit, or 0 when p is not one. */
static unsigned surrogateAt(const unsigned char* p)
{
	if (p[0] != 0xED || (p[1] & 0xE0) != 0xA0 || (p[2] & 0xC0) != 0x80)
		return 0;
	return 0xD000u | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
}

/* Writes an engine string (CESU-8, see fieldcam_xs.h) as UTF-8: pairs become 4-byte sequences, lone
 * surrogates U+FFFD, as TextEncoder does. */
static void writeUtf8(const char* text, FILE* out)
{
	const unsigned char* p = (const unsigned char*)text;
	while (*p) {
		unsigned high = surrogateAt(p);
		if (!high) {
			fputc(*p++, out);
			continue;
		}
		unsigned low = high <= 0xDBFF && p[3] ? surrogateAt(p + 3) : 0;
		if (low >= 0xDC00) {
			unsigned c = 0x10000u + ((high - 0xD800u) << 10) + (low - 0xDC00u);
			fputc(0xF0 | (c >> 18), out);
			fputc(0x80 | ((c >> 12) & 0x3F), out);
			fputc(0x80 | ((c >> 6) & 0x3F), out);
			fputc(0x80 | (c & 0x3F), out);
			p += 6;
		}
		else {
			fputs("\xEF\xBF\xBD", out);
			p += 3;
		}
	}
}

static void nativePrint(xsMachine* the)
{
	writeUtf8(xsToString(xsArg(0)), stdout);
	fputc('\n', stdout);
}

/* One line on stderr (journalctl shows it next to the exit code): why the device is about to exit. */
static void nativePrintError(xsMachine* the)
{
	fflush(stdout);
	writeUtf8(xsToString(xsArg(0)), stderr);
	fputc('\n', stderr);
	fflush(stderr);
}

static void nativeReadFile(xsMachine* the)
{
	char path[1024];
	FILE* file;
	long size;
	char* data = NULL;
	xsToStringBuffer(xsArg(0), path, sizeof(path));
	file = fopen(path, "rb");
	if (!file)
		fieldcamThrowErrno(the, errno, path);
	if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
		int error = errno;
		fclose(file);
		fieldcamThrowErrno(the, error, path);
	}
	if (size > 0) {
		data = malloc((size_t)size);
		if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) {
			int error = data ? (ferror(file) ? errno : EIO) : ENOMEM;
			fclose(file);
			free(data);
			fieldcamThrowErrno(the, error, path);
		}
	}
	fclose(file);
	/* Allocating the buffer may collect garbage: the C copy stays valid, the ArrayBuffer address is taken after. */
	xsResult = xsArrayBuffer(NULL, (xsIntegerValue)size);
	if (size > 0)
		memcpy(xsToArrayBuffer(xsResult), data, (size_t)size);
	free(data);
}

static void nativeExit(xsMachine* the)
{
	int code = xsToInteger(xsArg(0));
	fflush(stdout);
	fflush(stderr);
	exit(code);
}

/* Both clocks come from clock.c: N times faster under --time-scale N. */
static void nativeMonotonic(xsMachine* the)
{
	xsResult = xsNumber((double)fieldcamMonotonicNs() / 1e6);
}

/* Whole milliseconds, as Date.now(): core code stores wall-clock times as integer timecodes (Node's board
 * gives it Date.now()), so a fraction here would fail its validation. */
static void nativeNow(xsMachine* the)
{
	xsResult = xsNumber((double)(fieldcamWallNs() / 1000000));
}

static void nativeComputrons(xsMachine* the)
{
	xsResult = xsNumber((double)fieldcamComputrons(the));
}

static void nativeHeapBytes(xsMachine* the)
{
	xsResult = xsNumber((double)the->allocatedSpace);
}

/* Bytes of the frame pool outside the JS heap (0 until framePoolMemory is called). */
static size_t gFramePoolBytes = 0;
/* Heap held when the app took its budget (limitAppHeap): the engine's built-ins and the parsed bundle. */
static size_t gBaselineBytes = 0;

/*
 * The app's own heap budget, from now on: the limit becomes what is held now plus `bytes`, never above the
 * --heap-limit already in force. On an ESP32 the built-ins and the app's bytecode are preloaded in flash; here
 * they are parsed into the heap at boot, so the ESP32 profile budgets what the app allocates after that.
 */
static void nativeLimitAppHeap(xsMachine* the)
{
	double bytes = fieldcamToIndex(the, &xsArg(0), "bytes");
	size_t limit;
	if (gBaselineBytes)
		xsRangeError("limitAppHeap: the app's budget is set once");
	gBaselineBytes = the->allocatedSpace;
	limit = gBaselineBytes + (size_t)bytes;
	if (limit < the->allocationLimit)
		the->allocationLimit = limit;
}

static void nativeMemory(xsMachine* the)
{
	size_t limit = the->allocationLimit == (size_t)-1 ? 0 : the->allocationLimit;
	xsVars(1);
	xsResult = xsNewObject();
	xsVar(0) = xsNumber((double)the->allocatedSpace);
	xsDefine(xsResult, xsID("heapBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)the->peakSpace);
	xsDefine(xsResult, xsID("peakBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)limit);
	xsDefine(xsResult, xsID("limitBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)gFramePoolBytes);
	xsDefine(xsResult, xsID("poolBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)gBaselineBytes);
	xsDefine(xsResult, xsID("baselineBytes"), xsVar(0), xsDontSet);
	/* The engine's own split of what it holds: chunks (strings, arrays, closures' data) and slots (the fixed-size
	 * cells of every object and property), in use now and at their peak; heapBytes is what it took from the
	 * system for both, free space in its blocks included. */
	xsVar(0) = xsNumber((double)the->currentChunksSize);
	xsDefine(xsResult, xsID("chunkBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)the->peakChunksSize);
	xsDefine(xsResult, xsID("peakChunkBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)the->currentHeapCount * sizeof(txSlot));
	xsDefine(xsResult, xsID("slotBytes"), xsVar(0), xsDontSet);
	xsVar(0) = xsNumber((double)the->peakHeapCount * sizeof(txSlot));
	xsDefine(xsResult, xsID("peakSlotBytes"), xsVar(0), xsDontSet);
}

/*
 * native.heapCounters(out, hold): what the engine holds, written into a Float64Array of at least 2 entries without
 * allocating anything itself (memory() builds an object): out[0] = slots in use (every new object, property, closure
 * or boxed value takes slots), out[1] = chunk bytes in use (strings, arrays' and typed arrays' storage). Then
 * `hold` true stops collections (the engine grows its heap instead), false lets them run again. Only a collection
 * frees slots or chunks, so between heapCounters(a, true) and heapCounters(b, false), b equal to a means the code
 * in between allocated nothing (the per-frame allocation test, issue 12: test/runtime/hotPathAllocations.test.ts).
 */
static void nativeHeapCounters(xsMachine* the)
{
	size_t count;
	double* out = fieldcamViewData(the, &xsArg(0), sizeof(double), &count, "heapCounters(out)");
	if (count < 2)
		xsRangeError("heapCounters(out): out must hold 2 entries, it holds %zu", count);
	out[0] = (double)the->currentHeapCount;
	out[1] = (double)the->currentChunksSize;
	fxEnableGarbageCollection(the, !xsToBoolean(xsArg(1)));
}

/*
 * The frame pool's memory, outside the JS heap: malloc'd once, zeroed, and handed to JS as a host buffer
 * (typed arrays view it like an ArrayBuffer). The heap limit then bounds only the JS machine, as on an ESP32
 * whose pool is in PSRAM. It lives as long as the process: the pool is allocated at boot and never freed.
 */
static void nativeFramePoolMemory(xsMachine* the)
{
	double bytes = fieldcamToIndex(the, &xsArg(0), "bytes");
	void* data;
	if (gFramePoolBytes)
		xsRangeError("framePoolMemory: the frame pool is allocated once per process");
	if (bytes < 1 || bytes > 0x7FFFFFFF)
		xsRangeError("framePoolMemory: %.0f bytes is not a pool size", bytes);
	data = calloc(1, (size_t)bytes);
	if (!data)
		xsUnknownError("ENOMEM: framePoolMemory: cannot allocate %.0f bytes for the frame pool", bytes);
	gFramePoolBytes = (size_t)bytes;
	xsVars(1);
	xsResult = xsNewHostObject(NULL);
	xsSetHostBuffer(xsResult, data, (xsIntegerValue)bytes);
	/* Typed arrays read the size from the host buffer; JS code (FramePool's check) reads byteLength like an ArrayBuffer's. */
	xsVar(0) = xsNumber(bytes);
	xsDefine(xsResult, xsID("byteLength"), xsVar(0), xsDontSet | xsDontDelete);
}

const char* fieldcamErrnoName(int error)
{
	static char unnamed[16];
	const char* name = strerrorname_np(error);
	if (name)
		return name;
	snprintf(unnamed, sizeof(unnamed), "E%d", error);
	return unnamed;
}

/* xsUnknownError truncates messages to 128 bytes; paths and PEM errors need more. */
void fieldcamThrowError(txMachine* the, const char* format, ...)
{
	char message[640];
	va_list arguments;
	va_start(arguments, format);
	vsnprintf(message, sizeof(message), format, arguments);
	va_end(arguments);
	xsResult = xsString(message);
	xsResult = xsNew1(xsGlobal, xsID("Error"), xsResult);
	xsThrow(xsResult);
}

void fieldcamThrowErrno(txMachine* the, int error, const char* context)
{
	fieldcamThrowError(the, "%s: %s: %s", fieldcamErrnoName(error), context, strerror(error));
}

double fieldcamToIndex(txMachine* the, txSlot* value, const char* name)
{
	double number;
	mxPushSlot(value);
	number = fxToNumber(the, the->stack);
	mxPop();
	if (!(number >= 0) || number > 4294967295.0 || number != (double)(uint32_t)number)
		xsRangeError("%s must be an integer from 0 to 2^32-1, got %g", name, number);
	return number;
}

/*
 * Reads a typed array's internal slots (xsDataView.c builds them: the type dispatch, then the view's offset
 * and size, then the ArrayBuffer). Nothing here runs JS or allocates, which is what keeps the address valid.
 */
void* fieldcamViewData(txMachine* the, txSlot* view, size_t elementSize, size_t* count, const char* name)
{
	txSlot* dispatch;
	txSlot* range;
	txSlot* arrayBuffer;
	txInteger size;
	if (view->kind != XS_REFERENCE_KIND)
		goto bail;
	dispatch = view->value.reference->next;
	if (!dispatch || !(dispatch->flag & XS_INTERNAL_FLAG) || dispatch->kind != XS_TYPED_ARRAY_KIND
			|| dispatch->value.typedArray.dispatch->size != (txU2)elementSize)
		goto bail;
	range = dispatch->next;
	arrayBuffer = range->next->value.reference->next;
	if (arrayBuffer->kind == XS_HOST_KIND) {
		/* A view of host memory (the frame pool, framePoolMemory). */
		if (!arrayBuffer->value.host.data)
			xsTypeError("%s: host buffer without data", name);
		size = fxGetDataViewSize(the, range, range->next);
		*count = (size_t)size / elementSize;
		return (txByte*)arrayBuffer->value.host.data + range->value.dataView.offset;
	}
	if (arrayBuffer->kind != XS_ARRAY_BUFFER_KIND)
		goto bail;
	if (arrayBuffer->value.arrayBuffer.address == C_NULL)
		xsTypeError("%s: detached buffer", name);
	size = fxGetDataViewSize(the, range, range->next);
	*count = (size_t)size / elementSize;
	return arrayBuffer->value.arrayBuffer.address + range->value.dataView.offset;
bail:
	xsTypeError("%s must be a %s", name, elementSize == 1 ? "Uint8Array" : elementSize == 8 ? "Float64Array" : "Uint32Array");
	return NULL;
}

uint8_t* fieldcamViewRange(txMachine* the, txSlot* view, double offset, double length, const char* name)
{
	size_t size;
	uint8_t* data = fieldcamViewData(the, view, 1, &size, name);
	if (offset + length > (double)size)
		xsRangeError("%s: range %.0f+%.0f is outside the view's %zu bytes", name, offset, length, size);
	return data + (size_t)offset;
}

/* XS API macros use the machine stack: never nest one inside another's arguments (keep values in vars). */
static void defineFunction(txMachine* the, char* name, xsCallback callback, xsIntegerValue length)
{
	xsVar(1) = xsNewHostFunction(callback, length);
	xsDefine(xsVar(0), xsID(name), xsVar(1), xsDontEnum);
}

/* The `native` object, in the order of firmware/boards/xs/native.ts. */
static const struct { char* name; xsCallback callback; xsIntegerValue length; } gNatives[] = {
	{ "print", nativePrint, 1 },
	{ "printError", nativePrintError, 1 },
	{ "readFile", nativeReadFile, 1 },
	{ "exit", nativeExit, 1 },
	{ "monotonic", nativeMonotonic, 0 },
	{ "now", nativeNow, 0 },
	{ "computrons", nativeComputrons, 0 },
	{ "heapBytes", nativeHeapBytes, 0 },
	{ "setDispatcher", fieldcamNativeSetDispatcher, 1 },
	{ "setTimer", fieldcamNativeSetTimer, 1 },
	{ "clearTimer", fieldcamNativeClearTimer, 1 },
	{ "watchSignals", fieldcamNativeWatchSignals, 0 },
	{ "openInput", fieldcamNativeOpenInput, 1 },
	{ "watchInput", fieldcamNativeWatchInput, 1 },
	{ "readInput", fieldcamNativeReadInput, 4 },
	{ "closeInput", fieldcamNativeCloseInput, 1 },
	{ "openFifo", fieldcamNativeOpenFifo, 1 },
	{ "writeFileAtomic", fieldcamNativeWriteFileAtomic, 4 },
	{ "removeStaleTemps", fieldcamNativeRemoveStaleTemps, 1 },
	{ "storageOpen", fieldcamNativeStorageOpen, 1 },
	{ "storageAppend", fieldcamNativeStorageAppend, 4 },
	{ "storageRead", fieldcamNativeStorageRead, 5 },
	{ "storageSync", fieldcamNativeStorageSync, 1 },
	{ "storageTruncate", fieldcamNativeStorageTruncate, 2 },
	{ "storageSize", fieldcamNativeStorageSize, 1 },
	{ "storageClose", fieldcamNativeStorageClose, 1 },
	{ "storageRename", fieldcamNativeStorageRename, 2 },
	{ "storageRemove", fieldcamNativeStorageRemove, 1 },
	{ "storageList", fieldcamNativeStorageList, 1 },
	{ "storageMakeDirectory", fieldcamNativeStorageMakeDirectory, 1 },
	{ "storageFreeBytes", fieldcamNativeStorageFreeBytes, 1 },
	{ "storageCrc32", fieldcamNativeStorageCrc32, 4 },
	{ "indexOfByte", fieldcamNativeIndexOfByte, 4 },
	{ "findStartCodes", fieldcamNativeFindStartCodes, 4 },
	{ "classifyNals", fieldcamNativeClassifyNals, 6 },
	{ "closeAccessUnit", fieldcamNativeCloseAccessUnit, 11 },
	{ "pushAccessUnits", fieldcamNativePushAccessUnits, 8 },
	{ "readAccessUnits", fieldcamNativeReadAccessUnits, 3 },
	{ "copyNalTable", fieldcamNativeCopyNalTable, 7 },
	{ "fillFrameRecord", fieldcamNativeFillFrameRecord, 8 },
	{ "queueFrame", fieldcamNativeQueueFrame, 2 },
	{ "scanJpeg", fieldcamNativeScanJpeg, 4 },
	{ "pushJpeg", fieldcamNativePushJpeg, 6 },
	{ "readJpeg", fieldcamNativeReadJpeg, 3 },
	{ "ackFollow", fieldcamNativeAckFollow, 5 },
	{ "ackRead", fieldcamNativeAckRead, 3 },
	{ "mkvBlock", fieldcamNativeMkvBlock, 5 },
	{ "mkvWriteBlock", fieldcamNativeMkvWriteBlock, 5 },
	{ "mkvWriteBlockAlone", fieldcamNativeMkvWriteBlockAlone, 5 },
	{ "releaseHead", fieldcamNativeReleaseHead, 2 },
	{ "sha256", fieldcamNativeSha256, 5 },
	{ "hmacSha256", fieldcamNativeHmacSha256, 6 },
	{ "socketOpen", fieldcamNativeSocketOpen, 3 },
	{ "socketRead", fieldcamNativeSocketRead, 4 },
	{ "socketWrite", fieldcamNativeSocketWrite, 5 },
	{ "socketWriteChunk", fieldcamNativeSocketWriteChunk, 5 },
	{ "socketClose", fieldcamNativeSocketClose, 1 },
	{ "tlsStats", fieldcamNativeTlsStats, 0 },
	{ "memory", nativeMemory, 0 },
	{ "heapCounters", nativeHeapCounters, 2 },
	{ "framePoolMemory", nativeFramePoolMemory, 1 },
	{ "limitAppHeap", nativeLimitAppHeap, 1 },
};

void fieldcamInstallNatives(txMachine* the)
{
	size_t i;
	xsVars(2);
	xsVar(0) = xsNewObject();
	for (i = 0; i < sizeof(gNatives) / sizeof(gNatives[0]); i++)
		defineFunction(the, gNatives[i].name, gNatives[i].callback, gNatives[i].length);
	xsDefine(xsGlobal, xsID("native"), xsVar(0), xsDontEnum);
}

void fieldcamPrintException(txMachine* the, txSlot* exception, const char* prefix)
{
	mxTry(the) {
		mxPushSlot(exception);
		fprintf(stderr, "%s: %s\n", prefix, fxToString(the, the->stack));
		mxPop();
		if (mxIsReference(exception)) {
			mxPushSlot(exception);
			fxGetID(the, fxID(the, "stack"));
			if (mxIsStringPrimitive(the->stack))
				fprintf(stderr, "%s\n", the->stack->value.string);
			mxPop();
		}
	}
	mxCatch(the) {
		fprintf(stderr, "%s (the exception could not be printed)\n", prefix);
	}
}
