/* schemas_apps.c — apps/v1 StatefulSet and ControllerRevision (k8s.io/api/apps/v1 at v0.32). */
#include "schemas_def.h"

OBJECT(rolling_update, F("partition", INT), F("maxUnavailable", &api_schema_int_or_string));
OBJECT(update_strategy, F("type", STR), F("rollingUpdate", &rolling_update));
OBJECT(retention_policy, F("whenDeleted", STR), F("whenScaled", STR));
OBJECT(ordinals, F("start", INT));
/* Claim templates are replaced whole by a strategic merge patch (no patch strategy upstream). */
LIST(claim_templates, &api_schema_pvc);

OBJECT(statefulset_spec, F("replicas", INT), F("selector", &api_schema_label_selector),
       F("template", &api_schema_pod_template_spec), F("volumeClaimTemplates", &claim_templates),
       F("serviceName", STR), F("podManagementPolicy", STR), F("updateStrategy", &update_strategy),
       F("revisionHistoryLimit", INT), F("minReadySeconds", INT),
       F("persistentVolumeClaimRetentionPolicy", &retention_policy), F("ordinals", &ordinals));

OBJECT(statefulset_condition, F("type", STR), F("status", STR), F("lastTransitionTime", TIME),
       F("reason", STR), F("message", STR));
MERGE_LIST(statefulset_conditions, &statefulset_condition, "type");
OBJECT(statefulset_status, F("observedGeneration", INT), F("replicas", INT),
       F("readyReplicas", INT), F("currentReplicas", INT), F("updatedReplicas", INT),
       F("currentRevision", STR), F("updateRevision", STR), F("collisionCount", INT),
       F("conditions", &statefulset_conditions), F("availableReplicas", INT));

OBJECT_PUBLIC(api_schema_statefulset, TYPE_META, F("metadata", META), F("spec", &statefulset_spec),
              F("status", &statefulset_status));

/* data is a runtime.RawExtension: any JSON (a strategic merge patch of the set's template). */
OBJECT_PUBLIC(api_schema_controllerrevision, TYPE_META, F("metadata", META),
              F("data", &api_schema_any), F("revision", INT));
