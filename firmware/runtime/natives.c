/*
 * The global `native` object: the only door from JS to the host. This milestone exposes what the test
 * harness needs; the board layer (firmware/boards/xs) will wrap it and later natives (timers, sockets, TLS,
 * hashes, frame input) join it here.
 *   native.print(string)        one line to stdout (line-buffered)
 *   native.readFile(path)       ArrayBuffer with the file's bytes; throws Error naming the path and errno text
 *   native.exit(code)           flushes stdout and exits with code
 *   native.monotonic()          milliseconds from CLOCK_MONOTONIC (a double)
 *   native.computrons()         XS metering count since the machine was created (deterministic cost)
 *   native.heapBytes()          bytes the JS heap holds from the system (chunks + slots)
 *   native.argv                 array of the command-line arguments after the bundle path
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

static void nativeReadFile(xsMachine* the)
{
	char path[1024];
	FILE* file;
	long size;
	char* data = NULL;
	xsToStringBuffer(xsArg(0), path, sizeof(path));
	file = fopen(path, "rb");
	if (!file)
		xsUnknownError("readFile: %s: %s", path, strerror(errno));
	if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
		int error = errno;
		fclose(file);
		xsUnknownError("readFile: %s: %s", path, strerror(error));
	}
	if (size > 0) {
		data = malloc((size_t)size);
		if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) {
			fclose(file);
			free(data);
			xsUnknownError("readFile: %s: read failed", path);
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

static void nativeMonotonic(xsMachine* the)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	xsResult = xsNumber((double)now.tv_sec * 1000.0 + (double)now.tv_nsec / 1e6);
}

static void nativeComputrons(xsMachine* the)
{
	xsResult = xsNumber((double)fieldcamComputrons(the));
}

static void nativeHeapBytes(xsMachine* the)
{
	xsResult = xsNumber((double)the->allocatedSpace);
}

/* XS API macros use the machine stack: never nest one inside another's arguments (keep values in vars). */
static void defineFunction(txMachine* the, char* name, xsCallback callback, xsIntegerValue length)
{
	xsVar(1) = xsNewHostFunction(callback, length);
	xsDefine(xsVar(0), xsID(name), xsVar(1), xsDontEnum);
}

void fieldcamInstallNatives(txMachine* the)
{
	xsVars(2);
	xsVar(0) = xsNewObject();
	defineFunction(the, "print", nativePrint, 1);
	defineFunction(the, "readFile", nativeReadFile, 1);
	defineFunction(the, "exit", nativeExit, 1);
	defineFunction(the, "monotonic", nativeMonotonic, 0);
	defineFunction(the, "computrons", nativeComputrons, 0);
	defineFunction(the, "heapBytes", nativeHeapBytes, 0);
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
