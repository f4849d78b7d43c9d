/* pki_write.c — the PKI's file handling: creating the CA directory, reading PEM files, and writing
 * a certificate with its key all or nothing (temporary files, fsync, then rename or link). */
#include "pki_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "pki.h"

/* PEM files of a CA or a certificate are a few kilobytes; refuse anything absurd. */
#define PKI_MAX_FILE (1u << 20)

int pki_mkdirs(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof path)
		return stsd_errf(err, errlen, STSD_INVALID, "bad directory name '%s'", dir);
	memcpy(path, dir, n + 1);
	/* Each prefix ending before a '/', then the whole path. */
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return stsd_errf(err, errlen, STSD_IO, "mkdir %s: %s", path,
			                 strerror(errno));
		path[i] = c;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return stsd_errf(err, errlen, STSD_IO, "%s: not a directory", dir);
	return STSD_OK;
}

int pki_check_absent(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return stsd_errf(err, errlen, STSD_EXISTS,
		                 "%s already exists (use force to replace it)", path);
	if (errno != ENOENT)
		return stsd_errf(err, errlen, STSD_IO, "stat %s: %s", path, strerror(errno));
	return STSD_OK;
}

char *pki_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > PKI_MAX_FILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (used < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + used, (size_t)st.st_size - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break; /* shrank meanwhile: return what is there */
		used += (size_t)r;
	}
	close(fd);
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	return buf;
fail:;
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* Make sure a rename or link into the directory of path survives a crash. */
static int sync_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return stsd_errf(err, errlen, STSD_IO, "open %s: %s", dir, strerror(errno));
	int rv = fsync(fd);
	close(fd);
	if (rv != 0)
		return stsd_errf(err, errlen, STSD_IO, "fsync %s: %s", dir, strerror(errno));
	return STSD_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Write f to a new temporary file beside it; its name goes into tmp (PATH_MAX bytes). */
static int write_temp(const struct pki_file *f, char *tmp, char *err, size_t errlen)
{
	int fd;

	if (snprintf(tmp, PATH_MAX, "%s.tmp-XXXXXX", f->path) >= PATH_MAX)
		return stsd_errf(err, errlen, STSD_INVALID, "path too long: %s", f->path);
	/* mkstemp opens with O_EXCL and mode 0600: a key is never readable by others, even briefly.
	 */
	if ((fd = mkstemp(tmp)) < 0) {
		int e = errno;
		tmp[0] = '\0';
		return stsd_errf(err, errlen, STSD_IO, "create %s: %s", f->path, strerror(e));
	}
	if (fchmod(fd, f->mode) != 0 || write_all(fd, f->data, f->len) != 0 || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return stsd_errf(err, errlen, STSD_IO, "write %s: %s", tmp, strerror(e));
	}
	if (close(fd) != 0)
		return stsd_errf(err, errlen, STSD_IO, "close %s: %s", tmp, strerror(errno));
	return STSD_OK;
}

/* Move tmp to path. Without force, link(2) fails instead of replacing a file that exists. */
static int place(const char *tmp, const char *path, bool force, char *err, size_t errlen)
{
	if (force) {
		if (rename(tmp, path) != 0)
			return stsd_errf(err, errlen, STSD_IO, "rename %s: %s", path,
			                 strerror(errno));
		return STSD_OK;
	}
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return STSD_OK;
	}
	if (errno == EEXIST)
		return stsd_errf(err, errlen, STSD_EXISTS,
		                 "%s already exists (use force to replace it)", path);
	if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
		return stsd_errf(err, errlen, STSD_IO, "link %s: %s", path, strerror(errno));
	/* A file system without hard links: check, then rename (a race here is the caller's). */
	int rv = pki_check_absent(path, err, errlen);
	return rv != STSD_OK ? rv : place(tmp, path, true, err, errlen);
}

/* With force, a copy of the file at path (when it is a regular file) in a new temporary file
 * beside it, named into bak (PATH_MAX bytes; "" when there is nothing to keep). A copy rather than
 * a hard link: it works on file systems without links, and the files are a few kilobytes. */
static int back_up(const char *path, char *bak, char *err, size_t errlen)
{
	struct stat st;
	size_t len;
	char *old;
	int rv;

	bak[0] = '\0';
	if (lstat(path, &st) != 0)
		return errno == ENOENT
		           ? STSD_OK
		           : stsd_errf(err, errlen, STSD_IO, "stat %s: %s", path, strerror(errno));
	/* A directory makes the rename fail (nothing lost); a symlink is kept as its target. */
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return STSD_OK;
	if ((old = pki_read_file(path, &len)) == NULL)
		return stsd_errf(err, errlen, STSD_IO, "back up %s: %s", path, strerror(errno));
	struct pki_file copy = {path, old, len, st.st_mode & 07777};
	rv = write_temp(&copy, bak, err, errlen);
	memset(old, 0, len); /* it may be a private key */
	free(old);
	return rv;
}

/* After a failure: put back what this call replaced (from its backup) or remove what it added. */
static void roll_back(const struct pki_file *files, size_t placed, char bak[][PATH_MAX])
{
	for (size_t i = 0; i < placed; i++) {
		if (bak[i][0] == '\0')
			unlink(files[i].path);
		else if (rename(bak[i], files[i].path) == 0)
			bak[i][0] = '\0';
	}
}

/* Files are placed one rename at a time, so a failure between two renames (the certificate's
 * path is a directory, the disk is full...) would leave a new key beside an old certificate. With
 * force, each file about to be replaced is first copied aside; a failure renames the copies back,
 * so the old pair, or the new one, is what remains: never half of each. A backup that cannot be
 * put back stays on disk as PATH.tmp-XXXXXX rather than being lost. */
int pki_write_files(const struct pki_file *files, size_t n, bool force, char *err, size_t errlen)
{
	char tmp[4][PATH_MAX] = {{0}}, bak[4][PATH_MAX] = {{0}};
	size_t placed = 0;
	int rv = STSD_OK;

	if (n > sizeof tmp / sizeof tmp[0])
		return stsd_errf(err, errlen, STSD_INVALID, "too many files");
	for (size_t i = 0; i < n && rv == STSD_OK; i++)
		rv = write_temp(&files[i], tmp[i], err, errlen);
	for (size_t i = 0; i < n && rv == STSD_OK && force; i++)
		rv = back_up(files[i].path, bak[i], err, errlen);
	for (size_t i = 0; i < n && rv == STSD_OK; i++) {
		if ((rv = place(tmp[i], files[i].path, force, err, errlen)) == STSD_OK) {
			tmp[i][0] = '\0';
			placed = i + 1;
		}
	}
	for (size_t i = 0; i < n && rv == STSD_OK; i++)
		rv = sync_parent(files[i].path, err, errlen);
	if (rv != STSD_OK)
		roll_back(files, placed, bak);
	for (size_t i = 0; i < n; i++) {
		if (tmp[i][0] != '\0')
			unlink(tmp[i]);
		if (bak[i][0] != '\0' && (rv == STSD_OK || i >= placed))
			unlink(bak[i]);
	}
	return rv;
}
