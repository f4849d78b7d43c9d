/* validate_svc.c — SKELETON: being written (issue 4). */
#include "hooks.h"

void api_service_defaults(json_t *obj)
{
}

void api_service_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_secret_defaults(json_t *obj)
{
}

void api_secret_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}
