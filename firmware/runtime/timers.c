/*
 * One-shot timers in a binary min-heap ordered by (due time, creation order), so timers due at the same
 * time fire in the order they were set. The loop sleeps in poll() until the root is due.
 *   native.setTimer(ms)     dispatch(EVENT.TIMER, id) after ms (>= 0, clamped to an int32); returns id > 0
 *   native.clearTimer(id)   cancels a pending timer; unknown or fired ids are ignored
 * A device holds a handful of timers, so clearTimer finds its entry by a linear scan and then restores
 * the heap in O(log n); no index table to keep in step.
 */
#include "runtime.h"

typedef struct {
	long long due;           /* fieldcamMonotonicNs() time (scaled under --time-scale) */
	unsigned long long order;
	int id;
} Timer;

static Timer* gHeap = NULL;
static size_t gCount = 0;
static size_t gCapacity = 0;
static int gNextId = 1;
static unsigned long long gNextOrder = 0;

static int before(const Timer* a, const Timer* b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void swap(size_t i, size_t j)
{
	Timer t = gHeap[i];
	gHeap[i] = gHeap[j];
	gHeap[j] = t;
}

static void siftUp(size_t i)
{
	while (i > 0 && before(&gHeap[i], &gHeap[(i - 1) / 2])) {
		swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void siftDown(size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1;
		size_t least = i;
		if (left < gCount && before(&gHeap[left], &gHeap[least]))
			least = left;
		if (left + 1 < gCount && before(&gHeap[left + 1], &gHeap[least]))
			least = left + 1;
		if (least == i)
			return;
		swap(i, least);
		i = least;
	}
}

static void removeAt(size_t i)
{
	gCount--;
	if (i == gCount)
		return;
	gHeap[i] = gHeap[gCount];
	siftDown(i);
	siftUp(i);
}

int fieldcamTimersPending(void)
{
	return gCount > 0;
}

long long fieldcamTimersNextDue(void)
{
	return gHeap[0].due;
}

void fieldcamTimersRun(txMachine* the, long long now)
{
	/* Timers set by these callbacks wait for the next turn, even at 0 ms: I/O is polled in between. */
	unsigned long long limit = gNextOrder;
	while (gCount > 0 && gHeap[0].due <= now && gHeap[0].order < limit) {
		int id = gHeap[0].id;
		removeAt(0);
		fieldcamDispatchString(the, FIELDCAM_EVENT_TIMER, id, NULL);
	}
}

void fieldcamNativeSetTimer(txMachine* the)
{
	double ms = xsToNumber(xsArg(0));
	Timer* timer;
	int id = gNextId;
	if (!(ms >= 0))
		ms = 0; /* NaN and negatives: as soon as possible */
	if (ms > 2147483647.0)
		ms = 2147483647.0;
	if (gCount == gCapacity) {
		size_t capacity = gCapacity ? gCapacity * 2 : 16;
		Timer* heap = realloc(gHeap, capacity * sizeof(Timer));
		if (!heap)
			fieldcamThrowErrno(the, ENOMEM, "setTimer");
		gHeap = heap;
		gCapacity = capacity;
	}
	timer = &gHeap[gCount];
	timer->due = fieldcamMonotonicNs() + (long long)(ms * 1e6);
	timer->order = gNextOrder++;
	timer->id = id;
	gNextId = id == 0x7FFFFFFF ? 1 : id + 1;
	gCount++;
	siftUp(gCount - 1);
	xsResult = xsInteger(id);
}

void fieldcamNativeClearTimer(txMachine* the)
{
	double value = xsToNumber(xsArg(0));
	size_t i;
	for (i = 0; i < gCount; i++) {
		if ((double)gHeap[i].id == value) {
			removeAt(i);
			return;
		}
	}
}
