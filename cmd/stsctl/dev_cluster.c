/* dev_cluster.c — the record of a dev cluster (DIR/cluster.json), its kubeconfig, and where the
 * stsd binary is. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev.h"
#include "errors.h"
#include "kubeconfig.h"
#include "pki.h"

static json_t *argv_json(char *const *argv)
{
	json_t *a = json_array();

	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

static json_t *replica_json(const struct dev_replica *r)
{
	return json_pack("{s:i,s:i,s:s,s:s,s:s,s:s,s:o}", "id", r->id, "pid", (int)r->pid,
	                 "raftAddress", r->raft_address, "apiAddress", r->api_address, "dataDir",
	                 r->data_dir, "log", r->log, "args", argv_json(r->argv));
}

/* A fresh document for a cluster made by dev up: paths of the credentials, never their content. */
static json_t *cluster_json(const struct dev_cluster *cl)
{
	json_t *replicas = json_array();

	for (size_t i = 0; i < cl->n; i++)
		json_array_append_new(replicas, replica_json(&cl->replicas[i]));
	if (!dev_cluster_tls(cl))
		return json_pack("{s:o,s:[]}", "replicas", replicas, "agents");
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:[]}", "scheme", cl->scheme, "caFile",
	                 cl->ca_file, "adminCertFile", cl->admin_cert, "adminKeyFile",
	                 cl->admin_key, "tokenFile", cl->token_file, "replicas", replicas,
	                 "agents");
}

/* Rewrite the pid of every replica in a document read from disk. */
static void update_pids(const struct dev_cluster *cl)
{
	json_t *replicas = json_object_get(cl->doc, "replicas"), *o;
	size_t i;

	json_array_foreach(replicas, i, o)
	{
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		for (size_t k = 0; k < cl->n; k++)
			if (cl->replicas[k].id == id)
				json_object_set_new(o, "pid", json_integer(cl->replicas[k].pid));
	}
}

int dev_cluster_save(struct dev_cluster *cl, char *err, size_t len)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32], *text;
	bool ok = false;
	FILE *f;

	if (cl->doc == NULL)
		cl->doc = cluster_json(cl);
	else
		update_pids(cl);
	snprintf(path, sizeof path, "%s/cluster.json", cl->dir);
	snprintf(tmp, sizeof tmp, "%s/.cluster.json.tmp", cl->dir);
	if (cl->doc == NULL || (text = json_dumps(cl->doc, JSON_INDENT(2))) == NULL)
		return stsd_errf(err, len, STSD_NOMEM, "cannot encode %s", path);
	if ((f = fopen(tmp, "w")) != NULL) {
		ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
		ok = fclose(f) == 0 && ok && rename(tmp, path) == 0;
	}
	free(text);
	if (!ok) {
		unlink(tmp);
		return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return STSD_OK;
}

static bool copy_string(json_t *o, const char *key, char *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL || strlen(s) >= len)
		return false;
	strcpy(out, s);
	return true;
}

/* The optional top-level string key into out ("" when absent); false when not a string or too
 * long. */
static bool copy_optional(json_t *doc, const char *key, char *out, size_t len)
{
	out[0] = '\0';
	return json_object_get(doc, key) == NULL || copy_string(doc, key, out, len);
}

/* scheme and credential paths; a cluster without them predates TLS (plain http). */
static int parse_credentials(struct dev_cluster *cl, const char *path, char *err, size_t len)
{
	if (!copy_optional(cl->doc, "scheme", cl->scheme, sizeof cl->scheme) ||
	    !copy_optional(cl->doc, "caFile", cl->ca_file, sizeof cl->ca_file) ||
	    !copy_optional(cl->doc, "adminCertFile", cl->admin_cert, sizeof cl->admin_cert) ||
	    !copy_optional(cl->doc, "adminKeyFile", cl->admin_key, sizeof cl->admin_key) ||
	    !copy_optional(cl->doc, "tokenFile", cl->token_file, sizeof cl->token_file))
		return stsd_errf(
		    err, len, STSD_CORRUPT,
		    "%s: scheme, caFile, adminCertFile, adminKeyFile or tokenFile is not "
		    "a string",
		    path);
	if (cl->scheme[0] != '\0' && strcmp(cl->scheme, "http") != 0 &&
	    strcmp(cl->scheme, "https") != 0)
		return stsd_errf(err, len, STSD_CORRUPT,
		                 "%s: scheme \"%s\" is neither http nor https", path, cl->scheme);
	if (dev_cluster_tls(cl) && cl->ca_file[0] == '\0')
		return stsd_errf(err, len, STSD_CORRUPT, "%s: scheme https without caFile", path);
	return STSD_OK;
}

static void free_argv(char **argv)
{
	for (size_t k = 0; argv != NULL && argv[k] != NULL; k++)
		free(argv[k]);
	free(argv);
}

/* The "args" array as a NULL-terminated argv; NULL when absent or not all strings. */
static char **argv_from(json_t *a)
{
	size_t n = json_array_size(a);
	char **argv;

	if (n == 0 || (argv = calloc(n + 1, sizeof *argv)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s == NULL || (argv[i] = strdup(s)) == NULL) {
			free_argv(argv);
			return NULL;
		}
	}
	return argv;
}

static bool parse_replica(json_t *o, struct dev_replica *r)
{
	json_t *id = json_object_get(o, "id"), *pid = json_object_get(o, "pid");

	if (!json_is_integer(id) || !json_is_integer(pid) ||
	    !copy_string(o, "raftAddress", r->raft_address, sizeof r->raft_address) ||
	    !copy_string(o, "apiAddress", r->api_address, sizeof r->api_address) ||
	    !copy_string(o, "dataDir", r->data_dir, sizeof r->data_dir) ||
	    !copy_string(o, "log", r->log, sizeof r->log))
		return false;
	r->id = (int)json_integer_value(id);
	r->pid = (pid_t)json_integer_value(pid);
	r->argv = argv_from(json_object_get(o, "args")); /* optional: only restart needs it */
	return true;
}

int dev_cluster_load(const char *dir, struct dev_cluster *cl, char *err, size_t len)
{
	char path[PATH_MAX + 32];
	json_error_t e;
	json_t *replicas;

	snprintf(cl->dir, sizeof cl->dir, "%s", dir);
	snprintf(path, sizeof path, "%s/cluster.json", dir);
	if (access(path, F_OK) != 0)
		return stsd_errf(err, len, STSD_NOTFOUND,
		                 "%s: no cluster.json (not a directory made by stsctl dev up?)",
		                 dir);
	if ((cl->doc = json_load_file(path, 0, &e)) == NULL)
		return stsd_errf(err, len, STSD_CORRUPT, "%s: line %d: %s", path, e.line, e.text);
	if (parse_credentials(cl, path, err, len) != STSD_OK)
		return STSD_CORRUPT;
	replicas = json_object_get(cl->doc, "replicas");
	if (!json_is_array(replicas) || json_array_size(replicas) == 0)
		return stsd_errf(err, len, STSD_CORRUPT, "%s: no \"replicas\" array", path);
	if ((cl->replicas = calloc(json_array_size(replicas), sizeof *cl->replicas)) == NULL)
		return stsd_errf(err, len, STSD_NOMEM, "out of memory");
	for (; cl->n < json_array_size(replicas); cl->n++)
		if (!parse_replica(json_array_get(replicas, cl->n), &cl->replicas[cl->n]))
			return stsd_errf(err, len, STSD_CORRUPT,
			                 "%s: replica %zu lacks id, pid, raftAddress, apiAddress, "
			                 "dataDir or log",
			                 path, cl->n + 1);
	return STSD_OK;
}

struct dev_replica *dev_cluster_find(struct dev_cluster *cl, int id)
{
	for (size_t i = 0; i < cl->n; i++)
		if (cl->replicas[i].id == id)
			return &cl->replicas[i];
	return NULL;
}

void dev_cluster_free(struct dev_cluster *cl)
{
	for (size_t i = 0; i < cl->n; i++)
		free_argv(cl->replicas[i].argv);
	free(cl->replicas);
	json_decref(cl->doc);
	memset(cl, 0, sizeof *cl);
}

/* PEM file at path as one base64 line (malloc'd), or NULL with the reason in err. */
static char *file_base64(const char *path, char *err, size_t len)
{
	size_t n;
	char *pem = pki_read_file(path, &n), *out;

	if (pem == NULL) {
		stsd_errf(err, len, STSD_IO, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((out = malloc(4 * (n / 3 + 1) + 1)) != NULL)
		kubeconfig_base64_encode(pem, n, out);
	else
		stsd_errf(err, len, STSD_NOMEM, "out of memory");
	free(pem);
	return out;
}

/* The cluster and user entries' credentials (empty without TLS). */
static int write_entries(FILE *f, const struct dev_cluster *cl, char *err, size_t len)
{
	char server[128], *ca = NULL, *cert = NULL, *key = NULL;
	bool tls = dev_cluster_tls(cl);

	dev_cluster_url(cl, cl->replicas[0].api_address, server, sizeof server);
	if (tls && ((ca = file_base64(cl->ca_file, err, len)) == NULL ||
	            (cert = file_base64(cl->admin_cert, err, len)) == NULL ||
	            (key = file_base64(cl->admin_key, err, len)) == NULL)) {
		free(ca);
		free(cert);
		return STSD_IO;
	}
	fprintf(f, "clusters:\n- name: stsd-dev\n  cluster:\n    server: %s\n", server);
	if (tls)
		fprintf(f, "    certificate-authority-data: %s\n", ca);
	fprintf(f, "users:\n- name: admin\n  user:%s\n", tls ? "" : " {}");
	if (tls)
		fprintf(f, "    client-certificate-data: %s\n    client-key-data: %s\n", cert, key);
	free(ca);
	free(cert);
	free(key);
	return STSD_OK;
}

/* A new file beside path: mkstemp creates it exclusively (O_EXCL: never an existing file or a
 * symlink planted under the name) and it is set to 0600 before any secret goes in, whatever the
 * umask. Its name into tmp; NULL with errno set on failure. */
static FILE *create_temp(const char *dir, char *tmp, size_t len)
{
	FILE *f;
	int fd, e;

	snprintf(tmp, len, "%s/.kubeconfig.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0)
		return NULL;
	if (fchmod(fd, 0600) == 0 && (f = fdopen(fd, "w")) != NULL)
		return f;
	e = errno;
	close(fd);
	unlink(tmp);
	errno = e;
	return NULL;
}

int dev_write_kubeconfig(const struct dev_cluster *cl, char *err, size_t len)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	FILE *f;
	int rv, e;

	snprintf(path, sizeof path, "%s/kubeconfig", cl->dir);
	/* 0600 and a fresh file: it holds the admin's private key. */
	if ((f = create_temp(cl->dir, tmp, sizeof tmp)) == NULL)
		return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "apiVersion: v1\nkind: Config\n");
	rv = write_entries(f, cl, err, len);
	fprintf(f, "contexts:\n"
	           "- name: stsd-dev\n"
	           "  context:\n"
	           "    cluster: stsd-dev\n"
	           "    user: admin\n"
	           "current-context: stsd-dev\n"
	           "preferences: {}\n");
	e = fflush(f) != 0 || fsync(fileno(f)) != 0 ? errno : 0;
	if (fclose(f) != 0 && e == 0)
		e = errno;
	if (rv == STSD_OK && e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (rv == STSD_OK && e == 0)
		return STSD_OK;
	unlink(tmp);
	return rv != STSD_OK
	           ? rv
	           : stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(e));
}

int dev_find_binary(const char *prog, const char *flag_name, const char *flag, char *out,
                    size_t len, char *err, size_t errlen)
{
	char candidate[PATH_MAX + 16], self[PATH_MAX], real[PATH_MAX];
	const char *from = flag_name, *bin = getenv("STSD_BIN");
	char hint[64] = "set STSD_BIN";
	ssize_t n;

	if (flag_name != NULL)
		snprintf(hint, sizeof hint, "pass %s PATH or set STSD_BIN", flag_name);
	if (flag != NULL) {
		snprintf(candidate, sizeof candidate, "%s", flag);
	} else if (bin != NULL && bin[0] != '\0') {
		snprintf(candidate, sizeof candidate, "%.4000s/%s", bin, prog);
		from = "$STSD_BIN";
	} else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		snprintf(candidate, sizeof candidate, "%.4000s/%s", dirname(self), prog);
		from = "the directory of stsctl";
	} else {
		return stsd_errf(err, errlen, STSD_NOTFOUND, "cannot find %s: %s", prog, hint);
	}
	if (access(candidate, X_OK) != 0 || realpath(candidate, real) == NULL)
		return stsd_errf(err, errlen, STSD_NOTFOUND,
		                 "cannot run %s at %s (from %s): %s; %s", prog, candidate, from,
		                 strerror(errno), hint);
	snprintf(out, len, "%s", real);
	return STSD_OK;
}

int dev_find_stsd(const char *flag, char *out, size_t len, char *err, size_t errlen)
{
	return dev_find_binary("stsd", "--stsd", flag, out, len, err, errlen);
}
