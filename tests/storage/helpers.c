/* helpers.c — storage test fixtures. */
#include "helpers.h"

#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "errors.h"
#include "log.h"

void fx_tmpdir(char *out, size_t len)
{
	snprintf(out, len, "/tmp/stsd-test-XXXXXX");
	assert_non_null(mkdtemp(out));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fx_rmrf(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	log_set_level(LOG_WARN);
	fx_tmpdir(f->dir, sizeof f->dir);
	assert_int_equal(store_open(f->dir, NULL, &f->s, err, sizeof err), STSD_OK);
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	fx_rmrf(f->dir);
	free(f);
	return 0;
}

int fx_apply(struct fixture *f, const struct store_op *ops, size_t n, struct store_result *res)
{
	struct store_batch b = {.revision = ++f->rev,
	                        .now = 1764072000,
	                        .ops = ops,
	                        .n_ops = n,
	                        .want_objects = res != NULL};
	struct store_result local;
	struct store_result *r = res ? res : &local;

	assert_int_equal(store_apply(f->s, &b, r), STSD_OK);
	if (res == NULL)
		store_result_free(&local);
	return r->status;
}

int fx_create(struct fixture *f, const char *res, const char *ns, const char *name,
              const char *json)
{
	struct store_op op = {.type = STORE_OP_CREATE,
	                      .resource = res,
	                      .ns = ns,
	                      .name = name,
	                      .json = json,
	                      .json_len = strlen(json)};
	return fx_apply(f, &op, 1, NULL);
}

int fx_update(struct fixture *f, const char *res, const char *ns, const char *name,
              const char *json, uint64_t expect_rv)
{
	struct store_op op = {.type = STORE_OP_UPDATE,
	                      .resource = res,
	                      .ns = ns,
	                      .name = name,
	                      .json = json,
	                      .json_len = strlen(json),
	                      .expect_rv = expect_rv};
	return fx_apply(f, &op, 1, NULL);
}

int fx_delete(struct fixture *f, const char *res, const char *ns, const char *name)
{
	struct store_op op = {.type = STORE_OP_DELETE, .resource = res, .ns = ns, .name = name};
	return fx_apply(f, &op, 1, NULL);
}

char *fx_get(struct fixture *f, const char *res, const char *ns, const char *name,
             struct store_object *meta)
{
	struct store_reader *r;
	struct store_object o;
	char *out = NULL;

	assert_int_equal(store_read_begin(f->s, &r), STSD_OK);
	if (store_get(r, res, ns, name, &o) == STSD_OK) {
		out = strndup(o.json, o.json_len);
		if (meta) {
			*meta = o;
			meta->uid = meta->resource = meta->ns = meta->name = NULL;
			meta->json = NULL;
		}
	}
	store_read_end(r);
	return out;
}

const char *fx_meta(struct fixture *f, const char *res, const char *ns, const char *name,
                    const char *field)
{
	static char buf[256];
	char *json = fx_get(f, res, ns, name, NULL);
	json_t *root, *v;

	if (json == NULL)
		return NULL;
	root = json_loads(json, 0, NULL);
	free(json);
	assert_non_null(root);
	v = json_object_get(json_object_get(root, "metadata"), field);
	if (v == NULL) {
		json_decref(root);
		return NULL;
	}
	if (json_is_string(v))
		snprintf(buf, sizeof buf, "%s", json_string_value(v));
	else
		snprintf(buf, sizeof buf, "%lld", json_integer_value(v));
	json_decref(root);
	return buf;
}

void fx_digest(struct store *s, unsigned char out[32], uint64_t *applied)
{
	struct store_reader *r;

	assert_int_equal(store_read_begin(s, &r), STSD_OK);
	assert_int_equal(store_digest(r, out), STSD_OK);
	if (applied)
		*applied = store_reader_applied_index(r);
	store_read_end(r);
}
