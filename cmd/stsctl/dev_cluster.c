/* dev_cluster.c — the record of a dev cluster (DIR/cluster.json), its kubeconfig, and where the
 * stsd binary is. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "errors.h"

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

/* A fresh document for a cluster made by dev up. */
static json_t *cluster_json(const struct dev_cluster *cl)
{
	json_t *replicas = json_array();

	for (size_t i = 0; i < cl->n; i++)
		json_array_append_new(replicas, replica_json(&cl->replicas[i]));
	return json_pack("{s:o,s:[]}", "replicas", replicas, "agents");
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

int dev_write_kubeconfig(const struct dev_cluster *cl, char *err, size_t len)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
	FILE *f = NULL;
	int fd;

	snprintf(path, sizeof path, "%s/kubeconfig", cl->dir);
	snprintf(tmp, sizeof tmp, "%s/.kubeconfig.tmp", cl->dir);
	/* 0600: it will hold credentials. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", tmp, strerror(e));
	}
	/* Plain http and no credentials until the TLS issue; then certificate-authority-data and a
	 * token or client certificate join the cluster and user entries. */
	fprintf(f,
	        "apiVersion: v1\n"
	        "kind: Config\n"
	        "clusters:\n"
	        "- name: stsd-dev\n"
	        "  cluster:\n"
	        "    server: http://%s\n"
	        "users:\n"
	        "- name: admin\n"
	        "  user: {}\n"
	        "contexts:\n"
	        "- name: stsd-dev\n"
	        "  context:\n"
	        "    cluster: stsd-dev\n"
	        "    user: admin\n"
	        "current-context: stsd-dev\n"
	        "preferences: {}\n",
	        cl->replicas[0].api_address);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return stsd_errf(err, len, STSD_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return STSD_OK;
}

int dev_find_stsd(const char *flag, char *out, size_t len, char *err, size_t errlen)
{
	char candidate[PATH_MAX + 16], self[PATH_MAX], real[PATH_MAX];
	const char *from = "--stsd", *bin = getenv("STSD_BIN");
	ssize_t n;

	if (flag != NULL) {
		snprintf(candidate, sizeof candidate, "%s", flag);
	} else if (bin != NULL && bin[0] != '\0') {
		snprintf(candidate, sizeof candidate, "%s/stsd", bin);
		from = "$STSD_BIN";
	} else if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		snprintf(candidate, sizeof candidate, "%s/stsd", dirname(self));
		from = "the directory of stsctl";
	} else {
		return stsd_errf(err, errlen, STSD_NOTFOUND, "cannot find stsd: pass --stsd PATH");
	}
	if (access(candidate, X_OK) != 0 || realpath(candidate, real) == NULL)
		return stsd_errf(err, errlen, STSD_NOTFOUND,
		                 "cannot run stsd at %s (from %s): %s; pass --stsd PATH or set "
		                 "STSD_BIN",
		                 candidate, from, strerror(errno));
	snprintf(out, len, "%s", real);
	return STSD_OK;
}
