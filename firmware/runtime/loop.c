/*
 * The event loop: ONE poll() over every source (input fds, sockets, the signal pipe) with the earliest timer
 * as its timeout, so an idle device sleeps in the kernel (design.md §2: the stock xsnap loop busy-spins).
 * Each event reaches JS through the one dispatcher set with native.setDispatcher(fn) as fn(event, handle,
 * value); promise jobs are drained after every dispatch. An exception escaping the dispatcher is fatal
 * (exit 1), as is a rejection still unhandled once the jobs are drained (exit 5). The loop ends, and the
 * process exits 0, when nothing can happen any more: no timer, no armed input, no open socket, nothing
 * pending. Watching signals alone keeps nothing alive: a signal can only ask a running program to stop.
 *   native.setDispatcher(fn)    the dispatcher (kept as a C root: the host holds no other JS reference)
 *   native.watchSignals()       SIGINT / SIGTERM become EVENT.SIGNAL (signo, "SIGINT" / "SIGTERM"); the
 *                               second of the same kind exits at once with 128 + signo (130 / 143)
 */
#include "runtime.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>

static FieldcamSource* gSources = NULL;
/* Registered with fxRemember: a GC root the collector updates, never a dangling pointer. */
static txSlot gDispatcher;
static int gDispatcherSet = 0;

void fieldcamSourceAdd(FieldcamSource* source)
{
	source->removed = 0;
	source->next = gSources;
	gSources = source;
}

void fieldcamSourceRemove(FieldcamSource* source)
{
	source->removed = 1;
	source->alive = 0;
	source->pending = 0;
}

/* Releases the sources removed during the last turn (nothing refers to them any more). */
static void releaseRemoved(void)
{
	FieldcamSource** link = &gSources;
	FieldcamSource* source;
	while ((source = *link)) {
		if (source->removed) {
			*link = source->next;
			if (source->release)
				source->release(source);
		}
		else
			link = &source->next;
	}
}

void fieldcamDrainJobs(txMachine* the)
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
		/* Every job has run: a rejection nobody handled by now never will be (fatal, exit 5). */
		fxCheckUnhandledRejections(the, 1);
	}
	xsEndHost(the);
}

static void noDispatcher(int event, int handle)
{
	/* A signal must still stop the program when JS never asked for events. */
	if (event == FIELDCAM_EVENT_SIGNAL) {
		fflush(stdout);
		_exit(128 + handle);
	}
}

/* kind: 0 undefined, 1 number, 2 string. */
static void dispatch(txMachine* the, int event, int handle, int kind, double number, const char* string)
{
	if (!gDispatcherSet) {
		noDispatcher(event, handle);
		return;
	}
	xsBeginHost(the);
	{
		xsVars(3);
		xsVar(0) = xsInteger(event);
		xsVar(1) = xsInteger(handle);
		if (kind == 1)
			xsVar(2) = xsNumber(number);
		else if (kind == 2)
			xsVar(2) = xsString(string);
		xsTry {
			xsCallFunction3(gDispatcher, xsUndefined, xsVar(0), xsVar(1), xsVar(2));
		}
		xsCatch {
			txSlot exception = xsException;
			fieldcamPrintException(the, &exception, "fieldcam-runtime: uncaught exception");
			fflush(stdout);
			fflush(stderr);
			exit(FIELDCAM_EXIT_UNCAUGHT);
		}
	}
	xsEndHost(the);
	fieldcamDrainJobs(the);
}

void fieldcamDispatchNumber(txMachine* the, int event, int handle, double value)
{
	dispatch(the, event, handle, 1, value, NULL);
}

void fieldcamDispatchString(txMachine* the, int event, int handle, const char* value)
{
	dispatch(the, event, handle, value ? 2 : 0, 0, value);
}

void fieldcamNativeSetDispatcher(txMachine* the)
{
	txSlot* function = &xsArg(0);
	if (!xsIsInstanceOf(xsArg(0), xsFunctionPrototype))
		xsTypeError("setDispatcher: dispatch must be a function");
	if (!gDispatcherSet) {
		gDispatcher.kind = XS_UNDEFINED_KIND;
		gDispatcher.flag = XS_NO_FLAG;
		xsRemember(gDispatcher);
		gDispatcherSet = 1;
	}
	/* Kind and value only: `next` links the engine's list of C roots. */
	gDispatcher.kind = function->kind;
	gDispatcher.value = function->value;
}

/* ---- signals: a self-pipe, so the handler only writes one byte and the loop does the rest ---- */

static int gSignalPipe[2] = { -1, -1 };
static volatile sig_atomic_t gSignalsSeen[NSIG];
static FieldcamSource gSignalSource;

static void onSignal(int signo)
{
	unsigned char byte = (unsigned char)signo;
	int saved = errno;
	if (gSignalsSeen[signo]++)
		_exit(128 + signo); /* the second one of a kind: the user means it */
	if (write(gSignalPipe[1], &byte, 1) < 0) {
		/* the pipe is full of signals already: this one is covered by them */
	}
	errno = saved;
}

static void signalsReady(txMachine* the, FieldcamSource* source, short revents)
{
	unsigned char bytes[16];
	ssize_t count;
	ssize_t i;
	while ((count = read(source->fd, bytes, sizeof(bytes))) > 0) {
		for (i = 0; i < count; i++)
			fieldcamDispatchString(the, FIELDCAM_EVENT_SIGNAL, bytes[i], bytes[i] == SIGINT ? "SIGINT" : "SIGTERM");
	}
}

void fieldcamNativeWatchSignals(txMachine* the)
{
	struct sigaction action;
	if (gSignalPipe[0] >= 0)
		return;
	if (pipe2(gSignalPipe, O_NONBLOCK | O_CLOEXEC) < 0)
		fieldcamThrowErrno(the, errno, "watchSignals");
	memset(&action, 0, sizeof(action));
	action.sa_handler = onSignal;
	sigemptyset(&action.sa_mask);
	action.sa_flags = SA_RESTART;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	gSignalSource.fd = gSignalPipe[0];
	gSignalSource.events = POLLIN;
	gSignalSource.alive = 0; /* a signal watch alone must not keep the process running */
	gSignalSource.ready = signalsReady;
	gSignalSource.release = NULL;
	fieldcamSourceAdd(&gSignalSource);
}

/* ---- the loop ---- */

static int somethingCanHappen(void)
{
	FieldcamSource* source;
	if (fieldcamTimersPending())
		return 1;
	for (source = gSources; source; source = source->next) {
		if (!source->removed && (source->alive || source->pending))
			return 1;
	}
	return 0;
}

/*
 * Milliseconds poll() may sleep: until the earliest timer (rounded up, so it never wakes early and spins).
 * Due times are in the runtime's (possibly scaled) monotonic time; poll() sleeps in real time.
 */
static int pollTimeout(int pending)
{
	long long wait;
	if (pending)
		return 0;
	if (!fieldcamTimersPending())
		return -1;
	wait = fieldcamRealWaitNs(fieldcamTimersNextDue() - fieldcamMonotonicNs());
	if (wait <= 0)
		return 0;
	wait = (wait + 999999) / 1000000;
	return wait > 0x7FFFFFFF ? 0x7FFFFFFF : (int)wait;
}

void fieldcamRunLoop(txMachine* the)
{
	struct pollfd* fds = NULL;
	FieldcamSource** polled = NULL;
	size_t capacity = 0;
	for (;;) {
		FieldcamSource* source;
		size_t count = 0;
		size_t i;
		int pending = 0;
		int ready;

		fieldcamTimersRun(the, fieldcamMonotonicNs());
		/* Events decided inside natives (a DNS failure, a write error, bytes mbedTLS holds). */
		for (source = gSources; source; source = source->next) {
			if (source->pending && !source->removed) {
				source->pending = 0;
				source->ready(the, source, 0);
			}
		}
		releaseRemoved();
		if (!somethingCanHappen())
			break;

		for (source = gSources; source; source = source->next) {
			if (source->pending)
				pending = 1;
			if (source->removed || source->fd < 0 || !source->events)
				continue;
			if (count == capacity) {
				capacity = capacity ? capacity * 2 : 16;
				fds = realloc(fds, capacity * sizeof(*fds));
				polled = realloc(polled, capacity * sizeof(*polled));
				if (!fds || !polled) {
					fprintf(stderr, "fieldcam-runtime: OUT_OF_MEMORY: the event loop cannot grow\n");
					exit(FIELDCAM_EXIT_MEMORY);
				}
			}
			fds[count].fd = source->fd;
			fds[count].events = source->events;
			fds[count].revents = 0;
			polled[count] = source;
			count++;
		}
		ready = poll(fds, count, pollTimeout(pending));
		if (ready < 0) {
			if (errno == EINTR)
				continue; /* a signal: its byte is in the pipe for the next turn */
			fprintf(stderr, "fieldcam-runtime: poll: %s\n", strerror(errno));
			exit(FIELDCAM_EXIT_ENGINE);
		}
		for (i = 0; i < count && ready > 0; i++) {
			if (!fds[i].revents)
				continue;
			ready--;
			/* Skipped when an earlier dispatch of this turn closed it (it is released only after the turn). */
			if (!polled[i]->removed)
				polled[i]->ready(the, polled[i], fds[i].revents);
		}
		releaseRemoved();
	}
	free(fds);
	free(polled);
}
