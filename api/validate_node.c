/* validate_node.c — SKELETON: being written (issue 4). */
#include "hooks.h"

void api_node_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_lease_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}

void api_event_defaults(json_t *obj)
{
}

void api_event_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
}
