/* hooks.h — defaulting and validation hooks of the resources, named in the resource table
 * (resources.c). Each validate hook adds field errors to inv; old is the stored object on update,
 * NULL on create. Defaults run before validation, on create and on update. */
#ifndef STSD_API_HOOKS_H
#define STSD_API_HOOKS_H

#include <jansson.h>

#include "api_internal.h"

/* validate.c */
void api_configmap_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_namespace_defaults(json_t *obj);

/* validate_sts.c: apps/v1 StatefulSet per ../shared/STATEFULSET.md; ControllerRevision. */
void api_statefulset_defaults(json_t *obj);
void api_statefulset_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_controllerrevision_validate(json_t *obj, json_t *old, struct api_invalid *inv);

/* validate_pod.c: Pod and the PodSpec of templates. */
void api_pod_defaults(json_t *obj);
void api_pod_validate(json_t *obj, json_t *old, struct api_invalid *inv);
/* A PodSpec at spec (a pod's spec or a template's spec): defaults, and errors under path
 * ("spec.template.spec"). */
void api_podspec_defaults(json_t *spec);
void api_podspec_validate(json_t *spec, const char *path, struct api_invalid *inv);

/* validate_svc.c: Services, Endpoints, EndpointSlices, Secrets. */
void api_service_defaults(json_t *obj);
void api_service_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_secret_defaults(json_t *obj);
void api_secret_validate(json_t *obj, json_t *old, struct api_invalid *inv);

/* validate_storage.c: PVCs, PVs, StorageClasses. */
void api_pvc_defaults(json_t *obj);
void api_pvc_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_pv_defaults(json_t *obj);
void api_pv_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_storageclass_defaults(json_t *obj);
void api_storageclass_validate(json_t *obj, json_t *old, struct api_invalid *inv);

/* validate_node.c: Nodes, Leases, Events. */
void api_node_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_lease_validate(json_t *obj, json_t *old, struct api_invalid *inv);
void api_event_defaults(json_t *obj);
void api_event_validate(json_t *obj, json_t *old, struct api_invalid *inv);

#endif
