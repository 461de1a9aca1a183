/*
 * Frame input from a file descriptor (the camera pipe or device): non-blocking reads straight into a pool
 * slot, driven by one-shot readiness watches so the loop polls the fd only while JS wants bytes.
 *   native.openInput(fd)                       sets fd non-blocking; "EBADF: …" when it is not open
 *   native.watchInput(fd)                      one-shot: dispatch(EVENT.INPUT_READABLE, fd) when readable,
 *                                              at EOF or on error
 *   native.readInput(fd, into, offset, length) n > 0 bytes, 0 at EOF, -1 when it would block; "E…: …" on error
 *   native.closeInput(fd)                      forgets the fd and closes it
 *   native.openFifo(path)                      the local event trigger (docs/events.md): creates the FIFO when
 *                                              missing (0600), opens it read-write and non-blocking (so no writer
 *                                              is never EOF), returns its fd for openInput; "E…: path: …" on error
 * An armed watch keeps the process running; an opened but unwatched input does not.
 */
#include "runtime.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

typedef struct Input {
	FieldcamSource source;   /* first: the loop hands the source back to inputReady */
	int fd;
	struct Input* next;
} Input;

static Input* gInputs = NULL;

static Input* findInput(int fd)
{
	Input* input;
	for (input = gInputs; input; input = input->next) {
		if (input->fd == fd)
			return input;
	}
	return NULL;
}

static int toFd(txMachine* the)
{
	double value = xsToNumber(xsArg(0));
	if (!(value >= 0) || value > 2147483647.0 || value != (double)(int)value)
		xsRangeError("fd must be a non-negative integer, got %g", value);
	return (int)value;
}

static void inputReady(txMachine* the, FieldcamSource* source, short revents)
{
	Input* input = (Input*)source;
	source->events = 0; /* one-shot: JS re-arms after reading */
	source->alive = 0;
	fieldcamDispatchString(the, FIELDCAM_EVENT_INPUT_READABLE, input->fd, NULL);
}

static void inputRelease(FieldcamSource* source)
{
	free(source);
}

void fieldcamNativeOpenInput(txMachine* the)
{
	int fd = toFd(the);
	int flags = fcntl(fd, F_GETFL);
	Input* input;
	char context[32];
	snprintf(context, sizeof(context), "openInput(%d)", fd);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		fieldcamThrowErrno(the, errno, context);
	if (findInput(fd))
		return;
	input = calloc(1, sizeof(Input));
	if (!input)
		fieldcamThrowErrno(the, ENOMEM, context);
	input->fd = fd;
	input->source.fd = fd;
	input->source.ready = inputReady;
	input->source.release = inputRelease;
	input->next = gInputs;
	gInputs = input;
	fieldcamSourceAdd(&input->source);
}

void fieldcamNativeWatchInput(txMachine* the)
{
	int fd = toFd(the);
	Input* input = findInput(fd);
	if (!input)
		fieldcamThrowError(the, "EBADF: watchInput(%d): the fd is not open (openInput first)", fd);
	input->source.events = POLLIN;
	input->source.alive = 1;
}

void fieldcamNativeReadInput(txMachine* the)
{
	int fd = toFd(the);
	double offset = fieldcamToIndex(the, &xsArg(2), "offset");
	double length = fieldcamToIndex(the, &xsArg(3), "length");
	uint8_t* into;
	ssize_t count;
	char context[32];
	/* Straight into the view's backing store: nothing between resolving the address and read() runs JS. */
	into = fieldcamViewRange(the, &xsArg(1), offset, length, "into");
	do {
		count = read(fd, into, (size_t)length);
	} while (count < 0 && errno == EINTR);
	if (count < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			xsResult = xsInteger(-1);
			return;
		}
		snprintf(context, sizeof(context), "readInput(%d)", fd);
		fieldcamThrowErrno(the, errno, context);
	}
	xsResult = xsInteger((xsIntegerValue)count);
}

void fieldcamNativeOpenFifo(txMachine* the)
{
	char* path = xsToString(xsArg(0));
	char context[300];
	struct stat st;
	int fd;
	snprintf(context, sizeof(context), "openFifo: %s", path);
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		fieldcamThrowErrno(the, errno, context);
	/* Read-write: the device itself holds a writer, so a script closing its end is no end of input. */
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fieldcamThrowErrno(the, errno, context);
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		fieldcamThrowError(the, "ENOTFIFO: %s exists and is not a FIFO", path);
	}
	xsResult = xsInteger(fd);
}

void fieldcamNativeCloseInput(txMachine* the)
{
	int fd = toFd(the);
	Input** link = &gInputs;
	Input* input;
	while ((input = *link)) {
		if (input->fd == fd) {
			*link = input->next;
			fieldcamSourceRemove(&input->source);
			close(fd);
			return;
		}
		link = &input->next;
	}
}
