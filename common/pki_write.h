/* pki_write.h — the file side of pki.c (internal): directories, existence checks and writing a set
 * of files all or nothing. Not for use outside common/pki*.c. */
#ifndef STSD_COMMON_PKI_WRITE_H
#define STSD_COMMON_PKI_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One file to write: path, its bytes (borrowed for the call) and its final mode. */
struct pki_file {
	const char *path;
	const void *data;
	size_t len;
	mode_t mode;
};

/* Create dir and any missing parents with mode 0700. STSD_IO with the reason in err. */
int pki_mkdirs(const char *dir, char *err, size_t errlen);

/* STSD_EXISTS (with the path in err) if path exists, STSD_OK if it does not, STSD_IO if it cannot
 * be told. */
int pki_check_absent(const char *path, char *err, size_t errlen);

/* Write the n files: each to a temporary file beside it (created 0600, exclusive), fsync, then move
 * them into place in order and fsync their directories. Without force a file that appeared in the
 * meantime is never replaced (STSD_EXISTS). On any failure, temporaries and the files this call
 * already placed are removed; with force, the files it replaced are restored from copies made
 * first, so a failure leaves the old set or the new set, never half of each. */
int pki_write_files(const struct pki_file *files, size_t n, bool force, char *err, size_t errlen);

#endif
