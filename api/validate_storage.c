/* validate_storage.c — SKELETON: being written (issue 4). */
#include "hooks.h"

void api_pvc_defaults(json_t *obj)
{
}

void api_pvc_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_pv_defaults(json_t *obj)
{
}

void api_pv_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_storageclass_defaults(json_t *obj)
{
}

void api_storageclass_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}
