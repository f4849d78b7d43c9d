/* env.c — opening the LMDB environment, its tables, write transactions that grow the map, errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"
#include "util.h"

/* Bumped when the on-disk layout changes incompatibly; a store of another format is refused. */
#define STORE_LAYOUT_FORMAT 1

static _Thread_local char tls_errmsg[512];
/* The LMDB code behind the last store_mdb_err on this thread, so that MDB_MAP_FULL from deep inside
 * a transaction function can be told apart from a full disk. */
static _Thread_local int tls_mdb_rc;

static const char *const table_names[TBL_COUNT] = {
    [TBL_OBJECTS] = "objects", [TBL_CHANGES] = "changes",           [TBL_CLAIMS] = "claims",
    [TBL_META] = "meta",       [TBL_PODS_BY_NODE] = "pods_by_node",
};

const char *store_errmsg(const struct store *s)
{
	(void)s;
	return tls_errmsg;
}

int store_fail(struct store *s, int code, const char *fmt, ...)
{
	va_list ap;

	(void)s;
	va_start(ap, fmt);
	vsnprintf(tls_errmsg, sizeof tls_errmsg, fmt, ap);
	va_end(ap);
	return code;
}

int store_mdb_err(struct store *s, int rc, const char *what)
{
	int code;

	tls_mdb_rc = rc;
	switch (rc) {
	case 0:
		return STSD_OK;
	case MDB_MAP_FULL:
	case ENOSPC:
	case EDQUOT:
		code = STSD_NOSPACE;
		break;
	case ENOMEM:
		code = STSD_NOMEM;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		code = STSD_CORRUPT;
		break;
	case MDB_READERS_FULL:
	case EBUSY:
	case EAGAIN:
		code = STSD_BUSY;
		break;
	case MDB_NOTFOUND:
		code = STSD_NOTFOUND;
		break;
	default:
		code = STSD_IO;
	}
	return store_fail(s, code, "%s: %s", what, mdb_strerror(rc));
}

int store_gate_close(struct store *s, const char *what)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += s->grow_wait_ms / 1000;
	deadline.tv_nsec += (long)(s->grow_wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->gate);
	while (s->readers > 0) {
		if (pthread_cond_timedwait(&s->idle, &s->gate, &deadline) == ETIMEDOUT &&
		    s->readers > 0) {
			unsigned n = s->readers;
			pthread_mutex_unlock(&s->gate);
			return store_fail(s, STSD_BUSY, "%s: %u reader(s) still open after %u ms",
			                  what, n, s->grow_wait_ms);
		}
	}
	return STSD_OK;
}

void store_gate_open(struct store *s)
{
	pthread_mutex_unlock(&s->gate);
}

void store_pool_drain(struct store *s)
{
	while (s->pool) {
		struct store_reader *r = s->pool;
		s->pool = r->next;
		mdb_txn_abort(r->txn);
		arena_close(&r->arena);
		free(r);
	}
	s->pool_len = 0;
}

int store_open_tables(struct store *s, MDB_txn *txn)
{
	unsigned flags = s->read_only ? 0 : MDB_CREATE;

	for (int i = 0; i < TBL_COUNT; i++) {
		int rc = mdb_dbi_open(txn, table_names[i], flags, &s->dbi[i]);
		if (rc)
			return store_mdb_err(s, rc, table_names[i]);
	}
	return STSD_OK;
}

static int check_layout(struct store *s, MDB_txn *txn)
{
	uint64_t format;
	int rv = store_meta_get(s, txn, META_FORMAT, &format);

	if (rv)
		return rv;
	if (format == 0 && !s->read_only)
		return store_meta_put(s, txn, META_FORMAT, STORE_LAYOUT_FORMAT);
	if (format != STORE_LAYOUT_FORMAT && format != 0)
		return store_fail(s, STSD_UNSUPPORTED,
		                  "store layout format %llu, this build reads %d",
		                  (unsigned long long)format, STORE_LAYOUT_FORMAT);
	return STSD_OK;
}

static int env_open(struct store *s)
{
	unsigned flags = MDB_NOMETASYNC | MDB_NOTLS | MDB_NORDAHEAD;
	MDB_txn *txn;
	int rc;

	if (s->read_only)
		flags |= MDB_RDONLY;
	if ((rc = mdb_env_create(&s->env)))
		return store_mdb_err(s, rc, "mdb_env_create");
	mdb_env_set_maxdbs(s->env, TBL_COUNT + 2);
	mdb_env_set_maxreaders(s->env, 1022);
	if (!s->read_only)
		mdb_env_set_mapsize(s->env, s->map_size);
	if ((rc = mdb_env_open(s->env, s->dir, flags, 0600))) {
		mdb_env_close(s->env);
		s->env = NULL;
		return store_mdb_err(s, rc, s->dir);
	}
	MDB_envinfo info;
	mdb_env_info(s->env, &info);
	s->map_size = info.me_mapsize;
	if ((rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn)))
		return store_mdb_err(s, rc, "open tables");
	int rv = store_open_tables(s, txn);
	if (rv == STSD_OK)
		rv = check_layout(s, txn);
	if (rv) {
		mdb_txn_abort(txn);
		return rv;
	}
	if ((rc = mdb_txn_commit(txn)))
		return store_mdb_err(s, rc, "open tables: commit");
	return STSD_OK;
}

int store_open(const char *dir, const struct store_options *opts, struct store **out, char *err,
               size_t errlen)
{
	struct store_options defaults = {0};
	struct store *s;
	int rv;

	if (opts == NULL)
		opts = &defaults;
	if (!opts->read_only && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return stsd_errf(err, errlen, STSD_IO, "store: mkdir %s: %s", dir, strerror(errno));
	s = calloc(1, sizeof *s);
	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		return stsd_errf(err, errlen, STSD_NOMEM, "store: out of memory");
	}
	s->read_only = opts->read_only;
	s->map_size = opts->map_size ? opts->map_size : STORE_DEFAULT_MAP_SIZE;
	s->max_map_size = opts->max_map_size;
	s->grow_wait_ms = opts->grow_wait_ms ? opts->grow_wait_ms : 30000;
	pthread_mutex_init(&s->gate, NULL);
	pthread_cond_init(&s->idle, NULL);
	if ((rv = env_open(s)) != STSD_OK) {
		stsd_errf(err, errlen, rv, "store: open %s: %s", dir, tls_errmsg);
		store_close(s);
		return rv;
	}
	log_info("store", "event=open dir=%s map_size=%zu read_only=%d", dir, s->map_size,
	         (int)s->read_only);
	*out = s;
	return STSD_OK;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_pool_drain(s);
	if (s->env)
		mdb_env_close(s->env);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->gate);
	free(s->dir);
	free(s);
}

int store_sync(struct store *s)
{
	int rc = mdb_env_sync(s->env, 1);

	return rc ? store_mdb_err(s, rc, "sync") : STSD_OK;
}

size_t store_map_size(const struct store *s)
{
	return s->map_size;
}

/* Double the map (up to max_map_size). Waits for every reader to end (BUSY after grow_wait_ms). */
static int grow_map(struct store *s)
{
	size_t next = s->map_size * 2;
	int rc, rv;

	if (s->max_map_size && s->map_size >= s->max_map_size)
		return store_fail(s, STSD_NOSPACE, "map full at its limit of %zu bytes",
		                  s->max_map_size);
	if (s->max_map_size && next > s->max_map_size)
		next = s->max_map_size;
	if ((rv = store_gate_close(s, "map full")) != STSD_OK)
		return rv;
	/* Pooled readers hold only reset transactions, which a remap leaves alone. */
	rc = mdb_env_set_mapsize(s->env, next);
	if (rc == 0)
		s->map_size = next;
	store_gate_open(s);
	if (rc)
		return store_mdb_err(s, rc, "grow map");
	log_info("store", "event=map_grown map_size=%zu", next);
	return STSD_OK;
}

int store_write_txn(struct store *s, store_txn_fn fn, void *ctx)
{
	if (s->read_only)
		return store_fail(s, STSD_INVALID, "store opened read-only");
	for (;;) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		int rv;

		if (rc == MDB_MAP_RESIZED) {
			/* Another process grew it: adopt the new size. */
			mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		if (rc)
			return store_mdb_err(s, rc, "begin write");
		tls_mdb_rc = 0;
		rv = fn(s, txn, ctx);
		if (rv != STSD_OK) {
			mdb_txn_abort(txn);
			if (tls_mdb_rc == MDB_MAP_FULL) {
				if ((rv = grow_map(s)) != STSD_OK)
					return rv;
				continue;
			}
			return rv;
		}
		rc = mdb_txn_commit(txn);
		if (rc == MDB_MAP_FULL) {
			if ((rv = grow_map(s)) != STSD_OK)
				return rv;
			continue;
		}
		return rc ? store_mdb_err(s, rc, "commit") : STSD_OK;
	}
}

int store_meta_get(struct store *s, MDB_txn *txn, const char *name, uint64_t *out)
{
	MDB_val k = {strlen(name), (void *)name}, v;
	int rc = mdb_get(txn, s->dbi[TBL_META], &k, &v);

	*out = 0;
	if (rc == MDB_NOTFOUND)
		return STSD_OK;
	if (rc)
		return store_mdb_err(s, rc, name);
	if (v.mv_size != 8)
		return store_fail(s, STSD_CORRUPT, "meta %s: %zu bytes", name, v.mv_size);
	*out = util_get_be64(v.mv_data);
	return STSD_OK;
}

int store_meta_put(struct store *s, MDB_txn *txn, const char *name, uint64_t value)
{
	unsigned char buf[8];
	MDB_val k = {strlen(name), (void *)name}, v = {8, buf};
	int rc;

	util_put_be64(buf, value);
	rc = mdb_put(txn, s->dbi[TBL_META], &k, &v, 0);
	return rc ? store_mdb_err(s, rc, name) : STSD_OK;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int store_env_swap(struct store *s, const char *data_file)
{
	char path[PATH_MAX];
	int rv = STSD_OK, rv2;

	snprintf(path, sizeof path, "%s/data.mdb", s->dir);
	if ((rv = store_gate_close(s, "snapshot swap")) != STSD_OK)
		return rv;
	store_pool_drain(s);
	mdb_env_close(s->env);
	s->env = NULL;
	if (rename(data_file, path) != 0)
		rv = store_fail(s, STSD_IO, "snapshot swap: rename %s: %s", data_file,
		                strerror(errno));
	else
		fsync_dir(s->dir);
	/* Reopen whichever file is in place now: the new one, or the old one if rename failed. */
	rv2 = env_open(s);
	store_gate_open(s);
	if (rv == STSD_OK && rv2 == STSD_OK)
		log_info("store", "event=snapshot_installed dir=%s", s->dir);
	return rv ? rv : rv2;
}
