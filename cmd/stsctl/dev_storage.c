/* dev_storage.c — the StorageClasses of a dev cluster (`stsctl dev up`), which the seed manifests
 * name: standard (the default class), fast-ssd and encrypted-ssd on stsd.io/local under
 * DIR/volumes, and shared on stsd.io/shared-path under DIR/shared (controller/volume.h). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "dev.h"
#include "errors.h"

#define CLASSES_PATH       "/apis/storage.k8s.io/v1/storageclasses"
#define PROVISIONER_LOCAL  "stsd.io/local"
#define PROVISIONER_SHARED "stsd.io/shared-path"
#define MIN_DEADLINE_MS    5000

struct dev_class {
	const char *name;
	bool shared;      /* stsd.io/shared-path, bound at once; else local, bound with its pod */
	bool default_cls; /* annotated storageclass.kubernetes.io/is-default-class "true" */
};

static const struct dev_class classes[] = {
    {"standard", false, true},
    {"fast-ssd", false, false},
    {"encrypted-ssd", false, false},
    {"shared", true, false},
};

/* The class as dev up creates it; NULL when out of memory. */
static json_t *class_object(const struct dev_class *k, const char *path)
{
	json_t *meta = json_pack("{s:s}", "name", k->name);

	if (meta != NULL && k->default_cls &&
	    json_object_set_new(
	        meta, "annotations",
	        json_pack("{s:s}", "storageclass.kubernetes.io/is-default-class", "true")) != 0) {
		json_decref(meta);
		return NULL;
	}
	/* Local volumes wait for their pod's node (WaitForFirstConsumer), as upstream's local
	 * volumes do; shared ones can be made at once. */
	return json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:{s:s}}", "apiVersion", "storage.k8s.io/v1",
	                 "kind", "StorageClass", "metadata", meta, "provisioner",
	                 k->shared ? PROVISIONER_SHARED : PROVISIONER_LOCAL, "reclaimPolicy",
	                 "Delete", "volumeBindingMode",
	                 k->shared ? "Immediate" : "WaitForFirstConsumer", "parameters", "path",
	                 path);
}

/* DIR/volumes and DIR/shared, so that the classes name directories that exist (agents create a
 * volume's own directory beneath). */
static bool make_volume_dirs(const struct dev_cluster *cl, char *local, char *shared, size_t len)
{
	snprintf(local, len, "%.4000s/volumes", cl->dir);
	snprintf(shared, len, "%.4000s/shared", cl->dir);
	if ((mkdir(local, 0755) != 0 && errno != EEXIST) ||
	    (mkdir(shared, 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "stsctl dev up: cannot create the volume directories in %s: %s\n",
		        cl->dir, strerror(errno));
		return false;
	}
	return true;
}

/* A client of every replica with the admin certificate; requests retry (a 503 while a leader
 * is being elected included) until deadline_ms. */
static struct client *classes_client(const struct dev_cluster *cl, long deadline_ms)
{
	struct client_options o = {.timeout_ms = 5000, .deadline_ms = deadline_ms};
	char urls[DEV_MAX_REPLICAS][96], err[256];
	const char *u[DEV_MAX_REPLICAS];
	size_t n = cl->n < DEV_MAX_REPLICAS ? cl->n : DEV_MAX_REPLICAS;
	struct client *c = NULL;

	dev_cluster_client_options(cl, &o);
	for (size_t i = 0; i < n; i++) {
		dev_cluster_url(cl, cl->replicas[i].api_address, urls[i], sizeof urls[i]);
		u[i] = urls[i];
	}
	if (client_create(u, n, &o, &c, err, sizeof err) != STSD_OK)
		fprintf(stderr, "stsctl dev up: %s\n", err);
	return c;
}

/* Create one class; one that exists already (dev up again, or a retried POST that had been
 * applied) is fine as it is. */
static bool create_class(struct client *c, const struct dev_class *k, const char *path)
{
	json_t *obj = class_object(k, path);
	int rc = obj ? client_json(c, "POST", CLASSES_PATH, obj, NULL) : STSD_NOMEM;

	json_decref(obj);
	if (rc == STSD_OK || rc == STSD_EXISTS)
		return true;
	fprintf(stderr, "stsctl dev up: cannot create StorageClass %s: %s\n", k->name,
	        rc == STSD_NOMEM ? "out of memory" : client_errmsg(c));
	return false;
}

bool dev_storage_up(const struct dev_cluster *cl, long timeout_ms)
{
	char local[PATH_MAX + 16], shared[PATH_MAX + 16];
	struct client *c;
	bool ok;

	if (cl->n == 0 || !make_volume_dirs(cl, local, shared, sizeof local))
		return false;
	c = classes_client(cl, timeout_ms > MIN_DEADLINE_MS ? timeout_ms : MIN_DEADLINE_MS);
	ok = c != NULL;
	for (size_t i = 0; ok && i < sizeof classes / sizeof classes[0]; i++)
		ok = create_class(c, &classes[i], classes[i].shared ? shared : local);
	client_destroy(c);
	if (ok)
		printf("storage classes: standard (default), fast-ssd, encrypted-ssd (%s, %s), "
		       "shared (%s, %s)\n",
		       PROVISIONER_LOCAL, local, PROVISIONER_SHARED, shared);
	return ok;
}
