/* openapi_v2.c — /openapi/v2 for kubectl 1.27 and 1.28, which read OpenAPI v2 (only as protobuf,
 * gnostic's openapi.v2.Document) before apply and create. They look for a PATCH operation of the
 * object's kind (vendor extension x-kubernetes-group-version-kind) with the query parameter
 * fieldValidation (k8s.io/cli-runtime resource/query_param_verifier.go): with it they leave
 * validation to the server, as newer kubectl does through OpenAPI v3; without a document at all
 * they refuse to apply. The document holds just that: one PATCH per resource, no schemas (those
 * kubectl versions then compute strategic merge patches from their compiled-in types). Field
 * numbers from google/gnostic openapiv2/OpenAPIv2.proto. */
#include <stdio.h>
#include <string.h>

#include "api_internal.h"
#include "errors.h"

/* kubectl asks for application/com.github.proto-openapi.spec.v2@v1.0+protobuf, but Go's
 * mime.ParseMediaType refuses that name as a Content-Type; kube-apiserver answers the bytes as
 * application/octet-stream. */
#define V2_PROTOBUF "application/octet-stream"

/* ---- A protobuf writer ----------------------------------------------------------------------- */

static void put_varint(struct api_buf *b, uint64_t v)
{
	unsigned char out[10];
	size_t n = 0;

	do {
		out[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	api_buf_add(b, out, n);
}

/* A length-delimited field (wire type 2): a string, or an embedded message's bytes. */
static void put_bytes(struct api_buf *b, unsigned field, const void *data, size_t len)
{
	put_varint(b, (uint64_t)field << 3 | 2);
	put_varint(b, len);
	api_buf_add(b, data, len);
}

static void put_string(struct api_buf *b, unsigned field, const char *s)
{
	put_bytes(b, field, s, strlen(s));
}

/* Embed msg (then freed) as field of b. */
static void put_message(struct api_buf *b, unsigned field, struct api_buf *msg)
{
	put_bytes(b, field, msg->data ? msg->data : "", msg->len);
	if (msg->oom)
		b->oom = true;
	api_buf_free(msg);
}

/* ---- The document ------------------------------------------------------------------------------
 */

/* ParametersItem{parameter: Parameter{non_body_parameter: NonBodyParameter{
 * query_parameter_sub_schema: {in: "query", name, type: "string"}}}} */
static void query_param(struct api_buf *op, const char *name)
{
	struct api_buf q = {0}, nb = {0}, p = {0}, item = {0};

	put_string(&q, 2, "query");
	put_string(&q, 4, name);
	put_string(&q, 6, "string");
	put_message(&nb, 3, &q);
	put_message(&p, 2, &nb);
	put_message(&item, 1, &p);
	put_message(op, 8, &item);
}

/* Operation{operation_id, parameters, vendor_extension: [NamedAny{name, value: Any{yaml}}]} */
static void patch_operation(struct api_buf *op, const struct api_resource *res)
{
	struct api_buf any = {0}, ext = {0};
	char id[160], yaml[256];

	snprintf(id, sizeof id, "patch%s", res->kind);
	put_string(op, 5, id);
	query_param(op, "dryRun");
	query_param(op, "fieldManager");
	query_param(op, "fieldValidation");
	query_param(op, "force");
	snprintf(yaml, sizeof yaml, "group: \"%s\"\nkind: %s\nversion: %s\n", res->group, res->kind,
	         res->version);
	put_string(&any, 2, yaml);
	put_string(&ext, 1, "x-kubernetes-group-version-kind");
	put_message(&ext, 2, &any);
	put_message(op, 13, &ext);
}

/* NamedPathItem{name: the object's path, value: PathItem{patch}} */
static void path_item(struct api_buf *paths, const struct api_resource *res)
{
	struct api_buf op = {0}, item = {0}, named = {0};
	char path[256];

	if (*res->group)
		snprintf(path, sizeof path, "/apis/%s/%s/%s%s/{name}", res->group, res->version,
		         res->namespaced ? "namespaces/{namespace}/" : "", res->plural);
	else
		snprintf(path, sizeof path, "/api/%s/%s%s/{name}", res->version,
		         res->namespaced ? "namespaces/{namespace}/" : "", res->plural);
	patch_operation(&op, res);
	put_message(&item, 8, &op);
	put_string(&named, 1, path);
	put_message(&named, 2, &item);
	put_message(paths, 2, &named);
}

/* The encoded Document (caller frees b). */
static void document(struct api_buf *doc)
{
	struct api_buf info = {0}, paths = {0};
	size_t n;
	const struct api_resource *t = api_resources(&n);

	put_string(doc, 1, "2.0");
	put_string(&info, 1, "Kubernetes");
	put_string(&info, 2, "v1.32.0");
	put_message(doc, 2, &info);
	for (size_t i = 0; i < n; i++)
		path_item(&paths, &t[i]);
	put_message(doc, 8, &paths);
}

void api_openapi_v2_answer(struct api_req *r)
{
	struct api_buf doc = {0};

	document(&doc);
	if (doc.oom) {
		api_buf_free(&doc);
		api_fail_code(r, STSD_NOMEM, "openapi");
		return;
	}
	api_respond(r, 200, V2_PROTOBUF, doc.data, doc.len);
	api_buf_free(&doc);
}
