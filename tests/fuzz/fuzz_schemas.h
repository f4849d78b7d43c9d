/* fuzz_schemas.h — a StatefulSet schema with the PodSpec's patch strategies and merge keys, shared
 * by the patch unit tests and the strategic merge patch fuzzer. Self-contained (no api/schema.c).
 */
#ifndef STSD_TESTS_FUZZ_SCHEMAS_H
#define STSD_TESTS_FUZZ_SCHEMAS_H

#include "schema.h"

/* containers/initContainers by name, ports by containerPort, env by name, volumeMounts by
 * mountPath, volumes by name with retainKeys, imagePullSecrets by name, metadata.finalizers as a
 * set, ownerReferences by uid, status.conditions by type; args, command, tolerations and
 * volumeClaimTemplates are replaced whole. */
extern const struct api_schema fuzz_schema_statefulset;
extern const struct api_schema fuzz_schema_pod_spec;

#endif
