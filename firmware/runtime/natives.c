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

static void nativePrint(xsMachine* the)
{
	xsStringValue line = xsToString(xsArg(0));
	fputs(line, stdout);
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

void fieldcamInstallNatives(txMachine* the)
{
	xsVars(1);
	xsVar(0) = xsNewObject();
	xsDefine(xsVar(0), xsID("print"), xsNewHostFunction(nativePrint, 1), xsDontEnum);
	xsDefine(xsVar(0), xsID("readFile"), xsNewHostFunction(nativeReadFile, 1), xsDontEnum);
	xsDefine(xsVar(0), xsID("exit"), xsNewHostFunction(nativeExit, 1), xsDontEnum);
	xsDefine(xsVar(0), xsID("monotonic"), xsNewHostFunction(nativeMonotonic, 0), xsDontEnum);
	xsDefine(xsVar(0), xsID("computrons"), xsNewHostFunction(nativeComputrons, 0), xsDontEnum);
	xsDefine(xsVar(0), xsID("heapBytes"), xsNewHostFunction(nativeHeapBytes, 0), xsDontEnum);
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
