/* validate_storage.c — PersistentVolumeClaims (and the claim spec of StatefulSet templates),
 * PersistentVolumes and StorageClasses: defaults of pkg/apis/core/v1/defaults.go and
 * pkg/apis/storage/v1/defaults.go, rules of pkg/apis/core/validation/validation.go
 * (ValidatePersistentVolumeClaimSpec, ValidatePersistentVolumeClaimUpdate,
 * ValidatePersistentVolumeSpec) and pkg/apis/storage/validation/validation.go. */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "validate_util.h"

static const char *const access_modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                           "ReadWriteOncePod", NULL};
static const char *const volume_modes[] = {"Block", "Filesystem", NULL};

/* "...\n  spec.x" for each top-level member of a and b that differs (upstream shows a go-cmp diff).
 */
static void differing(const json_t *a, const json_t *b, char *msg, size_t len)
{
	size_t off = strlen(msg);
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)a, k, v)
	{
		if (off < len && !v_semantic_equal(v, json_object_get(b, k)))
			off += (size_t)snprintf(msg + off, len - off, "\n  spec.%s", k);
	}
	json_object_foreach((json_t *)b, k, v)
	{
		if (off < len && !json_object_get(a, k) && !v_semantic_equal(v, NULL))
			off += (size_t)snprintf(msg + off, len - off, "\n  spec.%s", k);
	}
}

static void modes(const json_t *spec, const char *path, const char *required,
                  struct api_invalid *inv)
{
	json_t *list = v_arr(spec, "accessModes"), *m;
	bool rwop = false, other = false;
	char at[V_PATH];
	size_t i;

	v_pathf(at, sizeof at, "%s.accessModes", path);
	if (json_array_size(list) == 0)
		v_required(inv, at, required);
	json_array_foreach(list, i, m)
	{
		const char *mode = json_is_string(m) ? json_string_value(m) : "";
		if (!v_one_of(mode, access_modes))
			v_unsupported(inv, at, mode, access_modes);
		else if (strcmp(mode, "ReadWriteOncePod") == 0)
			rwop = true;
		else
			other = true;
	}
	if (rwop && other)
		v_forbidden(inv, at, "may not use ReadWriteOncePod with other access modes");
}

/* ---- Claims -----------------------------------------------------------------------------------
 */

void v_pvc_spec_defaults(json_t *spec)
{
	v_default_str(spec, "volumeMode", "Filesystem");
}

static void storage_request(const json_t *spec, const char *path, struct api_invalid *inv)
{
	json_t *v = json_object_get(v_obj(v_obj(spec, "resources"), "requests"), "storage");
	struct api_quantity q;
	char at[V_PATH], text[128];

	v_pathf(at, sizeof at, "%s.resources[storage]", path);
	if (v == NULL || json_is_null(v))
		v_required(inv, at, "");
	else if (v_quantity(inv, at, v, &q) && api_quantity_sign(&q) <= 0)
		v_invalid(inv, at, v_quantity_text(v, text, sizeof text),
		          "must be greater than zero");
}

static void data_source(const json_t *ds, const char *path, struct api_invalid *inv)
{
	const char *kind = v_str(ds, "kind");
	char at[V_PATH];

	if (ds == NULL)
		return;
	v_pathf(at, sizeof at, "%s.name", path);
	if (v_str_empty(ds, "name"))
		v_required(inv, at, "");
	v_pathf(at, sizeof at, "%s.kind", path);
	if (kind == NULL || *kind == '\0')
		v_required(inv, at, "");
	if (v_str_empty(ds, "apiGroup") && (kind == NULL || strcmp(kind, "PersistentVolumeClaim")))
		v_invalid(inv, path, kind ? kind : "",
		          "must be 'PersistentVolumeClaim' when referencing the default apiGroup");
}

void v_pvc_spec(json_t *spec, const char *path, struct api_invalid *inv)
{
	const char *mode = v_str(spec, "volumeMode"), *sc = v_str(spec, "storageClassName");
	char at[V_PATH];

	modes(spec, path, "at least 1 access mode is required", inv);
	v_pathf(at, sizeof at, "%s.selector", path);
	v_label_selector(inv, at, v_obj(spec, "selector"));
	storage_request(spec, path, inv);
	v_pathf(at, sizeof at, "%s.storageClassName", path);
	if (sc && *sc)
		v_dns_subdomain(inv, at, sc);
	v_pathf(at, sizeof at, "%s.volumeMode", path);
	if (mode && !v_one_of(mode, volume_modes))
		v_unsupported(inv, at, mode, volume_modes);
	v_pathf(at, sizeof at, "%s.dataSource", path);
	data_source(v_obj(spec, "dataSource"), at, inv);
	v_pathf(at, sizeof at, "%s.dataSourceRef", path);
	data_source(v_obj(spec, "dataSourceRef"), at, inv);
}

void api_pvc_defaults(json_t *obj)
{
	v_pvc_spec_defaults(v_default_obj(obj, "spec"));
	v_default_str(v_default_obj(obj, "status"), "phase", "Pending");
}

static void set_or_del(json_t *obj, const char *key, json_t *v)
{
	if (!json_is_object(obj))
		return;
	if (v)
		json_object_set(obj, key, v);
	else
		json_object_del(obj, key);
}

static void pvc_update(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *spec = v_obj(obj, "spec"), *ospec = v_obj(old, "spec");
	json_t *n = spec ? json_deep_copy(spec) : json_object(), *o = json_deep_copy(ospec);
	json_t *nsize, *osize;
	struct api_quantity nq, oq;
	char msg[480];
	const char *phase = v_str(v_obj(obj, "status"), "phase");

	if (o == NULL)
		o = json_object();
	/* The volume controller binds the claim once; a class may be set where there was none. */
	if (v_str_empty(o, "volumeName"))
		set_or_del(o, "volumeName", json_object_get(n, "volumeName"));
	if (!v_has(o, "storageClassName"))
		set_or_del(n, "storageClassName", NULL);
	/* Expansion: a bound claim's requested storage may change. */
	nsize = json_object_get(v_obj(v_obj(spec, "resources"), "requests"), "storage");
	osize = json_object_get(v_obj(v_obj(ospec, "resources"), "requests"), "storage");
	if (phase && strcmp(phase, "Bound") == 0)
		set_or_del(v_obj(v_obj(n, "resources"), "requests"), "storage", osize);
	set_or_del(n, "volumeAttributesClassName", json_object_get(o, "volumeAttributesClassName"));
	if (!v_semantic_equal(n, o)) {
		snprintf(msg, sizeof msg, "%s",
		         "spec is immutable after creation except resources.requests and "
		         "volumeAttributesClassName for bound claims");
		differing(n, o, msg, sizeof msg);
		v_forbidden(inv, "spec", msg);
	}
	if (nsize && osize && api_quantity_from_json(nsize, &nq) == 0 &&
	    api_quantity_from_json(osize, &oq) == 0 && api_quantity_cmp(&nq, &oq) < 0)
		v_forbidden(inv, "spec.resources.requests.storage",
		            "field can not be less than previous value");
	if (!v_semantic_equal(json_object_get(spec, "volumeMode"),
	                      json_object_get(ospec, "volumeMode")))
		v_invalid(inv, "volumeMode",
		          v_str(spec, "volumeMode") ? v_str(spec, "volumeMode") : "",
		          "field is immutable");
	json_decref(n);
	json_decref(o);
}

void api_pvc_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	v_meta(inv, obj);
	v_pvc_spec(v_obj(obj, "spec"), "spec", inv);
	if (old)
		pvc_update(obj, old, inv);
}

/* ---- Volumes ----------------------------------------------------------------------------------
 */

void api_pv_defaults(json_t *obj)
{
	json_t *spec = v_default_obj(obj, "spec");

	v_default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
	v_default_str(spec, "volumeMode", "Filesystem");
	v_default_str(v_default_obj(obj, "status"), "phase", "Pending");
}

static const char *const pv_sources[] = {"hostPath",
                                         "gcePersistentDisk",
                                         "awsElasticBlockStore",
                                         "glusterfs",
                                         "flocker",
                                         "nfs",
                                         "rbd",
                                         "quobyte",
                                         "cephfs",
                                         "iscsi",
                                         "cinder",
                                         "fc",
                                         "flexVolume",
                                         "azureFile",
                                         "vsphereVolume",
                                         "photonPersistentDisk",
                                         "portworxVolume",
                                         "azureDisk",
                                         "scaleIO",
                                         "local",
                                         "storageos",
                                         "csi",
                                         NULL};

static void pv_source(const json_t *spec, struct api_invalid *inv)
{
	char at[V_PATH];
	int n = 0;

	for (size_t i = 0; pv_sources[i]; i++) {
		json_t *src = v_obj(spec, pv_sources[i]);
		if (src == NULL)
			continue;
		v_pathf(at, sizeof at, "spec.%s", pv_sources[i]);
		if (n++ > 0 && strcmp(pv_sources[i], "flexVolume") != 0) {
			v_forbidden(inv, at, "may not specify more than 1 volume type");
			continue;
		}
		if (!strcmp(pv_sources[i], "hostPath") || !strcmp(pv_sources[i], "local")) {
			v_pathf(at, sizeof at, "spec.%s.path", pv_sources[i]);
			if (v_str_empty(src, "path"))
				v_required(inv, at, "");
		}
		if (!strcmp(pv_sources[i], "local") && !v_obj(spec, "nodeAffinity"))
			v_required(inv, "spec.nodeAffinity", "Local volume requires node affinity");
		if (!strcmp(pv_sources[i], "csi") && v_str_empty(src, "driver"))
			v_required(inv, "spec.csi.driver", "");
		if (!strcmp(pv_sources[i], "csi") && v_str_empty(src, "volumeHandle"))
			v_required(inv, "spec.csi.volumeHandle", "");
	}
	if (n == 0)
		v_required(inv, "spec", "must specify a volume type");
}

static void capacity(const json_t *spec, struct api_invalid *inv)
{
	json_t *cap = v_obj(spec, "capacity"), *v;
	const char *k;
	struct api_quantity q;
	char at[V_PATH], text[128];

	if (json_object_size(cap) == 0)
		v_required(inv, "spec.capacity", "");
	if (!json_object_get(cap, "storage") || json_object_size(cap) > 1)
		api_invalid_add(inv, "FieldValueNotSupported", "spec.capacity",
		                "Unsupported value: core.ResourceList{...}: supported values: "
		                "\"storage\"");
	json_object_foreach(cap, k, v)
	{
		v_pathf(at, sizeof at, "spec.capacity[%s]", k);
		if (v_quantity(inv, at, v, &q) && api_quantity_sign(&q) <= 0)
			v_invalid(inv, at, v_quantity_text(v, text, sizeof text),
			          "must be greater than zero");
	}
}

void api_pv_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	static const char *const policies[] = {"Delete", "Recycle", "Retain", NULL};
	json_t *spec = v_obj(obj, "spec");
	const char *rp = v_str(spec, "persistentVolumeReclaimPolicy");
	const char *mode = v_str(spec, "volumeMode"), *sc = v_str(spec, "storageClassName");

	v_meta(inv, obj);
	modes(spec, "spec", "", inv);
	capacity(spec, inv);
	if (rp && *rp && !v_one_of(rp, policies))
		v_unsupported(inv, "spec.persistentVolumeReclaimPolicy", rp, policies);
	pv_source(spec, inv);
	if (sc && *sc)
		v_dns_subdomain(inv, "spec.storageClassName", sc);
	if (mode && !v_one_of(mode, volume_modes))
		v_unsupported(inv, "spec.volumeMode", mode, volume_modes);
	if (old == NULL)
		return;
	for (size_t i = 0; pv_sources[i]; i++) {
		json_t *o = json_object_get(v_obj(old, "spec"), pv_sources[i]);
		if (!v_semantic_equal(json_object_get(spec, pv_sources[i]), o)) {
			v_forbidden(inv, "spec.persistentvolumesource",
			            "spec.persistentvolumesource is immutable after creation");
			break;
		}
	}
	if (!v_semantic_equal(json_object_get(spec, "volumeMode"),
	                      json_object_get(v_obj(old, "spec"), "volumeMode")))
		v_invalid(inv, "volumeMode", mode ? mode : "", "field is immutable");
}

/* ---- Classes ----------------------------------------------------------------------------------
 */

void api_storageclass_defaults(json_t *obj)
{
	v_default_str(obj, "reclaimPolicy", "Delete");
	v_default_str(obj, "volumeBindingMode", "Immediate");
}

#define PARAMS_MAX_ENTRIES 512
#define PARAMS_MAX_BYTES   (256 * 1024)

static void parameters(const json_t *params, struct api_invalid *inv)
{
	const char *k;
	json_t *v;
	size_t total = 0;

	if (json_object_size(params) > PARAMS_MAX_ENTRIES) {
		v_too_long(inv, "parameters", PARAMS_MAX_ENTRIES);
		return;
	}
	json_object_foreach((json_t *)params, k, v)
	{
		if (*k == '\0')
			v_invalid(inv, "parameters", k, "field can not be empty.");
		total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
	}
	if (total > PARAMS_MAX_BYTES)
		v_too_long(inv, "parameters", PARAMS_MAX_BYTES);
}

static void storageclass_update(json_t *obj, json_t *old, struct api_invalid *inv)
{
	if (!v_semantic_equal(json_object_get(obj, "parameters"),
	                      json_object_get(old, "parameters")))
		v_forbidden(inv, "parameters", "updates to parameters are forbidden.");
	if (!v_semantic_equal(json_object_get(obj, "provisioner"),
	                      json_object_get(old, "provisioner")))
		v_forbidden(inv, "provisioner", "updates to provisioner are forbidden.");
	if (!v_semantic_equal(json_object_get(obj, "reclaimPolicy"),
	                      json_object_get(old, "reclaimPolicy")))
		v_forbidden(inv, "reclaimPolicy", "updates to reclaimPolicy are forbidden.");
	if (!v_semantic_equal(json_object_get(obj, "volumeBindingMode"),
	                      json_object_get(old, "volumeBindingMode")))
		v_invalid(inv, "volumeBindingMode",
		          v_str(obj, "volumeBindingMode") ? v_str(obj, "volumeBindingMode") : "",
		          "field is immutable");
}

void api_storageclass_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	static const char *const policies[] = {"Delete", "Retain", NULL};
	static const char *const bindings[] = {"Immediate", "WaitForFirstConsumer", NULL};
	const char *prov = v_str(obj, "provisioner"), *rp = v_str(obj, "reclaimPolicy");
	const char *bm = v_str(obj, "volumeBindingMode");
	char lower[320];
	size_t i;

	v_meta(inv, obj);
	if (prov == NULL || *prov == '\0') {
		v_required(inv, "provisioner", "");
	} else {
		for (i = 0; prov[i] && i + 1 < sizeof lower; i++)
			lower[i] =
			    (char)(prov[i] >= 'A' && prov[i] <= 'Z' ? prov[i] + 32 : prov[i]);
		lower[i] = '\0';
		v_qualified_name(inv, "provisioner", lower);
	}
	parameters(v_obj(obj, "parameters"), inv);
	if (rp && !v_one_of(rp, policies))
		v_unsupported(inv, "reclaimPolicy", rp, policies);
	if (bm == NULL)
		v_required(inv, "volumeBindingMode", "");
	else if (!v_one_of(bm, bindings))
		v_unsupported(inv, "volumeBindingMode", bm, bindings);
	if (old)
		storageclass_update(obj, old, inv);
}
