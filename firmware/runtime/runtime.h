/* fieldcam-runtime: what main.c, platform.c and natives.c share. */
#ifndef FIELDCAM_RUNTIME_H
#define FIELDCAM_RUNTIME_H

#include "xsAll.h"
#include "xs.h"

/* Exit codes, stable for scripts and the simulator (named in the error message as well). */
enum {
	FIELDCAM_EXIT_OK = 0,
	FIELDCAM_EXIT_UNCAUGHT = 1,        /* an exception escaped the bundle or a promise job */
	FIELDCAM_EXIT_USAGE = 2,           /* bad command line */
	FIELDCAM_EXIT_BUNDLE_READ = 3,     /* bundle missing, unreadable or empty */
	FIELDCAM_EXIT_BUNDLE_INVALID = 4,  /* bundle is not valid JavaScript (SyntaxError while loading) */
	FIELDCAM_EXIT_REJECTION = 5,       /* a promise rejection was never handled */
	FIELDCAM_EXIT_MEMORY = 6,          /* JS heap limit reached or allocation failed */
	FIELDCAM_EXIT_STACK = 7,           /* JS stack overflow */
	FIELDCAM_EXIT_ENGINE = 8           /* any other engine abort */
};

/* Computrons spent so far: the engine's 32-bit meter plus what earlier meter callbacks banked. */
unsigned long long fieldcamComputrons(txMachine* the);
txBoolean fieldcamMeterCallback(txMachine* the, txU4 index);

/* Defines the global `native` object (natives.c). */
void fieldcamInstallNatives(txMachine* the);

/* Prints an exception value to stderr as "<prefix>: <String(value)>" plus its stack when it has one. */
void fieldcamPrintException(txMachine* the, txSlot* exception, const char* prefix);

#endif /* FIELDCAM_RUNTIME_H */
