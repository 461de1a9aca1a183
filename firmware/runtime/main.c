/*
 * fieldcam-runtime: one XS machine running one self-contained JS bundle on one event loop.
 *   fieldcam-runtime [--heap-limit BYTES] [--initial-chunk BYTES] [--initial-slots N] [--stack-slots N]
 *                    [--time-scale N [--time-origin EPOCH_MS]] [--dns-timeout MS] BUNDLE.js [ARG …]
 *                                          evaluate the bundle as a script, drain promise jobs, then run the
 *                                          event loop (loop.c) until nothing can happen any more
 *                                          --time-scale: tests and simulations only (clock.c), never a board
 *                                          --dns-timeout: how long a socket waits for a name (resolver.c)
 *   fieldcam-runtime --version             version, engine and target
 * Exit codes are named in runtime.h.
 */
#include "runtime.h"
#include <signal.h>

/*
 * Machine budgets. The fixed part is what the machine takes at creation; the heap may then grow in steps
 * up to the heap limit (all chunks + slots), beyond which the machine aborts with FIELDCAM_EXIT_MEMORY.
 * The defaults are sized for the core test suites with margin (docs/performance.md has the measured peak);
 * boards pass their manifest's budget on the command line.
 */
#define FIELDCAM_HEAP_LIMIT (64u * 1024u * 1024u)
static txCreation gCreation = {
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

/* --time-scale: whole numbers, so that scaled milliseconds stay whole (clock.c) and the local cloud agrees. */
#define FIELDCAM_TIME_SCALE_MAX 1000
/* --time-origin: within a day of the machine's clock, so that scaled nanoseconds cannot overflow (clock.c). */
#define FIELDCAM_TIME_ORIGIN_SPAN_MS (24LL * 3600 * 1000)

static int usage(const char* program)
{
	fprintf(stderr, "usage: %s [--heap-limit BYTES] [--initial-chunk BYTES] [--initial-slots N] [--stack-slots N]\n"
		"         [--time-scale N [--time-origin EPOCH_MS]] [--dns-timeout MS] BUNDLE.js [ARG ...]\n"
		"       %s --version\n"
		"  --time-scale N: a test and simulation knob: clocks run N times faster (1-%d, default 1);\n"
		"  --time-origin: the real epoch-ms instant where scaled wall time starts (default: boot)\n"
		"  --dns-timeout MS: how long a connection waits for a name lookup (default 5000, runtime time)\n",
		program, program, FIELDCAM_TIME_SCALE_MAX);
	return FIELDCAM_EXIT_USAGE;
}

/* A decimal count for a memory flag; 0 only where allowed (the heap limit: none). -1 when unusable. */
static long long parseCount(const char* text, int zeroAllowed)
{
	char* end;
	long long value;
	if (!text || !*text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || *end || (value == 0 && !zeroAllowed) || value > 0x7FFFFFFFLL)
		return -1;
	return value;
}

/* An epoch-ms --time-origin within a day of CLOCK_REALTIME; -1 when unusable. */
static long long parseOrigin(const char* text)
{
	char* end;
	long long value;
	struct timespec now;
	long long nowMs;
	if (!text || *text < '0' || *text > '9')
		return -1;
	errno = 0;
	value = strtoll(text, &end, 10);
	clock_gettime(CLOCK_REALTIME, &now);
	nowMs = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (errno || *end || value < nowMs - FIELDCAM_TIME_ORIGIN_SPAN_MS || value > nowMs + FIELDCAM_TIME_ORIGIN_SPAN_MS)
		return -1;
	return value;
}

/*
 * Reads the memory flags into gCreation and fieldcamHeapLimit, and the time flags into the clock (clock.c);
 * returns the index of the bundle argument,
 * or 0 after printing what is wrong. The increments shrink with small initial sizes so that a small
 * budget (the ESP32 profile) grows in steps that fit it.
 */
__attribute__((noinline)) /* kept out of main(), whose locals live across the engine's setjmp */
static int parseFlags(int argc, char** argv)
{
	int i = 1;
	long long heapLimit = FIELDCAM_HEAP_LIMIT;
	long long timeScale = 1;
	long long timeOrigin = -1;
	while (i < argc && argv[i][0] == '-' && argv[i][1] == '-') {
		const char* flag = argv[i];
		long long value;
		if (strcmp(flag, "--time-scale") == 0) {
			value = parseCount(i + 1 < argc ? argv[i + 1] : NULL, 0);
			if (value < 1 || value > FIELDCAM_TIME_SCALE_MAX) {
				fprintf(stderr, "fieldcam-runtime: --time-scale needs a whole number from 1 to %d (how many times faster"
					" the clocks run; a test and simulation knob)\n", FIELDCAM_TIME_SCALE_MAX);
				return 0;
			}
			timeScale = value;
			i += 2;
			continue;
		}
		if (strcmp(flag, "--time-origin") == 0) {
			timeOrigin = parseOrigin(i + 1 < argc ? argv[i + 1] : NULL);
			if (timeOrigin < 0) {
				fprintf(stderr, "fieldcam-runtime: --time-origin needs epoch milliseconds within a day of this machine's"
					" clock (the instant the local cloud started its scaled clock)\n");
				return 0;
			}
			i += 2;
			continue;
		}
		if (strcmp(flag, "--dns-timeout") == 0) {
			value = parseCount(i + 1 < argc ? argv[i + 1] : NULL, 0);
			if (value < 1) {
				fprintf(stderr, "fieldcam-runtime: --dns-timeout needs whole milliseconds above 0 (how long a"
					" connection waits for a name lookup before NET_DNS_TIMEOUT)\n");
				return 0;
			}
			fieldcamDnsTimeoutMs = (int)value;
			i += 2;
			continue;
		}
		if (strcmp(flag, "--heap-limit") && strcmp(flag, "--initial-chunk") && strcmp(flag, "--initial-slots")
				&& strcmp(flag, "--stack-slots")) {
			fprintf(stderr, "fieldcam-runtime: unknown option %s\n", flag);
			return 0;
		}
		value = parseCount(i + 1 < argc ? argv[i + 1] : NULL, strcmp(flag, "--heap-limit") == 0);
		if (value < 0) {
			fprintf(stderr, "fieldcam-runtime: %s needs a whole number (up to 2147483647)%s\n", flag,
				strcmp(flag, "--heap-limit") == 0 ? ", 0 for no limit" : " above 0");
			return 0;
		}
		if (strcmp(flag, "--heap-limit") == 0)
			heapLimit = value;
		else if (strcmp(flag, "--initial-chunk") == 0)
			gCreation.initialChunkSize = (txSize)value;
		else if (strcmp(flag, "--initial-slots") == 0)
			gCreation.initialHeapCount = (txSize)value;
		else
			gCreation.stackCount = (txSize)value;
		i += 2;
	}
	if (gCreation.incrementalChunkSize > gCreation.initialChunkSize)
		gCreation.incrementalChunkSize = gCreation.initialChunkSize;
	if (gCreation.incrementalHeapCount > gCreation.initialHeapCount)
		gCreation.incrementalHeapCount = gCreation.initialHeapCount;
	fieldcamHeapLimit = (size_t)heapLimit;
	if (timeOrigin >= 0 && timeScale == 1) {
		fprintf(stderr, "fieldcam-runtime: --time-origin only means something with --time-scale N above 1\n");
		return 0;
	}
	fieldcamClockStart(timeScale, timeOrigin);
	return i < argc && argv[i][0] != '-' ? i : 0;
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
	int bundle;
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("fieldcam-runtime %s (engine %s, target %s)\n", FIELDCAM_VERSION, FIELDCAM_ENGINE, FIELDCAM_TARGET);
		return FIELDCAM_EXIT_OK;
	}
	bundle = parseFlags(argc, argv);
	if (!bundle)
		return usage(argv[0]);
	source = readBundle(argv[bundle], &failure);
	if (!source)
		return failure;
	/* A peer that goes away must be an error code from send(), never a silent death by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	/* The heap limit (fieldcamHeapLimit) applies from the first allocation (platform.c). */
	the = xsCreateMachine(&gCreation, "fieldcam", NULL);
	if (!the) {
		fprintf(stderr, "fieldcam-runtime: OUT_OF_MEMORY: cannot create the JS machine\n");
		return FIELDCAM_EXIT_MEMORY;
	}

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
			for (i = bundle + 1; i < argc; i++) {
				xsVar(1) = xsString(argv[i]);
				xsCall1(xsVar(0), xsID("push"), xsVar(1));
			}
			xsVar(1) = xsGet(xsGlobal, xsID("native"));
			xsSet(xsVar(1), xsID("argv"), xsVar(0));
			xsTry {
				/* The bundle runs as a global script (esbuild IIFE output), parsed straight from the C buffer:
				 * as a JS string (indirect eval) its whole text (~0.5 MiB) sat in the chunk heap beside the code
				 * compiled from it, and the heap keeps that high-water mark (esp32-cam: 1.5 MiB limit). */
				txStringCStream stream;
				txSlot* program = mxProgram.value.reference;
				txSlot* realm = mxModuleInstanceInternal(program)->value.module.realm;
				stream.buffer = source;
				stream.offset = 0;
				stream.size = (txSize)strlen(source);
				fxRunScript(the, fxParseScript(the, &stream, fxStringCGetter, mxProgramFlag | mxEvalFlag), mxRealmGlobal(realm), C_NULL,
					mxRealmClosures(realm)->value.reference, C_NULL, program);
				mxPop(); /* fxRunScript leaves the completion value on the stack */
				free(source);
				source = NULL;
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
		if (code == FIELDCAM_EXIT_OK) {
			fieldcamDrainJobs(the);
			fieldcamRunLoop(the);
		}
	}
	xsEndMetering(the);
	free(source);
	fflush(stdout);
	xsDeleteMachine(the);
	return code;
}
