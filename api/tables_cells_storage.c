/* tables_cells_storage.c — the columns and cells of `kubectl get` for PersistentVolumeClaims,
 * PersistentVolumes and StorageClasses.
 *
 * Column definitions, cell values and their order follow kube-apiserver v1.32,
 * pkg/printers/internalversion/printers.go (AddHandlers, printPersistentVolumeClaim,
 * printPersistentVolume, printStorageClass), with helper.GetAccessModesAsString,
 * GetPersistentVolume(Claim)Class and storageutil.IsDefaultAnnotation. Quantities print as stored
 * (upstream prints them canonicalised, e.g. "1024Mi" as "1Gi"). */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "tables_internal.h"

#define BETA_CLASS_ANNOTATION "volume.beta.kubernetes.io/storage-class"

static const char *storage_class(const json_t *obj)
{
	const char *beta = tbl_annotation(obj, BETA_CLASS_ANNOTATION);

	return beta != NULL ? beta : tbl_str_or(obj, "spec.storageClassName", "");
}

/* The phase, or "Terminating" once deletion started. */
static const char *phase(const json_t *obj)
{
	if (tbl_get(obj, "metadata.deletionTimestamp") != NULL)
		return "Terminating";
	return tbl_str_or(obj, "status.phase", "");
}

/* ---- PersistentVolumeClaim ------------------------------------------------------------------ */

static const struct api_column pvc_columns[] = {
    TBL_COL_NAME,
    {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
    {"Volume", "string", "",
     "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
    {"Capacity", "string", "", "capacity represents the actual resources of the underlying volume.",
     0},
    {"Access Modes", "string", "",
     "accessModes contains the actual access modes the volume backing the PVC has.", 0},
    {"StorageClass", "string", "", "StorageClass of the pvc", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
    TBL_COL_AGE,
    {"VolumeMode", "string", "", "volumeMode defines what type of volume is required by the claim.",
     1},
    TBL_COL_END,
};

static void pvc_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *volume = tbl_str_or(obj, "spec.volumeName", "");
	struct api_buf modes = {0};

	api_buf_add(&modes, "", 0);
	/* capacity and modes show only once bound; an unset quantity prints "0" */
	if (*volume != '\0')
		tbl_access_modes(tbl_get(obj, "status.accessModes"), &modes);
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, phase(obj));
	tbl_cell_str(cells, volume);
	tbl_cell_str(cells, *volume ? tbl_str_or(obj, "status.capacity.storage", "0") : "");
	tbl_cell_buf(cells, &modes);
	tbl_cell_str(cells, storage_class(obj));
	tbl_cell_str(cells, tbl_str_or(obj, "spec.volumeAttributesClassName", "<unset>"));
	tbl_cell_age(cells, obj, now);
	tbl_cell_str(cells, tbl_str_or(obj, "spec.volumeMode", "<unset>"));
}

const struct api_table_def api_table_pvcs = {pvc_columns, pvc_cells};

/* ---- PersistentVolume ----------------------------------------------------------------------- */

static const struct api_column pv_columns[] = {
    TBL_COL_NAME,
    {"Capacity", "string", "",
     "capacity is the description of the persistent volume's resources "
     "and capacity.",
     0},
    {"Access Modes", "string", "", "accessModes contains all ways the volume can be mounted.", 0},
    {"Reclaim Policy", "string", "",
     "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released "
     "from its claim.",
     0},
    {"Status", "string", "",
     "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0},
    {"Claim", "string", "",
     "claimRef is part of a bi-directional binding between PersistentVolume and "
     "PersistentVolumeClaim.",
     0},
    {"StorageClass", "string", "", "StorageClass of the pv", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
    {"Reason", "string", "",
     "reason is a brief CamelCase string that describes any failure and is meant for machine "
     "parsing and tidy display in the CLI.",
     0},
    TBL_COL_AGE,
    {"VolumeMode", "string", "",
     "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
     "remain in raw block state.",
     1},
    TBL_COL_END,
};

static void pv_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const json_t *claim = tbl_get(obj, "spec.claimRef");
	struct api_buf modes = {0}, ref = {0};

	api_buf_add(&modes, "", 0);
	api_buf_add(&ref, "", 0);
	tbl_access_modes(tbl_get(obj, "spec.accessModes"), &modes);
	if (json_is_object(claim))
		api_buf_printf(&ref, "%s/%s", tbl_str_or(claim, "namespace", ""),
		               tbl_str_or(claim, "name", ""));
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, tbl_str_or(obj, "spec.capacity.storage", "0"));
	tbl_cell_buf(cells, &modes);
	tbl_cell_str(cells, tbl_str(obj, "spec.persistentVolumeReclaimPolicy"));
	tbl_cell_str(cells, phase(obj));
	tbl_cell_buf(cells, &ref);
	tbl_cell_str(cells, storage_class(obj));
	tbl_cell_str(cells, tbl_str_or(obj, "spec.volumeAttributesClassName", "<unset>"));
	tbl_cell_str(cells, tbl_str(obj, "status.reason"));
	tbl_cell_age(cells, obj, now);
	tbl_cell_str(cells, tbl_str_or(obj, "spec.volumeMode", "<unset>"));
}

const struct api_table_def api_table_pvs = {pv_columns, pv_cells};

/* ---- StorageClass --------------------------------------------------------------------------- */

static const struct api_column sc_columns[] = {
    TBL_COL_NAME,
    {"Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0},
    {"ReclaimPolicy", "string", "",
     "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes "
     "of this storage class. Defaults to Delete.",
     0},
    {"VolumeBindingMode", "string", "",
     "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound. "
     "When unset, VolumeBindingImmediate is used.",
     0},
    {"AllowVolumeExpansion", "string", "",
     "allowVolumeExpansion shows whether the storage class allow volume expand.", 0},
    TBL_COL_AGE,
    TBL_COL_END,
};

/* storageutil.IsDefaultAnnotation: the GA or the beta annotation set to "true". */
static bool sc_default(const json_t *obj)
{
	const char *ga = tbl_annotation(obj, "storageclass.kubernetes.io/is-default-class");
	const char *beta = tbl_annotation(obj, "storageclass.beta.kubernetes.io/is-default-class");

	return (ga != NULL && strcmp(ga, "true") == 0) ||
	       (beta != NULL && strcmp(beta, "true") == 0);
}

static void sc_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct api_buf name = {0};

	api_buf_printf(&name, "%s%s", tbl_str_or(obj, "metadata.name", ""),
	               sc_default(obj) ? " (default)" : "");
	tbl_cell_buf(cells, &name);
	tbl_cell_str(cells, tbl_str(obj, "provisioner"));
	tbl_cell_str(cells, tbl_str_or(obj, "reclaimPolicy", "Delete"));
	tbl_cell_str(cells, tbl_str_or(obj, "volumeBindingMode", "Immediate"));
	tbl_cell_bool(cells, json_is_true(json_object_get(obj, "allowVolumeExpansion")));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_storageclasses = {sc_columns, sc_cells};
