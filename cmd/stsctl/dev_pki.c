/* dev_pki.c — the credentials of a dev cluster: DIR/pki (a CA, a certificate per replica, an admin
 * certificate, a token file) and how stsctl's own clients use them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "errors.h"
#include "pki.h"
#include "util.h"

#define TOKEN_BYTES 32

/* Write text to a new file of mode 0600 (secrets: never over an existing file, never through a
 * symlink). The descriptor is closed on every path; a failed write removes the partial file. */
static int write_secret(const char *path, const char *text, char *err, size_t len)
{
	size_t n = strlen(text), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), e = 0;

	if (fd < 0)
		return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(errno));
	while (done < n && e == 0) {
		ssize_t w = write(fd, text + done, n - done);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno != EINTR)
			e = errno;
		else if (w == 0)
			e = EIO; /* no progress and no error: do not spin */
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0)
		return STSD_OK;
	unlink(path);
	return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(e));
}

/* TOKEN_BYTES random bytes as lower-case hex into out (2 * TOKEN_BYTES + 1). */
static int random_token(char *out, char *err, size_t len)
{
	unsigned char raw[TOKEN_BYTES];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, raw, sizeof raw) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof raw)
		return stsd_errf(err, len, STSD_IO, "cannot read /dev/urandom: %s",
		                 n < 0 ? strerror(errno) : "short read");
	util_hex(raw, sizeof raw, out);
	return STSD_OK;
}

/* DIR/pki/tokens.csv in kube-apiserver's --token-auth-file format, and the token alone in
 * DIR/pki/admin.token for scripts (curl -H "Authorization: Bearer $(cat ...)"). */
static int write_tokens(struct dev_cluster *cl, char *err, size_t len)
{
	char token[2 * TOKEN_BYTES + 1], line[256], path[PATH_MAX + 32];
	int rv;

	if ((rv = random_token(token, err, len)) != STSD_OK)
		return rv;
	snprintf(cl->token_file, sizeof cl->token_file, "%.4000s/pki/tokens.csv", cl->dir);
	snprintf(line, sizeof line, "%s,admin,admin,\"system:masters\"\n", token);
	if ((rv = write_secret(cl->token_file, line, err, len)) != STSD_OK)
		return rv;
	snprintf(path, sizeof path, "%.4000s/pki/admin.token", cl->dir);
	snprintf(line, sizeof line, "%s\n", token);
	return write_secret(path, line, err, len);
}

/* DIR/pki/replica-ID.{crt,key}: serving and client (replicas authenticate to each other). */
static int issue_replica(const char *pki, int id, char *err, size_t len)
{
	char out[PATH_MAX + 32], cn[32];
	struct pki_cert_request rq = {
	    .ca_dir = pki,
	    .out = out,
	    .cn = cn,
	    .orgs = {"system:stsd-replicas"},
	    .sans = {"127.0.0.1", "localhost"}, /* dev replicas listen on loopback only */
	    .server = true,
	    .client = true,
	};

	snprintf(out, sizeof out, "%.4000s/replica-%d", pki, id);
	snprintf(cn, sizeof cn, "stsd-replica-%d", id);
	return pki_issue(&rq, err, len);
}

int dev_pki_create(struct dev_cluster *cl, size_t replicas, char *err, size_t len)
{
	char pki[PATH_MAX + 8], admin[PATH_MAX + 16];
	struct pki_ca_request ca = {.dir = pki, .cn = "stsd-dev-ca"};
	struct pki_cert_request rq = {
	    .ca_dir = pki, .out = admin, .cn = "admin", .orgs = {"system:masters"}, .client = true};
	int rv;

	snprintf(pki, sizeof pki, "%.4000s/pki", cl->dir);
	snprintf(admin, sizeof admin, "%.4000s/admin", pki);
	if ((rv = pki_ca_init(&ca, err, len)) != STSD_OK)
		return rv;
	for (size_t i = 1; i <= replicas; i++)
		if ((rv = issue_replica(pki, (int)i, err, len)) != STSD_OK)
			return rv;
	if ((rv = pki_issue(&rq, err, len)) != STSD_OK || (rv = write_tokens(cl, err, len)) != 0)
		return rv;
	snprintf(cl->scheme, sizeof cl->scheme, "https");
	snprintf(cl->ca_file, sizeof cl->ca_file, "%.4000s/pki/ca.crt", cl->dir);
	snprintf(cl->admin_cert, sizeof cl->admin_cert, "%.4000s/pki/admin.crt", cl->dir);
	snprintf(cl->admin_key, sizeof cl->admin_key, "%.4000s/pki/admin.key", cl->dir);
	return STSD_OK;
}

bool dev_cluster_tls(const struct dev_cluster *cl)
{
	return strcmp(cl->scheme, "https") == 0;
}

void dev_cluster_url(const struct dev_cluster *cl, const char *address, char *out, size_t len)
{
	snprintf(out, len, "%s://%s", dev_cluster_tls(cl) ? "https" : "http", address);
}

void dev_cluster_client_options(const struct dev_cluster *cl, struct client_options *o)
{
	if (!dev_cluster_tls(cl))
		return;
	o->ca_file = cl->ca_file;
	o->cert_file = cl->admin_cert[0] != '\0' ? cl->admin_cert : NULL;
	o->key_file = cl->admin_key[0] != '\0' ? cl->admin_key : NULL;
}
