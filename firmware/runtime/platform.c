/*
 * The platform hooks XS calls into (xsAll.h "xsPlatforms.c" section): machine set-up, the promise job flag,
 * chunk/slot allocation under a hard limit, fatal aborts, and module loading (refused: the runtime runs one
 * self-contained bundle as a script).
 */
#include "runtime.h"

size_t fieldcamHeapLimit = 0;

void fxCreateMachinePlatform(txMachine* the)
{
	the->promiseJobs = 0;
	the->abortStatus = 0;
	the->allocatedSpace = 0;
	the->peakSpace = 0;
	the->limitRefused = 0;
	/* Set before the engine allocates anything, so the creation sizes count against the limit too. */
	the->allocationLimit = fieldcamHeapLimit ? fieldcamHeapLimit : (size_t)-1;
	the->computronBase = 0;
	the->waiterCondition = C_NULL;
	the->waiterData = C_NULL;
	the->waiterLink = C_NULL;
}

void fxDeleteMachinePlatform(txMachine* the)
{
}

void fxQueuePromiseJobs(txMachine* the)
{
	the->promiseJobs = 1;
}

/* Every block carries its size in front so that frees can be accounted against the limit. */
typedef union { size_t size; long double align; } txBlockHeader;

static void* fieldcamAllocate(txMachine* the, size_t size)
{
	txBlockHeader* block;
	if (size > the->allocationLimit - the->allocatedSpace) {
		the->limitRefused = 1; /* fxAbort names the limit rather than the system */
		return C_NULL; /* the engine turns this into XS_NOT_ENOUGH_MEMORY_EXIT */
	}
	block = c_malloc(sizeof(txBlockHeader) + size);
	if (!block)
		return C_NULL;
	block->size = size;
	the->allocatedSpace += size;
	if (the->allocatedSpace > the->peakSpace)
		the->peakSpace = the->allocatedSpace;
	return block + 1;
}

static void fieldcamFree(txMachine* the, void* data)
{
	txBlockHeader* block;
	if (!data)
		return;
	block = (txBlockHeader*)data - 1;
	the->allocatedSpace -= block->size;
	c_free(block);
}

void* fxAllocateChunks(txMachine* the, txSize size)
{
	return fieldcamAllocate(the, (size_t)size);
}

void fxFreeChunks(txMachine* the, void* chunks)
{
	fieldcamFree(the, chunks);
}

txSlot* fxAllocateSlots(txMachine* the, txSize count)
{
	return fieldcamAllocate(the, (size_t)count * sizeof(txSlot));
}

void fxFreeSlots(txMachine* the, void* slots)
{
	fieldcamFree(the, slots);
}

txID fxFindModule(txMachine* the, txSlot* realm, txID moduleID, txSlot* slot)
{
	return XS_NO_ID; /* no module graph on the device: the bundle is self-contained */
}

void fxLoadModule(txMachine* the, txSlot* module, txID moduleID)
{
}

unsigned long long fieldcamComputrons(txMachine* the)
{
	return the->computronBase + the->meterIndex;
}

/* Called by the engine every metering interval: bank the 32-bit meter so it never wraps. Never aborts. */
txBoolean fieldcamMeterCallback(txMachine* the, txU4 index)
{
	the->computronBase += index;
	the->meterIndex = 0;
	return 1;
}

void fxAbort(txMachine* the, int status)
{
	int code = FIELDCAM_EXIT_ENGINE;
	const char* why = "engine abort";
	char memory[200];
	switch (status) {
	case XS_STACK_OVERFLOW_EXIT: code = FIELDCAM_EXIT_STACK; why = "JS stack overflow"; break;
	case XS_NOT_ENOUGH_MEMORY_EXIT:
		code = FIELDCAM_EXIT_MEMORY;
		/* The limit is the board's memory budget: say which knob raises it. */
		if (the->limitRefused)
			snprintf(memory, sizeof(memory), "OUT_OF_MEMORY: the JS heap reached its limit of %zu bytes "
				"(raise memory.jsBudgetBytes in the board manifest)", the->allocationLimit);
		else
			snprintf(memory, sizeof(memory), "OUT_OF_MEMORY: the system refused memory to the JS heap "
				"(%zu bytes held)", the->allocatedSpace);
		why = memory;
		break;
	case XS_NO_MORE_KEYS_EXIT: code = FIELDCAM_EXIT_MEMORY; why = "JS key table full"; break;
	case XS_TOO_MUCH_COMPUTATION_EXIT: why = "computation budget exceeded"; break;
	case XS_UNHANDLED_EXCEPTION_EXIT: code = FIELDCAM_EXIT_UNCAUGHT; why = "uncaught exception"; break;
	case XS_UNHANDLED_REJECTION_EXIT: code = FIELDCAM_EXIT_REJECTION; why = "unhandled promise rejection"; break;
	default: break;
	}
	fflush(stdout);
	if (the->abortStatus) {
		/* Aborting while reporting an abort: do not run JS again. */
		fprintf(stderr, "fieldcam-runtime: %s (exit %d)\n", why, code);
		_exit(code);
	}
	the->abortStatus = status;
	if (status == XS_UNHANDLED_EXCEPTION_EXIT || status == XS_UNHANDLED_REJECTION_EXIT) {
		txSlot exception = mxException;
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "fieldcam-runtime: %s", why);
		fieldcamPrintException(the, &exception, prefix);
	}
	else
		fprintf(stderr, "fieldcam-runtime: %s\n", why);
	fflush(stderr);
	exit(code);
}
