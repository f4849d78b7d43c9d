/* validate_podspec.c — defaults and rules of a PodSpec (a pod's own or a template's): volumes,
 * the container lists, scheduling constraints and pod-level settings, after kube-apiserver
 * (pkg/apis/core/v1/defaults.go SetDefaults_PodSpec and friends; pkg/apis/core/validation/
 * validation.go ValidatePodSpec, ValidateVolumes, ValidateTolerations, validateAffinity). */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "validate_util.h"

/* ---- Defaults ---------------------------------------------------------------------------------
 */

static void volume_defaults(json_t *vol)
{
	static const char *const moded[] = {"secret", "configMap", "downwardAPI", "projected",
	                                    NULL};
	static const char *const sources[] = {"hostPath",
	                                      "emptyDir",
	                                      "gcePersistentDisk",
	                                      "awsElasticBlockStore",
	                                      "gitRepo",
	                                      "secret",
	                                      "nfs",
	                                      "iscsi",
	                                      "glusterfs",
	                                      "persistentVolumeClaim",
	                                      "rbd",
	                                      "flexVolume",
	                                      "cinder",
	                                      "cephfs",
	                                      "flocker",
	                                      "downwardAPI",
	                                      "fc",
	                                      "azureFile",
	                                      "configMap",
	                                      "vsphereVolume",
	                                      "quobyte",
	                                      "azureDisk",
	                                      "photonPersistentDisk",
	                                      "projected",
	                                      "portworxVolume",
	                                      "scaleIO",
	                                      "storageos",
	                                      "csi",
	                                      "ephemeral",
	                                      "image",
	                                      NULL};
	bool any = false;

	if (!json_is_object(vol))
		return;
	for (size_t i = 0; sources[i]; i++)
		any = any || v_has(vol, sources[i]);
	if (!any) /* SetDefaults_Volume: no source means an emptyDir */
		json_object_set_new(vol, "emptyDir", json_object());
	for (size_t i = 0; moded[i]; i++)
		v_default_int(v_obj(vol, moded[i]), "defaultMode", 0644);
	if (v_obj(vol, "hostPath"))
		v_default_str(v_obj(vol, "hostPath"), "type", "");
}

static void host_network_ports(json_t *containers)
{
	size_t i, j;
	json_t *c, *p;

	json_array_foreach(containers, i, c)
	{
		json_array_foreach(v_arr(c, "ports"), j, p)
		{
			int64_t port;
			if (v_int(p, "containerPort", &port) && !v_has(p, "hostPort"))
				json_object_set_new(p, "hostPort", json_integer(port));
		}
	}
}

void api_podspec_defaults(json_t *spec)
{
	static const char *const lists[] = {"containers", "initContainers", NULL};
	size_t i;
	json_t *v;

	if (!json_is_object(spec))
		return;
	v_default_str(spec, "dnsPolicy", "ClusterFirst");
	v_default_str(spec, "restartPolicy", "Always");
	v_default_int(spec, "terminationGracePeriodSeconds", 30);
	v_default_str(spec, "schedulerName", "default-scheduler");
	v_default_obj(spec, "securityContext");
	for (size_t l = 0; lists[l]; l++) {
		json_array_foreach(v_arr(spec, lists[l]), i, v) v_container_defaults(v);
		if (json_is_true(json_object_get(spec, "hostNetwork")))
			host_network_ports(v_arr(spec, lists[l]));
	}
	json_array_foreach(v_arr(spec, "volumes"), i, v) volume_defaults(v);
}

/* ---- Volumes ----------------------------------------------------------------------------------
 */

static void file_mode(const json_t *obj, const char *key, const char *path, struct api_invalid *inv)
{
	int64_t mode;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.%s", path, key);
	if (v_int(obj, key, &mode) && (mode < 0 || mode > 0777))
		v_invalid_int(inv, at, mode,
		              "must be a number between 0 and 0777 (octal), both inclusive");
}

static void required_str(const json_t *obj, const char *key, const char *path,
                         struct api_invalid *inv)
{
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.%s", path, key);
	if (v_str_empty(obj, key))
		v_required(inv, at, "");
}

static void items(const json_t *src, const char *path, struct api_invalid *inv)
{
	json_t *it;
	size_t i;
	char at[V_PATH];

	json_array_foreach(v_arr(src, "items"), i, it)
	{
		v_pathf(at, sizeof at, "%s.items[%zu]", path, i);
		required_str(it, "key", at, inv);
		required_str(it, "path", at, inv);
		file_mode(it, "mode", at, inv);
	}
}

/* The source's own rules (the common sources in depth; the rest need only be objects). */
static void source_rules(const char *kind, const json_t *src, const char *path,
                         struct api_invalid *inv)
{
	char at[V_PATH];

	if (strcmp(kind, "hostPath") == 0) {
		static const char *const types[] = {
		    "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
		    "File", "FileOrCreate", "Socket",     NULL};
		const char *type = v_str(src, "type");
		required_str(src, "path", path, inv);
		v_pathf(at, sizeof at, "%s.type", path);
		if (type && !v_one_of(type, types))
			v_unsupported(inv, at, type, types);
	} else if (strcmp(kind, "emptyDir") == 0) {
		struct api_quantity q;
		json_t *limit = json_object_get(src, "sizeLimit");
		v_pathf(at, sizeof at, "%s.sizeLimit", path);
		if (limit && !json_is_null(limit) &&
		    (api_quantity_from_json(limit, &q) != 0 || api_quantity_sign(&q) < 0))
			v_forbidden(inv, at, "SizeLimit field must be a valid resource quantity");
	} else if (strcmp(kind, "secret") == 0 || strcmp(kind, "configMap") == 0) {
		required_str(src, kind[0] == 's' ? "secretName" : "name", path, inv);
		file_mode(src, "defaultMode", path, inv);
		items(src, path, inv);
	} else if (strcmp(kind, "persistentVolumeClaim") == 0) {
		required_str(src, "claimName", path, inv);
	} else if (strcmp(kind, "nfs") == 0) {
		const char *p = v_str(src, "path");
		required_str(src, "server", path, inv);
		required_str(src, "path", path, inv);
		v_pathf(at, sizeof at, "%s.path", path);
		if (p == NULL || p[0] != '/')
			v_invalid(inv, at, p ? p : "", "must be an absolute path");
	} else if (strcmp(kind, "downwardAPI") == 0 || strcmp(kind, "projected") == 0) {
		file_mode(src, "defaultMode", path, inv);
	} else if (strcmp(kind, "csi") == 0) {
		required_str(src, "driver", path, inv);
	}
}

/* validateVolumeSource: exactly one source, checked in upstream's order. */
static void volume_source(const json_t *vol, const char *path, struct api_invalid *inv)
{
	static const char *const order[] = {"emptyDir",
	                                    "hostPath",
	                                    "gitRepo",
	                                    "gcePersistentDisk",
	                                    "awsElasticBlockStore",
	                                    "secret",
	                                    "nfs",
	                                    "iscsi",
	                                    "glusterfs",
	                                    "flocker",
	                                    "persistentVolumeClaim",
	                                    "rbd",
	                                    "cinder",
	                                    "cephfs",
	                                    "quobyte",
	                                    "downwardAPI",
	                                    "fc",
	                                    "flexVolume",
	                                    "configMap",
	                                    "azureFile",
	                                    "vsphereVolume",
	                                    "photonPersistentDisk",
	                                    "portworxVolume",
	                                    "azureDisk",
	                                    "storageos",
	                                    "projected",
	                                    "scaleIO",
	                                    "csi",
	                                    "ephemeral",
	                                    "image",
	                                    NULL};
	char at[V_PATH];
	int n = 0;

	for (size_t i = 0; order[i]; i++) {
		json_t *src = json_object_get(vol, order[i]);
		if (src == NULL || json_is_null(src))
			continue;
		v_pathf(at, sizeof at, "%s.%s", path, order[i]);
		if (n++ > 0)
			v_forbidden(inv, at, "may not specify more than 1 volume type");
		else
			source_rules(order[i], src, at, inv);
	}
	if (n == 0)
		v_required(inv, path, "must specify a volume type");
}

/* Validate spec.volumes; valid names go into names (an object used as a set). */
static void volumes(const json_t *spec, const char *path, json_t *names, struct api_invalid *inv)
{
	json_t *vol;
	size_t i;
	char at[V_PATH], np[V_PATH];

	json_array_foreach(v_arr(spec, "volumes"), i, vol)
	{
		const char *name = v_str(vol, "name");
		size_t before = inv->n;
		v_pathf(at, sizeof at, "%s.volumes[%zu]", path, i);
		v_pathf(np, sizeof np, "%s.name", at);
		volume_source(vol, at, inv);
		if (name == NULL || *name == '\0')
			v_required(inv, np, "");
		else
			v_dns_label(inv, np, name);
		if (name && json_object_get(names, name))
			v_duplicate(inv, np, name);
		if (inv->n == before && name)
			json_object_set_new(names, name, json_true());
	}
}

/* ---- Containers -------------------------------------------------------------------------------
 */

static void host_ports(const json_t *list, const char *path, bool each, struct api_invalid *inv)
{
	json_t *seen = json_object(), *c, *p;
	size_t i, j;
	char key[128], at[V_PATH];

	json_array_foreach(list, i, c)
	{
		if (each)
			json_object_clear(seen);
		json_array_foreach(v_arr(c, "ports"), j, p)
		{
			int64_t hp = 0;
			const char *proto = v_str(p, "protocol"), *ip = v_str(p, "hostIP");
			if (!v_int(p, "hostPort", &hp) || hp == 0)
				continue;
			snprintf(key, sizeof key, "%s/%s/%lld", proto ? proto : "", ip ? ip : "",
			         (long long)hp);
			v_pathf(at, sizeof at, "%s[%zu].ports[%zu].hostPort", path, i, j);
			if (json_object_get(seen, key))
				v_duplicate(inv, at, key);
			json_object_set_new(seen, key, json_true());
		}
	}
	json_decref(seen);
}

static void containers(json_t *spec, const char *path, const json_t *vols, bool pod,
                       struct api_invalid *inv)
{
	json_t *list = v_arr(spec, "containers"), *c, *names = json_object();
	int64_t grace = 30;
	size_t i;
	char at[V_PATH];

	v_int(spec, "terminationGracePeriodSeconds", &grace);
	v_pathf(at, sizeof at, "%s.containers", path);
	if (json_array_size(list) == 0)
		v_required(inv, at, "");
	json_array_foreach(list, i, c)
	{
		const char *name = v_str(c, "name");
		v_pathf(at, sizeof at, "%s.containers[%zu]", path, i);
		v_container(c, at, vols, pod, false, grace, inv);
		v_pathf(at, sizeof at, "%s.containers[%zu].name", path, i);
		if (name && json_object_get(names, name))
			v_duplicate(inv, at, name);
		else if (name)
			json_object_set_new(names, name, json_true());
	}
	v_pathf(at, sizeof at, "%s.containers", path);
	host_ports(list, at, false, inv);
	/* Init containers: names unique across both lists; host ports per container (they run
	 * one by one). */
	json_array_foreach(v_arr(spec, "initContainers"), i, c)
	{
		const char *name = v_str(c, "name");
		v_pathf(at, sizeof at, "%s.initContainers[%zu]", path, i);
		v_container(c, at, vols, pod, true, grace, inv);
		v_pathf(at, sizeof at, "%s.initContainers[%zu].name", path, i);
		if (name && json_object_get(names, name))
			v_duplicate(inv, at, name);
		else if (name && *name)
			json_object_set_new(names, name, json_true());
	}
	v_pathf(at, sizeof at, "%s.initContainers", path);
	host_ports(v_arr(spec, "initContainers"), at, true, inv);
	json_decref(names);
}

static void host_network(const json_t *spec, const char *path, bool pod, struct api_invalid *inv)
{
	json_t *c, *p;
	size_t i, j;
	char at[V_PATH];

	if (!json_is_true(json_object_get(spec, "hostNetwork")))
		return;
	json_array_foreach(v_arr(spec, "containers"), i, c)
	{
		json_array_foreach(v_arr(c, "ports"), j, p)
		{
			int64_t hp = 0, cp = 0;
			v_int(p, "hostPort", &hp);
			v_int(p, "containerPort", &cp);
			v_pathf(at, sizeof at, "%s.containers[%zu].ports[%zu].hostPort", path, i,
			        j);
			if ((pod || hp != 0) && hp != cp)
				v_invalid_int(
				    inv, at, hp,
				    "must match `containerPort` when `hostNetwork` is true");
		}
	}
}

/* ---- Scheduling -------------------------------------------------------------------------------
 */

static void tolerations(const json_t *spec, const char *path, struct api_invalid *inv)
{
	static const char *const ops[] = {"Equal", "Exists", NULL};
	static const char *const effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};
	json_t *t;
	size_t i;
	char at[V_PATH];

	json_array_foreach(v_arr(spec, "tolerations"), i, t)
	{
		const char *key = v_str(t, "key"), *op = v_str(t, "operator");
		const char *value = v_str(t, "value"), *effect = v_str(t, "effect");
		bool exists = op && strcmp(op, "Exists") == 0;

		v_pathf(at, sizeof at, "%s[%zu].key", path, i);
		if (key && *key)
			v_qualified_name(inv, at, key);
		v_pathf(at, sizeof at, "%s[%zu].operator", path, i);
		if ((key == NULL || *key == '\0') && !exists)
			v_invalid(
			    inv, at, op ? op : "",
			    "operator must be Exists when `key` is empty, which means \"match all "
			    "values and all keys\"");
		if (op == NULL || *op == '\0' || strcmp(op, "Equal") == 0) {
			if (value)
				v_label_value(inv, at, value);
		} else if (exists && value && *value) {
			v_invalid_raw(inv, at, "core.Toleration{...}",
			              "value must be empty when `operator` is 'Exists'");
		} else if (!exists) {
			v_unsupported(inv, at, op, ops);
		}
		v_pathf(at, sizeof at, "%s[%zu].effect", path, i);
		if (v_has(t, "tolerationSeconds") &&
		    (effect == NULL || strcmp(effect, "NoExecute")))
			v_invalid(inv, at, effect ? effect : "",
			          "effect must be 'NoExecute' when `tolerationSeconds` is set");
		if (effect && *effect && !v_one_of(effect, effects))
			v_unsupported(inv, at, effect, effects);
	}
}

static void node_selector_term(const json_t *term, const char *path, struct api_invalid *inv)
{
	json_t *req;
	size_t i;
	char at[V_PATH], p[V_PATH];

	json_array_foreach(v_arr(term, "matchExpressions"), i, req)
	{
		const char *op = v_str(req, "operator"), *key = v_str(req, "key");
		size_t n = json_array_size(v_arr(req, "values"));
		v_pathf(at, sizeof at, "%s.matchExpressions[%zu]", path, i);
		v_pathf(p, sizeof p, "%s.values", at);
		if (op && (!strcmp(op, "In") || !strcmp(op, "NotIn"))) {
			if (n == 0)
				v_required(inv, p,
				           "must be specified when `operator` is 'In' or 'NotIn'");
		} else if (op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"))) {
			if (n > 0)
				v_forbidden(inv, p,
				            "may not be specified when `operator` is 'Exists' or "
				            "'DoesNotExist'");
		} else if (op && (!strcmp(op, "Gt") || !strcmp(op, "Lt"))) {
			if (n != 1)
				v_required(
				    inv, p,
				    "must be specified single value when `operator` is 'Lt' or "
				    "'Gt'");
		} else {
			v_pathf(p, sizeof p, "%s.operator", at);
			v_invalid(inv, p, op ? op : "", "not a valid selector operator");
		}
		v_pathf(p, sizeof p, "%s.key", at);
		v_qualified_name(inv, p, key ? key : "");
	}
}

static void node_affinity(const json_t *na, const char *path, struct api_invalid *inv)
{
	json_t *req = v_obj(na, "requiredDuringSchedulingIgnoredDuringExecution"), *t;
	size_t i;
	char at[V_PATH];

	if (req) {
		v_pathf(at, sizeof at,
		        "%s.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
		        path);
		if (json_array_size(v_arr(req, "nodeSelectorTerms")) == 0)
			v_required(inv, at, "must have at least one node selector term");
		json_array_foreach(v_arr(req, "nodeSelectorTerms"), i, t)
		{
			char tp[V_PATH];
			v_pathf(tp, sizeof tp, "%s[%zu]", at, i);
			node_selector_term(t, tp, inv);
		}
	}
	json_array_foreach(v_arr(na, "preferredDuringSchedulingIgnoredDuringExecution"), i, t)
	{
		int64_t w = 0;
		v_pathf(at, sizeof at, "%s.preferredDuringSchedulingIgnoredDuringExecution[%zu]",
		        path, i);
		char wp[V_PATH];
		v_pathf(wp, sizeof wp, "%s.weight", at);
		v_int(t, "weight", &w);
		if (w <= 0 || w > 100)
			v_invalid_int(inv, wp, w, "must be in the range 1-100");
		v_pathf(wp, sizeof wp, "%s.preference", at);
		node_selector_term(v_obj(t, "preference"), wp, inv);
	}
}

static void pod_affinity_term(const json_t *term, const char *path, struct api_invalid *inv)
{
	const char *tk = v_str(term, "topologyKey");
	json_t *ns;
	size_t i;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.labelSelector", path);
	v_label_selector(inv, at, v_obj(term, "labelSelector"));
	v_pathf(at, sizeof at, "%s.namespaceSelector", path);
	v_label_selector(inv, at, v_obj(term, "namespaceSelector"));
	v_pathf(at, sizeof at, "%s.namespace", path);
	json_array_foreach(v_arr(term, "namespaces"), i, ns)
	{
		if (json_is_string(ns))
			v_dns_label(inv, at, json_string_value(ns));
	}
	v_pathf(at, sizeof at, "%s.topologyKey", path);
	if (tk == NULL || *tk == '\0')
		v_required(inv, at, "can not be empty");
	v_qualified_name(inv, at, tk ? tk : "");
}

static void pod_affinity(const json_t *pa, const char *path, struct api_invalid *inv)
{
	json_t *t;
	size_t i;
	char at[V_PATH], p[V_PATH];

	json_array_foreach(v_arr(pa, "requiredDuringSchedulingIgnoredDuringExecution"), i, t)
	{
		v_pathf(at, sizeof at, "%s.requiredDuringSchedulingIgnoredDuringExecution[%zu]",
		        path, i);
		pod_affinity_term(t, at, inv);
	}
	json_array_foreach(v_arr(pa, "preferredDuringSchedulingIgnoredDuringExecution"), i, t)
	{
		int64_t w = 0;
		v_pathf(at, sizeof at, "%s.preferredDuringSchedulingIgnoredDuringExecution[%zu]",
		        path, i);
		v_pathf(p, sizeof p, "%s.weight", at);
		v_int(t, "weight", &w);
		if (w <= 0 || w > 100)
			v_invalid_int(inv, p, w, "must be in the range 1-100");
		v_pathf(p, sizeof p, "%s.podAffinityTerm", at);
		pod_affinity_term(v_obj(t, "podAffinityTerm"), p, inv);
	}
}

static void affinity(const json_t *spec, const char *path, struct api_invalid *inv)
{
	json_t *aff = v_obj(spec, "affinity");
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.affinity.nodeAffinity", path);
	node_affinity(v_obj(aff, "nodeAffinity"), at, inv);
	v_pathf(at, sizeof at, "%s.affinity.podAffinity", path);
	pod_affinity(v_obj(aff, "podAffinity"), at, inv);
	v_pathf(at, sizeof at, "%s.affinity.podAntiAffinity", path);
	pod_affinity(v_obj(aff, "podAntiAffinity"), at, inv);
}

/* "{topologyKey, whenUnsatisfiable}" of a constraint, or NULL when either is missing. */
static const char *spread_key(const json_t *c, char *buf, size_t len)
{
	const char *tk = v_str(c, "topologyKey"), *wu = v_str(c, "whenUnsatisfiable");

	if (tk == NULL || wu == NULL)
		return NULL;
	snprintf(buf, len, "{%s, %s}", tk, wu);
	return buf;
}

static void spread(const json_t *spec, const char *path, struct api_invalid *inv)
{
	static const char *const actions[] = {"DoNotSchedule", "ScheduleAnyway", NULL};
	json_t *list = v_arr(spec, "topologySpreadConstraints"), *c, *later = json_object();
	size_t i;
	char at[V_PATH], key[300];

	/* How many constraints carry each pair: one seen again later is a duplicate (upstream
	 * reports the earlier one), counted in one pass rather than pair by pair. */
	json_array_foreach(list, i, c)
	{
		if (spread_key(c, key, sizeof key))
			json_object_set_new(
			    later, key,
			    json_integer(json_integer_value(json_object_get(later, key)) + 1));
	}
	json_array_foreach(list, i, c)
	{
		const char *tk = v_str(c, "topologyKey"), *wu = v_str(c, "whenUnsatisfiable");
		int64_t skew = 0;
		v_int(c, "maxSkew", &skew);
		v_pathf(at, sizeof at, "%s[%zu].maxSkew", path, i);
		if (skew <= 0)
			v_invalid_int(inv, at, skew, "must be greater than zero");
		v_pathf(at, sizeof at, "%s[%zu].topologyKey", path, i);
		if (tk == NULL || *tk == '\0')
			v_required(inv, at, "can not be empty");
		v_pathf(at, sizeof at, "%s[%zu].whenUnsatisfiable", path, i);
		if (!v_one_of(wu, actions))
			v_unsupported(inv, at, wu ? wu : "", actions);
		if (spread_key(c, key, sizeof key)) {
			json_int_t left = json_integer_value(json_object_get(later, key)) - 1;
			json_object_set_new(later, key, json_integer(left));
			v_pathf(at, sizeof at, "%s[%zu].{topologyKey, whenUnsatisfiable}", path, i);
			if (left > 0)
				v_duplicate(inv, at, key);
		}
		v_pathf(at, sizeof at, "%s[%zu].labelSelector", path, i);
		v_label_selector(inv, at, v_obj(c, "labelSelector"));
	}
	json_decref(later);
}

/* ---- Pod-level settings -----------------------------------------------------------------------
 */

static void id_range(const json_t *obj, const char *key, const char *path, struct api_invalid *inv)
{
	int64_t v;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.%s", path, key);
	if (v_int(obj, key, &v) && (v < 0 || v > 2147483647))
		v_invalid_int(inv, at, v, "must be between 0 and 2147483647, inclusive");
}

static void security(const json_t *spec, const char *path, struct api_invalid *inv)
{
	json_t *sc = v_obj(spec, "securityContext"), *g;
	size_t i;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.securityContext", path);
	id_range(sc, "fsGroup", at, inv);
	id_range(sc, "runAsUser", at, inv);
	id_range(sc, "runAsGroup", at, inv);
	json_array_foreach(v_arr(sc, "supplementalGroups"), i, g)
	{
		char gp[V_PATH];
		v_pathf(gp, sizeof gp, "%s.supplementalGroups[%zu]", at, i);
		if (json_is_integer(g) &&
		    (json_integer_value(g) < 0 || json_integer_value(g) > 2147483647))
			v_invalid_int(inv, gp, json_integer_value(g),
			              "must be between 0 and 2147483647, inclusive");
	}
}

static void dns(const json_t *spec, const char *path, struct api_invalid *inv)
{
	static const char *const policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
	                                       "None", NULL};
	const char *policy = v_str(spec, "dnsPolicy");
	json_t *cfg = v_obj(spec, "dnsConfig"), *ns;
	json_t *servers = v_arr(cfg, "nameservers");
	size_t i;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.dnsPolicy", path);
	if (policy == NULL || *policy == '\0')
		v_required(inv, at, "");
	else if (!v_one_of(policy, policies))
		v_unsupported(inv, at, policy, policies);
	v_pathf(at, sizeof at, "%s.dnsConfig", path);
	if (policy && strcmp(policy, "None") == 0 && cfg == NULL)
		v_required(inv, at, "must provide `dnsConfig` when `dnsPolicy` is None");
	else if (policy && strcmp(policy, "None") == 0 && json_array_size(servers) == 0) {
		v_pathf(at, sizeof at, "%s.dnsConfig.nameservers", path);
		v_required(inv, at,
		           "must provide at least one DNS nameserver when `dnsPolicy` is None");
	}
	v_pathf(at, sizeof at, "%s.dnsConfig.nameservers", path);
	if (json_array_size(servers) > 3)
		v_invalid_raw(inv, at, "[...]", "must not have more than 3 nameservers");
	json_array_foreach(servers, i, ns)
	{
		v_pathf(at, sizeof at, "%s.dnsConfig.nameservers[%zu]", path, i);
		v_ip(inv, at, json_is_string(ns) ? json_string_value(ns) : "");
	}
}

static void names(const json_t *spec, const char *path, struct api_invalid *inv)
{
	static const char *const subdomains[] = {"serviceAccountName", "nodeName",
	                                         "priorityClassName", NULL};
	static const char *const labels[] = {"hostname", "subdomain", NULL};
	char at[V_PATH];

	for (size_t i = 0; subdomains[i]; i++) {
		v_pathf(at, sizeof at, "%s.%s", path, subdomains[i]);
		if (!v_str_empty(spec, subdomains[i]))
			v_dns_subdomain(inv, at, v_str(spec, subdomains[i]));
	}
	for (size_t i = 0; labels[i]; i++) {
		v_pathf(at, sizeof at, "%s.%s", path, labels[i]);
		if (!v_str_empty(spec, labels[i]))
			v_dns_label(inv, at, v_str(spec, labels[i]));
	}
}

static void settings(const json_t *spec, const char *path, struct api_invalid *inv)
{
	static const char *const restart[] = {"Always", "OnFailure", "Never", NULL};
	static const char *const preempt[] = {"PreemptLowerPriority", "Never", NULL};
	const char *rp = v_str(spec, "restartPolicy"), *pp = v_str(spec, "preemptionPolicy");
	int64_t ads;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.terminationGracePeriodSeconds", path);
	if (!v_has(spec, "terminationGracePeriodSeconds"))
		v_required(inv, at, "");
	v_pathf(at, sizeof at, "%s.restartPolicy", path);
	if (rp == NULL || *rp == '\0')
		v_required(inv, at, "");
	else if (!v_one_of(rp, restart))
		v_unsupported(inv, at, rp, restart);
	v_pathf(at, sizeof at, "%s.nodeSelector", path);
	v_labels(inv, at, v_obj(spec, "nodeSelector"));
	v_pathf(at, sizeof at, "%s.activeDeadlineSeconds", path);
	if (v_int(spec, "activeDeadlineSeconds", &ads) && (ads < 1 || ads > 2147483647))
		v_invalid_int(inv, at, ads, "must be between 1 and 2147483647, inclusive");
	v_pathf(at, sizeof at, "%s.preemptionPolicy", path);
	if (pp && !v_one_of(pp, preempt))
		v_unsupported(inv, at, pp, preempt);
}

/* ---- Entry points -----------------------------------------------------------------------------
 */

void v_podspec(json_t *spec, const char *path, const json_t *extra_volumes, bool pod,
               struct api_invalid *inv)
{
	json_t *vols = json_object(), *empty = NULL, *name;
	size_t i;
	char at[V_PATH];

	if (!json_is_object(spec))
		spec = empty = json_object();
	volumes(spec, path, vols, inv);
	json_array_foreach(extra_volumes, i, name)
	{
		if (json_is_string(name))
			json_object_set_new(vols, json_string_value(name), json_true());
	}
	containers(spec, path, vols, pod, inv);
	v_pathf(at, sizeof at, "%s.ephemeralContainers", path);
	if (!pod && json_array_size(v_arr(spec, "ephemeralContainers")) > 0)
		v_forbidden(inv, at, "ephemeral containers not allowed in pod template");
	host_network(spec, path, pod, inv);
	settings(spec, path, inv);
	dns(spec, path, inv);
	security(spec, path, inv);
	affinity(spec, path, inv);
	v_pathf(at, sizeof at, "%s.tolerations", path);
	tolerations(spec, at, inv);
	v_pathf(at, sizeof at, "%s.topologySpreadConstraints", path);
	spread(spec, at, inv);
	names(spec, path, inv);
	json_decref(vols);
	json_decref(empty);
}

void api_podspec_validate(json_t *spec, const char *path, struct api_invalid *inv)
{
	v_podspec(spec, path, NULL, false, inv);
}
