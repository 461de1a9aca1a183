/*
 * Storage for the spool (issue 15): plain POSIX files, append-only, read at an offset, made durable on request.
 * The JS side (firmware/boards/xs/xsStorage.ts) turns the "E…: path: …" errors into STORAGE_* codes.
 *   native.storageOpen(path) → fd        opens for reading and appending, creating it (0600); O_APPEND: every
 *                                        write goes at the end, whatever the offset, so nothing is rewritten
 *   native.storageAppend(fd, data, offset, length)
 *   native.storageRead(fd, position, into, offset, length) → bytes read (fewer only at the end of the file)
 *   native.storageSync(fd)               fsync: what was appended survives a power cut once this returns
 *   native.storageTruncate(fd, size)     cuts a torn tail after a crash
 *   native.storageSize(fd) → bytes
 *   native.storageClose(fd)
 *   native.storageRename(from, to)       then fsyncs the folder, so the rename itself is durable
 *   native.storageRemove(path)           then fsyncs the folder
 *   native.storageList(folder) → names   every entry but "." and ".." (unsorted)
 *   native.storageMakeDirectory(path)    mkdir 0700; an existing folder is fine
 *   native.storageFreeBytes(path) → bytes available to this process on path's file system (statvfs f_bavail)
 *   native.storageCrc32(crc, data, offset, length) → CRC-32 (IEEE, reflected 0xEDB88320) of the range, continued
 *                                        from crc: the spool's record checksum, here because XS's interpreter
 *                                        spends ~1,600 ARM instructions per byte on the same loop in JS
 * Calls block the loop for as long as the file system takes; the spool calls them once per fragment, not per
 * frame, and fsync once per fragment.
 */
/* 64-bit file offsets and directory cookies on the 32-bit boards: the Makefile's HOST_DEFINES sets _FILE_OFFSET_BITS. */
#include "runtime.h"
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define PATH_BYTES 1024

static void pathArgument(txMachine* the, int index, char* path, const char* what)
{
	xsToStringBuffer(xsArg(index), path, PATH_BYTES);
	if (!path[0])
		xsTypeError("%s: path must not be empty", what);
}

static int fdArgument(txMachine* the)
{
	double fd = fieldcamToIndex(the, &xsArg(0), "fd");
	if (fd > 1048576)
		xsRangeError("fd %g is not a storage descriptor", fd);
	return (int)fd;
}

void fieldcamNativeStorageOpen(txMachine* the)
{
	char path[PATH_BYTES];
	int fd;
	pathArgument(the, 0, path, "storageOpen");
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		fieldcamThrowErrno(the, errno, path);
	xsResult = xsInteger(fd);
}

void fieldcamNativeStorageAppend(txMachine* the)
{
	int fd = fdArgument(the);
	double offset = fieldcamToIndex(the, &xsArg(2), "offset");
	double length = fieldcamToIndex(the, &xsArg(3), "length");
	const uint8_t* data = fieldcamViewRange(the, &xsArg(1), offset, length, "data");
	size_t left = (size_t)length;
	while (left > 0) {
		ssize_t written = write(fd, data, left);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			fieldcamThrowErrno(the, errno, "storageAppend");
		}
		data += written;
		left -= (size_t)written;
	}
}

void fieldcamNativeStorageRead(txMachine* the)
{
	int fd = fdArgument(the);
	double position = fieldcamToIndex(the, &xsArg(1), "position");
	double offset = fieldcamToIndex(the, &xsArg(3), "offset");
	double length = fieldcamToIndex(the, &xsArg(4), "length");
	uint8_t* into = fieldcamViewRange(the, &xsArg(2), offset, length, "into");
	size_t done = 0;
	while (done < (size_t)length) {
		ssize_t n = pread(fd, into + done, (size_t)length - done, (off_t)position + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fieldcamThrowErrno(the, errno, "storageRead");
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	xsResult = xsNumber((double)done);
}

void fieldcamNativeStorageSync(txMachine* the)
{
	int fd = fdArgument(the);
	if (fsync(fd) < 0)
		fieldcamThrowErrno(the, errno, "storageSync");
}

void fieldcamNativeStorageTruncate(txMachine* the)
{
	int fd = fdArgument(the);
	double size = fieldcamToIndex(the, &xsArg(1), "size");
	if (ftruncate(fd, (off_t)size) < 0)
		fieldcamThrowErrno(the, errno, "storageTruncate");
}

void fieldcamNativeStorageSize(txMachine* the)
{
	int fd = fdArgument(the);
	struct stat info;
	if (fstat(fd, &info) < 0)
		fieldcamThrowErrno(the, errno, "storageSize");
	xsResult = xsNumber((double)info.st_size);
}

void fieldcamNativeStorageClose(txMachine* the)
{
	int fd = fdArgument(the);
	if (close(fd) < 0 && errno != EINTR)
		fieldcamThrowErrno(the, errno, "storageClose");
}

void fieldcamNativeStorageRename(txMachine* the)
{
	char from[PATH_BYTES];
	char to[PATH_BYTES];
	int error;
	pathArgument(the, 0, from, "storageRename");
	pathArgument(the, 1, to, "storageRename");
	if (rename(from, to) < 0)
		fieldcamThrowErrno(the, errno, from);
	error = fieldcamSyncFolder(to);
	if (error)
		fieldcamThrowErrno(the, error, to);
}

void fieldcamNativeStorageRemove(txMachine* the)
{
	char path[PATH_BYTES];
	int error;
	pathArgument(the, 0, path, "storageRemove");
	if (unlink(path) < 0)
		fieldcamThrowErrno(the, errno, path);
	error = fieldcamSyncFolder(path);
	if (error)
		fieldcamThrowErrno(the, error, path);
}

void fieldcamNativeStorageList(txMachine* the)
{
	char path[PATH_BYTES];
	DIR* dir;
	struct dirent* entry;
	pathArgument(the, 0, path, "storageList");
	dir = opendir(path);
	if (!dir)
		fieldcamThrowErrno(the, errno, path);
	xsVars(2);
	xsVar(0) = xsNewArray(0);
	for (;;) {
		errno = 0;
		entry = readdir(dir);
		if (!entry)
			break;
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		xsVar(1) = xsString(entry->d_name);
		xsCall1(xsVar(0), xsID("push"), xsVar(1));
	}
	if (errno) {
		int error = errno;
		closedir(dir);
		fieldcamThrowErrno(the, error, path);
	}
	closedir(dir);
	xsResult = xsVar(0);
}

void fieldcamNativeStorageMakeDirectory(txMachine* the)
{
	char path[PATH_BYTES];
	struct stat info;
	pathArgument(the, 0, path, "storageMakeDirectory");
	if (mkdir(path, 0700) == 0)
		return;
	if (errno == EEXIST && stat(path, &info) == 0 && S_ISDIR(info.st_mode))
		return;
	fieldcamThrowErrno(the, errno == EEXIST ? ENOTDIR : errno, path);
}

void fieldcamNativeStorageFreeBytes(txMachine* the)
{
	char path[PATH_BYTES];
	struct statvfs info;
	pathArgument(the, 0, path, "storageFreeBytes");
	if (statvfs(path, &info) < 0)
		fieldcamThrowErrno(the, errno, path);
	xsResult = xsNumber((double)info.f_bavail * (double)info.f_frsize);
}

/* The byte-at-a-time table of the reflected polynomial, built on first use (1 KiB, never freed). */
static uint32_t crcTable[256];
static int crcTableReady = 0;

static void crcBuildTable(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crcTable[n] = c;
	}
	crcTableReady = 1;
}

void fieldcamNativeStorageCrc32(txMachine* the)
{
	double start = fieldcamToIndex(the, &xsArg(0), "crc");
	double offset = fieldcamToIndex(the, &xsArg(2), "offset");
	double length = fieldcamToIndex(the, &xsArg(3), "length");
	const uint8_t* data;
	uint32_t c;
	if (start > 4294967295.0)
		xsRangeError("crc %g is not a 32-bit value", start);
	data = fieldcamViewRange(the, &xsArg(1), offset, length, "data");
	if (!crcTableReady)
		crcBuildTable();
	c = ~(uint32_t)start;
	for (size_t i = 0; i < (size_t)length; i++)
		c = crcTable[(c ^ data[i]) & 0xff] ^ (c >> 8);
	xsResult = xsNumber((double)(uint32_t)~c);
}
