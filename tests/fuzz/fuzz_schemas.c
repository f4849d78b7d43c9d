/* fuzz_schemas.c — the StatefulSet/PodSpec fragment schema of fuzz_schemas.h. */
#include <stddef.h>

#include "fuzz_schemas.h"

static const struct api_schema str = {SCH_STRING};
static const struct api_schema integer = {SCH_INT};
static const struct api_schema any = {SCH_ANY};
static const struct api_schema str_map = {SCH_MAP, NULL, &str};
static const struct api_schema str_list = {SCH_ARRAY, NULL, &str};
static const struct api_schema str_set = {SCH_ARRAY, NULL, &str, NULL, PATCH_MERGE};
static const struct api_schema any_list = {SCH_ARRAY, NULL, &any};

static const struct api_field owner_ref_fields[] = {{"apiVersion", &str}, {"kind", &str},
                                                    {"name", &str},       {"uid", &str},
                                                    {"controller", &any}, {NULL}};
static const struct api_schema owner_ref = {SCH_OBJECT, owner_ref_fields};
static const struct api_schema owner_refs = {SCH_ARRAY, NULL, &owner_ref, "uid", PATCH_MERGE};

static const struct api_field meta_fields[] = {{"name", &str},
                                               {"namespace", &str},
                                               {"labels", &str_map},
                                               {"annotations", &str_map},
                                               {"finalizers", &str_set},
                                               {"ownerReferences", &owner_refs},
                                               {"resourceVersion", &str},
                                               {NULL}};
static const struct api_schema meta = {SCH_OBJECT, meta_fields};

static const struct api_field port_fields[] = {
    {"name", &str}, {"containerPort", &integer}, {"protocol", &str}, {NULL}};
static const struct api_schema port = {SCH_OBJECT, port_fields};
static const struct api_schema ports = {SCH_ARRAY, NULL, &port, "containerPort", PATCH_MERGE};

static const struct api_field env_fields[] = {
    {"name", &str}, {"value", &str}, {"valueFrom", &any}, {NULL}};
static const struct api_schema env_var = {SCH_OBJECT, env_fields};
static const struct api_schema env = {SCH_ARRAY, NULL, &env_var, "name", PATCH_MERGE};

static const struct api_field mount_fields[] = {
    {"name", &str}, {"mountPath", &str}, {"readOnly", &any}, {NULL}};
static const struct api_schema mount = {SCH_OBJECT, mount_fields};
static const struct api_schema mounts = {SCH_ARRAY, NULL, &mount, "mountPath", PATCH_MERGE};

static const struct api_field resources_fields[] = {
    {"limits", &str_map}, {"requests", &str_map}, {NULL}};
static const struct api_schema resources = {SCH_OBJECT, resources_fields};

static const struct api_field container_fields[] = {{"name", &str},
                                                    {"image", &str},
                                                    {"args", &str_list},
                                                    {"command", &str_list},
                                                    {"ports", &ports},
                                                    {"env", &env},
                                                    {"volumeMounts", &mounts},
                                                    {"resources", &resources},
                                                    {"imagePullPolicy", &str},
                                                    {NULL}};
static const struct api_schema container = {SCH_OBJECT, container_fields};
static const struct api_schema containers = {SCH_ARRAY, NULL, &container, "name", PATCH_MERGE};

static const struct api_field volume_fields[] = {{"name", &str},
                                                 {"emptyDir", &any},
                                                 {"configMap", &any},
                                                 {"secret", &any},
                                                 {"hostPath", &any},
                                                 {"persistentVolumeClaim", &any},
                                                 {NULL}};
static const struct api_schema volume = {SCH_OBJECT, volume_fields, NULL, NULL, PATCH_RETAIN_KEYS};
static const struct api_schema volumes = {SCH_ARRAY, NULL, &volume, "name",
                                          PATCH_MERGE | PATCH_RETAIN_KEYS};

static const struct api_field ref_fields[] = {{"name", &str}, {NULL}};
static const struct api_schema ref = {SCH_OBJECT, ref_fields};
static const struct api_schema pull_secrets = {SCH_ARRAY, NULL, &ref, "name", PATCH_MERGE};

static const struct api_field pod_spec_fields[] = {{"containers", &containers},
                                                   {"initContainers", &containers},
                                                   {"volumes", &volumes},
                                                   {"imagePullSecrets", &pull_secrets},
                                                   {"tolerations", &any_list},
                                                   {"nodeSelector", &str_map},
                                                   {"restartPolicy", &str},
                                                   {"terminationGracePeriodSeconds", &integer},
                                                   {NULL}};
const struct api_schema fuzz_schema_pod_spec = {SCH_OBJECT, pod_spec_fields};

static const struct api_field template_fields[] = {
    {"metadata", &meta}, {"spec", &fuzz_schema_pod_spec}, {NULL}};
static const struct api_schema template = {SCH_OBJECT, template_fields};
static const struct api_schema claims = {SCH_ARRAY, NULL, &any};

static const struct api_field sts_spec_fields[] = {{"replicas", &integer},
                                                   {"serviceName", &str},
                                                   {"selector", &any},
                                                   {"template", &template},
                                                   {"volumeClaimTemplates", &claims},
                                                   {"updateStrategy", &any},
                                                   {NULL}};
static const struct api_schema sts_spec = {SCH_OBJECT, sts_spec_fields};

static const struct api_field condition_fields[] = {
    {"type", &str}, {"status", &str}, {"reason", &str}, {"message", &str}, {NULL}};
static const struct api_schema condition = {SCH_OBJECT, condition_fields};
static const struct api_schema conditions = {SCH_ARRAY, NULL, &condition, "type", PATCH_MERGE};

static const struct api_field sts_status_fields[] = {
    {"replicas", &integer}, {"readyReplicas", &integer}, {"conditions", &conditions}, {NULL}};
static const struct api_schema sts_status = {SCH_OBJECT, sts_status_fields};

static const struct api_field sts_fields[] = {{"apiVersion", &str},    {"kind", &str},
                                              {"metadata", &meta},     {"spec", &sts_spec},
                                              {"status", &sts_status}, {NULL}};
const struct api_schema fuzz_schema_statefulset = {SCH_OBJECT, sts_fields};
