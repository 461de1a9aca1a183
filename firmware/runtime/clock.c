/*
 * The runtime's two clocks, and the time-scale knob for tests and simulations (--time-scale N): with N > 1
 * both clocks run N times faster than the machine's, so timers fire N times sooner in real time and an hour
 * of device life (credential refreshes, retries, backoff) passes in an hour / N. At N = 1 (the default) the
 * clocks are the system's, read as they always were.
 *   wall       CLOCK_REALTIME; scaled: origin + (real - origin) * N, origin being --time-origin EPOCH_MS or the
 *              runtime's boot. A local cloud started with the same origin and scale (sim/cloud timeScale,
 *              timeOrigin) reads the same scaled time, so signatures and expirations agree.
 *   monotonic  CLOCK_MONOTONIC; scaled: boot + (real - boot) * N.
 * Only JS sees scaled time: TLS certificate validity (mbedTLS) and poll() sleep in real time, which is why the
 * loop divides a timer's remaining scaled time by N before sleeping (fieldcamRealWaitNs).
 */
#include "runtime.h"

static long long gScale = 1;
static long long gMonotonicBootNs = 0;
static long long gWallOriginNs = 0;

static long long readNs(clockid_t id)
{
	struct timespec now;
	clock_gettime(id, &now);
	return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

void fieldcamClockStart(long long scale, long long originMs)
{
	gScale = scale > 1 ? scale : 1;
	gMonotonicBootNs = readNs(CLOCK_MONOTONIC);
	gWallOriginNs = originMs >= 0 ? originMs * 1000000LL : readNs(CLOCK_REALTIME);
}

long long fieldcamTimeScale(void)
{
	return gScale;
}

long long fieldcamMonotonicNs(void)
{
	long long now = readNs(CLOCK_MONOTONIC);
	if (gScale == 1)
		return now;
	/* Scaled from boot: 1000 x 10^9 ns x a month of uptime still fits in 63 bits. */
	return gMonotonicBootNs + (now - gMonotonicBootNs) * gScale;
}

long long fieldcamWallNs(void)
{
	long long now = readNs(CLOCK_REALTIME);
	if (gScale == 1)
		return now;
	return gWallOriginNs + (now - gWallOriginNs) * gScale;
}

long long fieldcamRealWaitNs(long long scaledNs)
{
	/* Rounded up: waking before the timer is due would only spin the loop until it is. */
	return scaledNs <= 0 ? 0 : (scaledNs + gScale - 1) / gScale;
}
