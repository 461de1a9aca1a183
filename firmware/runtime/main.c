/*
 * fieldcam-runtime: one XS machine running one self-contained JS bundle.
 *   fieldcam-runtime BUNDLE.js [ARG …]     evaluate the bundle as a script, then drain promise jobs
 *   fieldcam-runtime --version             version, engine and target
 * Exit codes are named in runtime.h. This first milestone has no event loop: once the promise job queue is
 * empty the program ends (an unhandled rejection still pending then is fatal). The poll() loop comes next.
 */
#include "runtime.h"

/*
 * Machine budgets. The fixed part is what the machine takes at creation; the heap may then grow in steps
 * up to FIELDCAM_HEAP_LIMIT (all chunks + slots), beyond which the machine aborts with FIELDCAM_EXIT_MEMORY.
 * Sized for the core test suites with margin (docs/performance.md has the measured peak).
 */
#define FIELDCAM_HEAP_LIMIT (64u * 1024u * 1024u)
static const txCreation gCreation = {
	4 * 1024 * 1024,  /* initialChunkSize: bytes for strings, arrays, ArrayBuffers, bytecode */
	2 * 1024 * 1024,  /* incrementalChunkSize */
	128 * 1024,       /* initialHeapCount: slots (16 bytes on 32-bit, 32 on 64-bit) */
	64 * 1024,        /* incrementalHeapCount */
	16 * 1024,        /* stackCount: slots of JS stack */
	4 * 1024,         /* initialKeyCount: property names and symbols */
	1024,             /* incrementalKeyCount */
	1993,             /* nameModulo: property name hash buckets */
	127,              /* symbolModulo */
	64 * 1024,        /* parserBufferSize */
	1993,             /* parserTableModulo */
	0                 /* staticSize */
};

/* The metering callback banks the 32-bit meter long before it could wrap. */
#define FIELDCAM_METER_INTERVAL (1u << 30)

static int usage(const char* program)
{
	fprintf(stderr, "usage: %s BUNDLE.js [ARG ...]\n       %s --version\n", program, program);
	return FIELDCAM_EXIT_USAGE;
}

/* Reads the whole bundle; NULL (after printing the named error) when it cannot be used. */
static char* readBundle(const char* path, int* code)
{
	FILE* file = fopen(path, "rb");
	long size = -1;
	char* data;
	*code = FIELDCAM_EXIT_BUNDLE_READ; /* unless it turns out to be binary */
	if (!file) {
		fprintf(stderr, "fieldcam-runtime: BUNDLE_UNREADABLE: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(file, 0, SEEK_END) == 0)
		size = ftell(file);
	if (size < 0 || fseek(file, 0, SEEK_SET) != 0) {
		fprintf(stderr, "fieldcam-runtime: BUNDLE_UNREADABLE: %s: %s\n", path, strerror(errno));
		fclose(file);
		return NULL;
	}
	if (size == 0) {
		fprintf(stderr, "fieldcam-runtime: BUNDLE_EMPTY: %s is empty\n", path);
		fclose(file);
		return NULL;
	}
	data = malloc((size_t)size + 1);
	if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) {
		fprintf(stderr, "fieldcam-runtime: BUNDLE_UNREADABLE: cannot read %s\n", path);
		fclose(file);
		free(data);
		return NULL;
	}
	fclose(file);
	data[size] = 0;
	if (memchr(data, 0, (size_t)size)) {
		fprintf(stderr, "fieldcam-runtime: BUNDLE_INVALID: %s is not JavaScript text (NUL byte)\n", path);
		*code = FIELDCAM_EXIT_BUNDLE_INVALID;
		free(data);
		return NULL;
	}
	return data;
}

/* Runs queued promise jobs until none remain, then treats any still-unhandled rejection as fatal. */
static void drainJobs(txMachine* the)
{
	xsBeginHost(the);
	{
		do {
			while (the->promiseJobs) {
				the->promiseJobs = 0;
				fxRunPromiseJobs(the);
			}
			fxEndJob(the);
		} while (the->promiseJobs);
		fxCheckUnhandledRejections(the, 1);
	}
	xsEndHost(the);
}

/* A SyntaxError escaping the top-level eval almost always means the bundle does not parse (one thrown by the
 * bundle's own top-level code is reported the same way, still with its message). */
static int isSyntaxError(txMachine* the, txSlot* exception)
{
	return mxIsReference(exception) && xsIsInstanceOf(*exception, xsSyntaxErrorPrototype);
}

int main(int argc, char** argv)
{
	txMachine* the;
	char* volatile source;
	/* volatile: written between the engine's setjmp (xsTry, metering) and its longjmp */
	volatile int code = FIELDCAM_EXIT_OK;
	int failure;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("fieldcam-runtime %s (engine %s, target %s)\n", FIELDCAM_VERSION, FIELDCAM_ENGINE, FIELDCAM_TARGET);
		return FIELDCAM_EXIT_OK;
	}
	if (argc < 2 || argv[1][0] == '-')
		return usage(argv[0]);
	source = readBundle(argv[1], &failure);
	if (!source)
		return failure;

	the = xsCreateMachine((txCreation*)&gCreation, "fieldcam", NULL);
	if (!the) {
		fprintf(stderr, "fieldcam-runtime: OUT_OF_MEMORY: cannot create the JS machine\n");
		return FIELDCAM_EXIT_MEMORY;
	}
	the->allocationLimit = FIELDCAM_HEAP_LIMIT;

	xsBeginMetering(the, fieldcamMeterCallback, FIELDCAM_METER_INTERVAL);
	{
		xsBeginHost(the);
		{
			fieldcamInstallNatives(the);
		}
		xsEndHost(the);
		xsBeginHost(the);
		{
			/* XS API macros use the machine stack: never nest them; keep intermediate values in vars. */
			xsVars(2);
			xsVar(0) = xsNewArray(0);
			for (i = 2; i < argc; i++) {
				xsVar(1) = xsString(argv[i]);
				xsCall1(xsVar(0), xsID("push"), xsVar(1));
			}
			xsVar(1) = xsGet(xsGlobal, xsID("native"));
			xsSet(xsVar(1), xsID("argv"), xsVar(0));
			xsTry {
				/* Indirect eval: the bundle runs as a global script (esbuild IIFE output). */
				xsVar(1) = xsStringBuffer(source, (xsIntegerValue)strlen(source));
				free(source);
				source = NULL;
				xsCall1(xsGlobal, xsID("eval"), xsVar(1));
			}
			xsCatch {
				txSlot exception = xsException;
				if (isSyntaxError(the, &exception)) {
					fieldcamPrintException(the, &exception, "fieldcam-runtime: BUNDLE_INVALID");
					code = FIELDCAM_EXIT_BUNDLE_INVALID;
				}
				else {
					fieldcamPrintException(the, &exception, "fieldcam-runtime: uncaught exception");
					code = FIELDCAM_EXIT_UNCAUGHT;
				}
			}
		}
		xsEndHost(the);
		if (code == FIELDCAM_EXIT_OK)
			drainJobs(the);
	}
	xsEndMetering(the);
	free(source);
	fflush(stdout);
	xsDeleteMachine(the);
	return code;
}
