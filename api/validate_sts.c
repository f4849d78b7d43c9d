/* validate_sts.c — SKELETON: being written (issue 4). */
#include "hooks.h"

void api_statefulset_defaults(json_t *obj)
{
}

void api_statefulset_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_controllerrevision_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}
