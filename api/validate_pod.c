/* validate_pod.c — SKELETON: being written (issue 4). */
#include "hooks.h"

void api_pod_defaults(json_t *obj)
{
}

void api_pod_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_podspec_defaults(json_t *spec)
{
}

void api_podspec_validate(json_t *spec, const char *path, struct api_invalid *inv)
{
}
