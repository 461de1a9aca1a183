/*
 * Files the device writes (the config bundle, state): replaced atomically, so a power cut leaves either the
 * old file or the new one, never a torn one.
 *   native.writeFileAtomic(path, data, offset, length)
 *       writes the range to a temporary file in the same folder, fsyncs it, renames it over `path`, then
 *       fsyncs the folder so the rename itself is durable. The new file keeps the old one's mode, else 0600
 *       (config bundles hold private keys). Throws "E…: <path>: …".
 *   native.removeStaleTemps(path)
 *       removes what a crash in the middle of writeFileAtomic(path, …) left behind: files in path's folder named
 *       exactly "<basename>.tmp-<digits>" (the temporary name below), except this process's own. Nothing else is
 *       touched. Returns the count removed; a folder that does not exist is 0. Throws "E…: <path>: …".
 */
#include "runtime.h"
#include <fcntl.h>
#include <libgen.h>
#include <dirent.h>
#include <sys/stat.h>

/* Writes all of [data, data + length) to fd; 0 or an errno. */
static int writeAll(int fd, const uint8_t* data, size_t length)
{
	while (length > 0) {
		ssize_t written = write(fd, data, length);
		if (written < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		data += written;
		length -= (size_t)written;
	}
	return 0;
}

/* fsync of the folder holding `path`: makes a rename or unlink durable (ext4, f2fs on SD cards). Returns 0 or errno. */
int fieldcamSyncFolder(const char* path)
{
	char copy[1024];
	int fd;
	int error = 0;
	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		error = errno;
	close(fd);
	return error;
}

void fieldcamNativeWriteFileAtomic(txMachine* the)
{
	char path[1024];
	char temporary[1100];
	double offset;
	double length;
	const uint8_t* data;
	struct stat existing;
	mode_t mode = 0600;
	int fd;
	int error;

	xsToStringBuffer(xsArg(0), path, sizeof(path));
	if (!path[0])
		xsTypeError("writeFileAtomic: path must not be empty");
	offset = fieldcamToIndex(the, &xsArg(2), "offset");
	length = fieldcamToIndex(the, &xsArg(3), "length");
	fieldcamViewRange(the, &xsArg(1), offset, length, "data"); /* bounds first: no temporary file on a bad range */
	if (stat(path, &existing) == 0)
		mode = existing.st_mode & 07777;
	snprintf(temporary, sizeof(temporary), "%s.tmp-%ld", path, (long)getpid());
	fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		fieldcamThrowErrno(the, errno, path);
	/* Taken again right before write(): nothing in between runs JS, so the address is current. */
	data = fieldcamViewRange(the, &xsArg(1), offset, length, "data");
	error = writeAll(fd, data, (size_t)length);
	if (!error && fchmod(fd, mode) < 0)
		error = errno;
	if (!error && fsync(fd) < 0)
		error = errno;
	if (close(fd) < 0 && !error)
		error = errno;
	if (!error && rename(temporary, path) < 0)
		error = errno;
	if (error) {
		unlink(temporary);
		fieldcamThrowErrno(the, error, path);
	}
	error = fieldcamSyncFolder(path);
	if (error)
		fieldcamThrowErrno(the, error, path);
}

/* True when `name` is "<base>.tmp-<digits>" and the digits are not this process's id. */
static int isStaleTemp(const char* name, const char* base)
{
	size_t baseLength = strlen(base);
	const char* digits;
	const char* cursor;
	if (strncmp(name, base, baseLength) != 0 || strncmp(name + baseLength, ".tmp-", 5) != 0)
		return 0;
	digits = name + baseLength + 5;
	if (!*digits)
		return 0;
	for (cursor = digits; *cursor; cursor++) {
		if (*cursor < '0' || *cursor > '9')
			return 0;
	}
	return strtol(digits, NULL, 10) != (long)getpid();
}

void fieldcamNativeRemoveStaleTemps(txMachine* the)
{
	char path[1024];
	char folderCopy[1024];
	char baseCopy[1024];
	char victim[2300];
	const char* folder;
	const char* base;
	DIR* dir;
	struct dirent* entry;
	int removed = 0;

	xsToStringBuffer(xsArg(0), path, sizeof(path));
	if (!path[0])
		xsTypeError("removeStaleTemps: path must not be empty");
	snprintf(folderCopy, sizeof(folderCopy), "%s", path);
	snprintf(baseCopy, sizeof(baseCopy), "%s", path);
	folder = dirname(folderCopy);
	base = basename(baseCopy);
	dir = opendir(folder);
	if (!dir) {
		if (errno == ENOENT) {
			xsResult = xsInteger(0);
			return;
		}
		fieldcamThrowErrno(the, errno, path);
	}
	while ((entry = readdir(dir)) != NULL) {
		if (!isStaleTemp(entry->d_name, base))
			continue;
		snprintf(victim, sizeof(victim), "%s/%s", folder, entry->d_name);
		if (unlink(victim) == 0)
			removed++;
	}
	closedir(dir);
	xsResult = xsInteger(removed);
}
