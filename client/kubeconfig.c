/* kubeconfig.c — a kubeconfig's chosen context resolved into a server URL and credentials. */
#include <errno.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "errors.h"
#include "kubeconfig.h"

/* One load: the document, where relative paths start, and the error buffer. */
struct loader {
	struct kubeconfig *kc;
	struct fy_document *doc;
	char dir[PATH_MAX]; /* directory of the kubeconfig, for relative paths */
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "kubeconfig PATH: reason" into the caller's buffer; returns code. */
static int fail(struct loader *l, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return stsd_errf(l->err, l->errlen, code, "kubeconfig %s: %s", l->kc->path, msg);
}

/* --- base64 (RFC 4648 standard alphabet) --- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t kubeconfig_base64_encode(const void *data, size_t len, char *out)
{
	const unsigned char *p = data;
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t left = len - i;

		v |= left > 1 ? (unsigned)p[i + 1] << 8 : 0;
		v |= left > 2 ? p[i + 2] : 0;
		out[o++] = b64_alphabet[(v >> 18) & 63];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = left > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char ch)
{
	const char *p = ch != '\0' ? strchr(b64_alphabet, ch) : NULL;

	return p != NULL ? (int)(p - b64_alphabet) : -1;
}

/* Go's StdEncoding skips '\r' and '\n' anywhere, wants '=' padding to a multiple of 4 and
 * nothing after it. */
long kubeconfig_base64_decode(const char *in, size_t len, void *out)
{
	unsigned char *o = out;
	unsigned v = 0;
	size_t n = 0, pad = 0;
	long w = 0;

	for (size_t i = 0; i < len; i++) {
		int d;

		if (in[i] == '\r' || in[i] == '\n')
			continue;
		if (in[i] == '=' && n % 4 >= 2) {
			pad++, n++;
			continue;
		}
		if (pad > 0 || (d = b64_value(in[i])) < 0)
			return -1;
		v = v << 6 | (unsigned)d;
		if (++n % 4 == 0) {
			o[w++] = (unsigned char)(v >> 16);
			o[w++] = (unsigned char)(v >> 8);
			o[w++] = (unsigned char)v;
			v = 0;
		}
	}
	if (n % 4 != 0)
		return -1;
	/* StdEncoding is not Strict: leftover bits of the last group are ignored. */
	if (pad == 2) { /* "xx==": one byte in 12 bits */
		o[w++] = (unsigned char)(v >> 4);
	} else if (pad == 1) { /* "xxx=": two bytes in 18 bits */
		o[w++] = (unsigned char)(v >> 10);
		o[w++] = (unsigned char)(v >> 2);
	}
	return w;
}

/* --- the YAML document --- */

/* map[key], or NULL when map is NULL (a null mapping) or has no such key. */
static struct fy_node *lookup(struct fy_node *map, const char *key)
{
	return map != NULL ? fy_node_mapping_lookup_by_string(map, key, FY_NT) : NULL;
}

/* Whether n is YAML null (absent, empty, "~" or "null" unquoted), which Go reads as unset. */
static bool is_null(struct fy_node *n)
{
	const char *s;
	size_t len;

	if (n == NULL)
		return true;
	if (!fy_node_is_scalar(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return false;
	s = fy_node_get_scalar(n, &len);
	return s == NULL || len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && strncmp(s, "null", 4) == 0);
}

/* The string at key of map into *out (malloc'd; NULL when absent or null). */
static int get_string(struct loader *l, struct fy_node *map, const char *key, const char *where,
                      char **out)
{
	struct fy_node *n = lookup(map, key);
	const char *s;
	size_t len;

	*out = NULL;
	if (is_null(n))
		return STSD_OK;
	if (!fy_node_is_scalar(n) || (s = fy_node_get_scalar(n, &len)) == NULL)
		return fail(l, STSD_INVALID, "%s: %s is not a string", where, key);
	if ((*out = strndup(s, len)) == NULL)
		return fail(l, STSD_NOMEM, "out of memory");
	return STSD_OK;
}

/* A YAML 1.1 boolean at key (what Go's yaml.v2 reads); absent or null: false. */
static int get_bool(struct loader *l, struct fy_node *map, const char *key, const char *where,
                    bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "y"};
	static const char *const no[] = {"false", "no", "off", "n"};
	struct fy_node *n = lookup(map, key);
	const char *s = NULL;

	*out = false;
	if (is_null(n))
		return STSD_OK;
	if (fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN)
		s = fy_node_get_scalar0(n);
	for (size_t i = 0; s != NULL && i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, STSD_OK;
		if (strcasecmp(s, no[i]) == 0)
			return STSD_OK;
	}
	return fail(l, STSD_INVALID, "%s: %s is not a boolean", where, key);
}

/* The "name: X, KIND: {...}" entry named name in the list at root[list]; its KIND map (NULL for
 * a null map) into *out. STSD_NOTFOUND when no entry has that name. */
static int find_entry(struct loader *l, const char *list, const char *kind, const char *name,
                      struct fy_node **out)
{
	struct fy_node *root = fy_document_root(l->doc), *seq, *item;
	void *it = NULL;

	seq = lookup(root, list);
	if (!is_null(seq) && !fy_node_is_sequence(seq))
		return fail(l, STSD_INVALID, "%s is not a list", list);
	while (!is_null(seq) && (item = fy_node_sequence_iterate(seq, &it)) != NULL) {
		struct fy_node *n;
		const char *s;

		if (!fy_node_is_mapping(item))
			return fail(l, STSD_INVALID, "an entry of %s is not a mapping", list);
		n = lookup(item, "name");
		s = n != NULL && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
		if (s == NULL || strcmp(s, name) != 0)
			continue;
		*out = lookup(item, kind);
		if (!is_null(*out) && !fy_node_is_mapping(*out))
			return fail(l, STSD_INVALID, "%s %s: %s is not a mapping", kind, name,
			            kind);
		if (is_null(*out))
			*out = NULL;
		return STSD_OK;
	}
	return fail(l, STSD_NOTFOUND, "no %s named \"%s\" in %s", kind, name, list);
}

/* --- credentials: inline data or a file --- */

/* path made absolute against the kubeconfig's directory; malloc'd or NULL. */
static char *resolve(const struct loader *l, const char *path)
{
	char *out;

	if (path[0] == '/')
		return strdup(path);
	if ((out = malloc(strlen(l->dir) + strlen(path) + 2)) != NULL)
		sprintf(out, "%s/%s", l->dir, path);
	return out;
}

/* A certificate, a key or a token is a few kilobytes; a bigger file is a mistake (a wrong path,
 * /dev/zero) that must not eat the client's memory. */
#define MAX_CREDENTIAL_FILE (1u << 20) /* "1 MiB" in the message */

/* Free a buffer that may hold a secret, wiping it first. */
static void free_secret(char *buf, size_t len)
{
	if (buf != NULL)
		memset(buf, 0, len);
	free(buf);
}

/* The whole file (at most MAX_CREDENTIAL_FILE bytes), NUL-terminated, into *out (malloc'd). */
static int read_whole(struct loader *l, const char *key, const char *path, char **out, size_t *len)
{
	char *full = resolve(l, path), *buf = NULL;
	size_t cap = 0, n = 0, got;
	int rv = STSD_OK;
	FILE *f;

	if (full == NULL)
		return fail(l, STSD_NOMEM, "out of memory");
	if ((f = fopen(full, "re")) == NULL) {
		rv = fail(l, STSD_IO, "%s %s: %s", key, full, strerror(errno));
		free(full);
		return rv;
	}
	for (;;) { /* up to one byte past the limit, which tells an oversized file */
		if (n + 1 >= cap) {
			size_t want = cap == 0 ? 4096 : 2 * cap;
			char *p;

			want = want < MAX_CREDENTIAL_FILE + 2 ? want : MAX_CREDENTIAL_FILE + 2;
			if ((p = realloc(buf, want)) == NULL) {
				rv = fail(l, STSD_NOMEM, "out of memory");
				break;
			}
			buf = p, cap = want;
		}
		n += got = fread(buf + n, 1, cap - n - 1, f);
		if (got == 0 || n > MAX_CREDENTIAL_FILE)
			break;
	}
	if (rv == STSD_OK && ferror(f))
		rv = fail(l, STSD_IO, "%s %s: read error", key, full);
	else if (rv == STSD_OK && n > MAX_CREDENTIAL_FILE)
		rv = fail(l, STSD_INVALID, "%s %s: larger than 1 MiB, not a credential file", key,
		          full);
	fclose(f);
	free(full);
	if (rv != STSD_OK) {
		free_secret(buf, n);
		return rv;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return STSD_OK;
}

/* text (base64) decoded into *out (malloc'd, NUL-terminated); *out stays NULL on failure. */
static int decode_data(struct loader *l, const char *where, const char *key, const char *text,
                       char **out, size_t *len)
{
	size_t n = strlen(text);
	char *buf;
	long got;

	*out = NULL;
	if ((buf = malloc(3 * (n / 4) + 4)) == NULL)
		return fail(l, STSD_NOMEM, "out of memory");
	if ((got = kubeconfig_base64_decode(text, n, buf)) < 0) {
		free_secret(buf, 3 * (n / 4) + 4);
		return fail(l, STSD_INVALID, "%s: %s is not valid base64", where, key);
	}
	buf[got] = '\0';
	*out = buf;
	*len = (size_t)got;
	return STSD_OK;
}

/* key (a file) or key-data (base64): the bytes, or NULL when neither is set. Both set is an
 * error, as in client-go's clientcmd validation ("...-data will override" is reported there). */
static int get_pem(struct loader *l, struct fy_node *map, const char *where, const char *key,
                   char **out, size_t *len)
{
	char data_key[64], *file = NULL, *data = NULL;
	int rv;

	snprintf(data_key, sizeof data_key, "%s-data", key);
	*out = NULL, *len = 0;
	if ((rv = get_string(l, map, key, where, &file)) == STSD_OK &&
	    (rv = get_string(l, map, data_key, where, &data)) == STSD_OK) {
		if (file != NULL && data != NULL)
			rv = fail(l, STSD_INVALID, "%s: both %s and %s are set", where, key,
			          data_key);
		else if (data != NULL)
			rv = decode_data(l, where, data_key, data, out, len);
		else if (file != NULL)
			rv = read_whole(l, key, file, out, len);
	}
	free(file);
	free(data);
	return rv;
}

static int load_cluster(struct loader *l, const char *name)
{
	struct kubeconfig *kc = l->kc;
	struct fy_node *c = NULL;
	char where[300];
	int rv;

	snprintf(where, sizeof where, "cluster \"%.200s\"", name);
	if ((rv = find_entry(l, "clusters", "cluster", name, &c)) != STSD_OK ||
	    (rv = get_string(l, c, "server", where, &kc->server)) != STSD_OK ||
	    (rv = get_pem(l, c, where, "certificate-authority", &kc->ca_pem, &kc->ca_pem_len)) !=
	        STSD_OK ||
	    (rv = get_bool(l, c, "insecure-skip-tls-verify", where,
	                   &kc->insecure_skip_tls_verify)) != STSD_OK)
		return rv;
	if (kc->server == NULL || kc->server[0] == '\0')
		return fail(l, STSD_INVALID, "%s has no server", where);
	if (kc->ca_pem != NULL && kc->insecure_skip_tls_verify) /* client-go refuses it too */
		return fail(l, STSD_INVALID,
		            "%s: a certificate authority together with insecure-skip-tls-verify",
		            where);
	return STSD_OK;
}

/* The token, else tokenFile's content without trailing white space. Token first: client-go's
 * AuthInfo documents that token takes precedence over tokenFile. */
static int load_token(struct loader *l, struct fy_node *u, const char *where)
{
	struct kubeconfig *kc = l->kc;
	char *file = NULL;
	size_t len;
	int rv;

	if ((rv = get_string(l, u, "token", where, &kc->token)) != STSD_OK ||
	    (rv = get_string(l, u, "tokenFile", where, &file)) != STSD_OK || file == NULL ||
	    kc->token != NULL) {
		free(file);
		return rv;
	}
	rv = read_whole(l, "tokenFile", file, &kc->token, &len);
	free(file);
	while (rv == STSD_OK && len > 0 && strchr(" \t\r\n", kc->token[len - 1]) != NULL)
		kc->token[--len] = '\0';
	return rv;
}

static int load_user(struct loader *l, const char *name)
{
	struct kubeconfig *kc = l->kc;
	struct fy_node *u = NULL;
	char where[300];
	int rv;

	snprintf(where, sizeof where, "user \"%.200s\"", name);
	if ((rv = find_entry(l, "users", "user", name, &u)) != STSD_OK)
		return rv;
	if (!is_null(lookup(u, "exec")) || !is_null(lookup(u, "auth-provider")))
		return fail(l, STSD_INVALID, "%s: exec and auth-provider plugins are not supported",
		            where);
	if ((rv = get_pem(l, u, where, "client-certificate", &kc->cert_pem, &kc->cert_pem_len)) !=
	        STSD_OK ||
	    (rv = get_pem(l, u, where, "client-key", &kc->key_pem, &kc->key_pem_len)) != STSD_OK ||
	    (rv = load_token(l, u, where)) != STSD_OK)
		return rv;
	if ((kc->cert_pem == NULL) != (kc->key_pem == NULL))
		return fail(l, STSD_INVALID,
		            "%s: a client certificate needs its key and the reverse", where);
	return STSD_OK;
}

/* The context's cluster and user names (user may stay NULL). */
static int load_context(struct loader *l, const char *name)
{
	struct kubeconfig *kc = l->kc;
	struct fy_node *c = NULL;
	char where[300];
	int rv;

	snprintf(where, sizeof where, "context \"%.200s\"", name);
	if ((kc->context = strdup(name)) == NULL)
		return fail(l, STSD_NOMEM, "out of memory");
	if ((rv = find_entry(l, "contexts", "context", name, &c)) != STSD_OK ||
	    (rv = get_string(l, c, "cluster", where, &kc->cluster)) != STSD_OK ||
	    (rv = get_string(l, c, "user", where, &kc->user)) != STSD_OK)
		return rv;
	if (kc->cluster == NULL || kc->cluster[0] == '\0')
		return fail(l, STSD_INVALID, "%s names no cluster", where);
	if ((rv = load_cluster(l, kc->cluster)) != STSD_OK)
		return rv;
	return kc->user != NULL && kc->user[0] != '\0' ? load_user(l, kc->user) : STSD_OK;
}

/* --- which file --- */

static int dup_path(const char *path, char **out, char *err, size_t errlen)
{
	if ((*out = strdup(path)) == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "out of memory");
	return STSD_OK;
}

/* The first existing file of $KUBECONFIG, else ~/.kube/config, into *out (malloc'd). */
static int default_path(char **out, char *err, size_t errlen)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	char buf[PATH_MAX];

	if (env != NULL && env[0] != '\0') {
		for (const char *p = env; *p != '\0'; p += strcspn(p, ":"), p += *p == ':') {
			size_t n = strcspn(p, ":");
			snprintf(buf, sizeof buf, "%.*s", (int)n, p);
			if (n > 0 && access(buf, F_OK) == 0)
				return dup_path(buf, out, err, errlen);
		}
		return stsd_errf(err, errlen, STSD_NOTFOUND,
		                 "kubeconfig: no file of $KUBECONFIG (%s) exists", env);
	}
	snprintf(buf, sizeof buf, "%s/.kube/config", home != NULL ? home : "");
	if (home != NULL && access(buf, F_OK) == 0)
		return dup_path(buf, out, err, errlen);
	return stsd_errf(err, errlen, STSD_NOTFOUND,
	                 "kubeconfig: no --kubeconfig FILE, no $KUBECONFIG and no %s", buf);
}

/* libfyaml's diagnostics: the first one is kept for our message instead of going to stderr. */
static void keep_first(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	char *first = user;

	(void)diag;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	if (first[0] == '\0')
		snprintf(first, 256, "%.*s", (int)(len < 255 ? len : 255), buf);
}

static struct fy_document *parse(const char *path, char *first)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
	struct fy_document *doc;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = keep_first;
	dcfg.user = first;
	dcfg.colorize = false;
	dcfg.show_source = false;
	if ((cfg.diag = fy_diag_create(&dcfg)) == NULL)
		return NULL;
	doc = fy_document_build_from_file(&cfg, path);
	fy_diag_destroy(cfg.diag);
	return doc;
}

static int open_document(struct loader *l)
{
	char *slash, first[256] = "";

	if (access(l->kc->path, R_OK) != 0)
		return fail(l, errno == ENOENT ? STSD_NOTFOUND : STSD_IO, "%s", strerror(errno));
	snprintf(l->dir, sizeof l->dir, "%s", l->kc->path);
	if ((slash = strrchr(l->dir, '/')) != NULL)
		slash[slash == l->dir ? 1 : 0] = '\0';
	else
		snprintf(l->dir, sizeof l->dir, ".");
	if ((l->doc = parse(l->kc->path, first)) == NULL)
		return fail(l, STSD_INVALID, "not valid YAML%s%s", first[0] != '\0' ? ": " : "",
		            first);
	if (!fy_node_is_mapping(fy_document_root(l->doc)))
		return fail(l, STSD_INVALID, "not a kubeconfig (the document is not a mapping)");
	return STSD_OK;
}

int kubeconfig_load(const char *path, const char *context, struct kubeconfig *kc, char *err,
                    size_t errlen)
{
	struct loader l = {.kc = kc, .err = err, .errlen = errlen};
	char *current = NULL;
	int rv;

	rv = path != NULL ? dup_path(path, &kc->path, err, errlen)
	                  : default_path(&kc->path, err, errlen);
	if (rv != STSD_OK)
		return rv;
	if ((rv = open_document(&l)) == STSD_OK && (context == NULL || context[0] == '\0')) {
		rv = get_string(&l, fy_document_root(l.doc), "current-context", "document",
		                &current);
		if (rv == STSD_OK && (current == NULL || current[0] == '\0'))
			rv = fail(&l, STSD_NOTFOUND, "no current-context (name a context)");
		context = current;
	}
	if (rv == STSD_OK)
		rv = load_context(&l, context);
	free(current);
	fy_document_destroy(l.doc);
	return rv;
}

void kubeconfig_free(struct kubeconfig *kc)
{
	free(kc->path);
	free(kc->context);
	free(kc->cluster);
	free(kc->user);
	free(kc->server);
	free(kc->ca_pem);
	free(kc->cert_pem);
	free(kc->key_pem);
	free(kc->token);
	memset(kc, 0, sizeof *kc);
}

void kubeconfig_client_options(const struct kubeconfig *kc, struct client_options *opts)
{
	opts->ca_pem = kc->ca_pem;
	opts->ca_pem_len = kc->ca_pem_len;
	opts->cert_pem = kc->cert_pem;
	opts->cert_pem_len = kc->cert_pem_len;
	opts->key_pem = kc->key_pem;
	opts->key_pem_len = kc->key_pem_len;
	opts->token = kc->token;
	opts->insecure_skip_verify = kc->insecure_skip_tls_verify;
}
