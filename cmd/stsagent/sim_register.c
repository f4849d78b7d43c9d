/* sim_register.c — a simulated node's Node object and its Lease: registration (create, or update
 * of a Node that exists, as a restarted kubelet does), the Ready check, and lease renewal. */
#include <string.h>

#include "errors.h"
#include "log.h"
#include "sim_internal.h"

#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

static json_t *quantities(const struct sim_config *cfg)
{
	return json_pack("{s:s,s:s,s:s}", "cpu", cfg->cpu, "memory", cfg->memory, "pods",
	                 cfg->pods);
}

static json_t *node_condition(const char *type, const char *status, const char *reason,
                              const char *msg, const char *now)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", type, "status", status, "reason",
	                 reason, "message", msg, "lastHeartbeatTime", now, "lastTransitionTime",
	                 now);
}

/* The status a kubelet posts for a healthy node (kubelet nodestatus setters: capacity,
 * allocatable, addresses, the pressure conditions and Ready). */
static json_t *node_status(const struct sim_node *n)
{
	char now[32];

	sim_time_now(now, sizeof now, false);
	return json_pack("{s:o,s:o,s:[o,o,o,o],s:[{s:s,s:s},{s:s,s:s}],s:{s:s,s:s,s:s,s:s,s:s}}",
	                 "capacity", quantities(n->cfg), "allocatable", quantities(n->cfg),
	                 "conditions",
	                 node_condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
	                                "simulated node has sufficient memory available", now),
	                 node_condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
	                                "simulated node has no disk pressure", now),
	                 node_condition("PIDPressure", "False", "KubeletHasSufficientPID",
	                                "simulated node has sufficient PID available", now),
	                 node_condition("Ready", "True", "KubeletReady",
	                                "stsagent (simulated) is posting ready status", now),
	                 "addresses", "type", "InternalIP", "address", SIM_HOST_IP, "type",
	                 "Hostname", "address", n->name, "nodeInfo", "kubeletVersion",
	                 "v0.0.0-stsd-sim", "operatingSystem", "linux", "architecture", "amd64",
	                 "osImage", "stsd simulated node", "containerRuntimeVersion", "sim://0");
}

/* Our labels on node obj; true when one was missing or different. */
static bool set_labels(json_t *obj, const char *name)
{
	json_t *meta = json_object_get(obj, "metadata"), *labels;
	const char *keys[] = {"kubernetes.io/hostname", "kubernetes.io/os"};
	const char *vals[] = {name, "linux"};
	bool changed = false;

	if (!json_is_object(json_object_get(meta, "labels")))
		json_object_set_new(meta, "labels", json_object());
	labels = json_object_get(meta, "labels");
	for (size_t i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(labels, keys[i]));
		if (v != NULL && strcmp(v, vals[i]) == 0)
			continue;
		json_object_set_new(labels, keys[i], json_string(vals[i]));
		changed = true;
	}
	return changed;
}

static void keep_uid(struct sim_node *n, const json_t *obj)
{
	const char *uid =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));

	if (uid != NULL)
		snprintf(n->node_uid, sizeof n->node_uid, "%s", uid);
}

/* PUT .../nodes/NAME/status with our status over obj. */
static int put_status(struct sim_node *n, json_t *obj)
{
	char path[512];
	json_t *got = NULL;
	int rv;

	json_object_set_new(obj, "status", node_status(n));
	snprintf(path, sizeof path, "/api/v1/nodes/%s/status", n->name);
	if ((rv = client_json(n->nc, "PUT", path, obj, &got)) == STSD_OK)
		keep_uid(n, got);
	json_decref(got);
	return rv;
}

/* The Node exists: our labels (main object) and status, as a restarted kubelet updates it. */
static int update_node(struct sim_node *n)
{
	char path[512];
	json_t *obj = NULL, *got = NULL;
	int rv;

	snprintf(path, sizeof path, "/api/v1/nodes/%s", n->name);
	if ((rv = client_get_json(n->nc, path, &obj)) != STSD_OK)
		return rv;
	if (set_labels(obj, n->name)) {
		rv = client_json(n->nc, "PUT", path, obj, &got);
		json_decref(obj);
		obj = got;
	}
	if (rv == STSD_OK)
		rv = put_status(n, obj);
	json_decref(obj);
	return rv;
}

int sim_register(struct sim_node *n)
{
	char q[600];
	json_t *body, *got = NULL;
	int rv;

	body = json_pack("{s:s,s:s,s:{s:s},s:{},s:o}", "apiVersion", "v1", "kind", "Node",
	                 "metadata", "name", n->name, "spec", "status", node_status(n));
	if (body == NULL)
		return STSD_NOMEM;
	set_labels(body, n->name);
	rv = client_json(n->nc, "POST", "/api/v1/nodes", body, &got);
	json_decref(body);
	if (rv == STSD_OK) {
		keep_uid(n, got);
		log_info("sim", "event=node-registered node=%s", n->name);
	} else if (rv == STSD_EXISTS && (rv = update_node(n)) == STSD_OK) {
		log_info("sim", "event=node-updated node=%s", n->name);
	}
	json_decref(got);
	if (rv != STSD_OK)
		log_warn("sim", "event=node-register-error node=%s code=%s msg=%s", n->name,
		         stsd_errname(rv), log_quote(q, sizeof q, client_errmsg(n->nc)));
	return rv;
}

int sim_check_node(struct sim_node *n)
{
	char path[512];
	json_t *obj = NULL, *conds;
	bool ready = false;
	size_t i;
	json_t *c;
	int rv;

	snprintf(path, sizeof path, "/api/v1/nodes/%s", n->name);
	if ((rv = client_get_json(n->nc, path, &obj)) == STSD_NOTFOUND)
		return sim_register(n);
	if (rv != STSD_OK)
		return rv;
	conds = json_object_get(json_object_get(obj, "status"), "conditions");
	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t != NULL && s != NULL && strcmp(t, "Ready") == 0)
			ready = strcmp(s, "True") == 0;
	}
	if (!ready && (rv = put_status(n, obj)) == STSD_OK)
		log_info("sim", "event=node-ready-again node=%s", n->name);
	json_decref(obj);
	return rv;
}

/* A new Lease, owned by the Node as a kubelet's is (so it goes with the Node). */
static json_t *new_lease(const struct sim_node *n)
{
	json_t *l =
	    json_pack("{s:s,s:s,s:{s:s,s:s},s:{}}", "apiVersion", "coordination.k8s.io/v1", "kind",
	              "Lease", "metadata", "name", n->name, "namespace", "kube-node-lease", "spec");

	if (l != NULL && n->node_uid[0] != '\0')
		json_object_set_new(json_object_get(l, "metadata"), "ownerReferences",
		                    json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1", "kind",
		                              "Node", "name", n->name, "uid", n->node_uid));
	return l;
}

static void stamp(const struct sim_node *n, json_t *lease)
{
	char now[32];
	json_t *spec = json_object_get(lease, "spec");

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(lease, "spec", spec);
	}
	sim_time_now(now, sizeof now, true);
	json_object_set_new(spec, "holderIdentity", json_string(n->name));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(n->cfg->lease_s));
	json_object_set_new(spec, "renewTime", json_string(now));
}

/* The lease as the server has it (GET, or POST when there is none): in n->lease. */
static int fetch_lease(struct sim_node *n, bool *created)
{
	char path[512];
	json_t *l;
	int rv;

	snprintf(path, sizeof path, "%s/%s", LEASE_PATH, n->name);
	*created = false;
	if ((rv = client_get_json(n->nc, path, &n->lease)) != STSD_NOTFOUND)
		return rv;
	if ((l = new_lease(n)) == NULL)
		return STSD_NOMEM;
	stamp(n, l);
	rv = client_json(n->nc, "POST", LEASE_PATH, l, &n->lease);
	json_decref(l);
	if (rv == STSD_OK) {
		*created = true;
		log_info("sim", "event=lease-created node=%s duration_s=%ld", n->name,
		         n->cfg->lease_s);
	}
	return rv;
}

int sim_renew_lease(struct sim_node *n)
{
	char path[512], q[600];
	json_t *got = NULL;
	bool created = false;
	int rv = STSD_OK;

	if (n->lease == NULL && (rv = fetch_lease(n, &created)) != STSD_OK)
		goto fail;
	if (created)
		return STSD_OK;
	stamp(n, n->lease);
	snprintf(path, sizeof path, "%s/%s", LEASE_PATH, n->name);
	if ((rv = client_json(n->nc, "PUT", path, n->lease, &got)) != STSD_OK)
		goto fail;
	json_decref(n->lease);
	n->lease = got;
	log_debug("sim", "event=lease-renewed node=%s", n->name);
	return STSD_OK;
fail:
	json_decref(n->lease);
	n->lease = NULL; /* read it again next time (a conflict: someone else wrote it) */
	log_warn("sim", "event=lease-renew-failed node=%s code=%s msg=%s", n->name,
	         stsd_errname(rv), log_quote(q, sizeof q, client_errmsg(n->nc)));
	return rv;
}
