/*
 * fieldcam's XS platform header (selected with -DXSPLATFORM="fieldcam_xs.h"): the engine's view of our host.
 * Little-endian Linux on x86-64 and 32-bit ARM, POSIX threads for Atomics, engine-default key building,
 * script parsing and shared chunks; machine fields for our job queue, metering and the memory limit.
 */
#ifndef FIELDCAM_XS_H
#define FIELDCAM_XS_H

#if !defined(__GNUC__) || !defined(__linux__)
	#error fieldcam-runtime targets Linux with GCC
#endif
#if !(defined(__x86_64__) || defined(__arm__) || defined(__aarch64__))
	#error fieldcam-runtime targets x86-64 and ARM
#endif

#undef mxLittleEndian
#define mxLittleEndian 1
#undef mxLinux
#define mxLinux 1
#define mxExport extern
#define mxImport extern
#define XS_FUNCTION_NORETURN __attribute__((noreturn))

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <arpa/inet.h>

#define mxUseGCCAtomics 1
#define mxUsePOSIXThreads 1

/*
 * Strings as ECMAScript specifies them (UTF-16 code units): without this XS stores plain UTF-8 and a
 * character outside the BMP has length 1, so core code counting UTF-8 bytes or pairing surrogates breaks.
 * C code then sees CESU-8 (each surrogate encoded separately); natives.c converts on output.
 */
#define mxCESU8 1

#define mxUseDefaultBuildKeys 1
#define mxUseDefaultParseScript 1
#define mxUseDefaultSharedChunks 1

/* Fields the engine reserves in every machine for its host (see runtime.h for their meaning). */
#define mxMachinePlatform \
	int promiseJobs; \
	int abortStatus; \
	size_t allocatedSpace; \
	size_t peakSpace; \
	size_t allocationLimit; \
	int limitRefused; \
	unsigned long long computronBase; \
	void* waiterCondition; \
	void* waiterData; \
	void* waiterLink;

#endif /* FIELDCAM_XS_H */
