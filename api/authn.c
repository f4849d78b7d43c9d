/* authn.c — who is asking: users and groups, bearer tokens from a kube-apiserver token file, and
 * client certificates chained to the cluster CA (GnuTLS). */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "errors.h"
#include "util.h"

/* A token file or CA bundle larger than this is a mistake, not configuration. */
#define AUTH_FILE_MAX (16u << 20)
/* Longest chain a client may present (leaf included), as GnuTLS's default verify depth. */
#define AUTH_CHAIN_MAX 16

/* ---- Users ----------------------------------------------------------------------------------- */

bool auth_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\')
			return false;
	return true;
}

bool auth_user_in(const struct auth_user *u, const char *group)
{
	unsigned i;

	if (u == NULL || group == NULL)
		return false;
	for (i = 0; i < u->n_groups && i < AUTH_MAX_GROUPS; i++)
		if (strcmp(u->groups[i], group) == 0)
			return true;
	return false;
}

void auth_user_add_group(struct auth_user *u, const char *group)
{
	size_t len = group ? strlen(group) : 0;

	/* A name too long to hold is dropped rather than truncated: a truncated name could equal
	 * another group's. */
	if (len == 0 || len >= AUTH_NAME_MAX || u->n_groups >= AUTH_MAX_GROUPS ||
	    auth_user_in(u, group))
		return;
	memcpy(u->groups[u->n_groups++], group, len + 1);
}

/* Copy s (len bytes) into a user field; false when it does not fit. */
static bool set_field(char dst[AUTH_NAME_MAX], const char *s, size_t len)
{
	if (len >= AUTH_NAME_MAX)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* Read a whole file (NUL-terminated, at most AUTH_FILE_MAX bytes) into *out (malloc'd). */
static int read_file(const char *path, const char *what, char **out, size_t *len, char *err,
                     size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 4096;
	char *buf = NULL, *nb;
	int rc = STSD_OK;

	*out = NULL;
	if (f == NULL)
		return stsd_errf(err, errlen, STSD_IO, "%s %s: cannot open: %m", what, path);
	for (;;) {
		if ((nb = realloc(buf, cap + 1)) == NULL) {
			rc = stsd_errf(err, errlen, STSD_NOMEM, "%s %s: out of memory", what, path);
			break;
		}
		buf = nb;
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			rc = stsd_errf(err, errlen, STSD_IO, "%s %s: read error", what, path);
			break;
		}
		if (n < cap)
			break; /* end of file */
		if (cap >= AUTH_FILE_MAX) {
			rc = stsd_errf(err, errlen, STSD_INVALID, "%s %s: file too large", what,
			               path);
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (rc != STSD_OK) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return STSD_OK;
}

/* ---- Token file ------------------------------------------------------------------------------ */

struct tok_entry {
	char *token;
	size_t len;
	struct auth_user user;
};

struct auth_tokens {
	struct tok_entry *e;
	size_t n, cap;
};

#define CSV_MAX_FIELDS 8

/* One parsed CSV field: its text (unescaped, in a buffer of the line's size). */
struct csv_line {
	char *field[CSV_MAX_FIELDS];
	size_t len[CSV_MAX_FIELDS];
	unsigned n;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse one quoted field starting after its opening quote at *p, writing into w. Returns the
 * bytes written or -1 (unterminated, or text after the closing quote). */
static long csv_quoted(const char **p, const char *end, char *w)
{
	const char *s = *p;
	char *w0 = w;

	for (;;) {
		if (s >= end)
			return -1;
		if (*s == '"') {
			if (s + 1 < end && s[1] == '"') {
				*w++ = '"';
				s += 2;
				continue;
			}
			s++;
			break;
		}
		*w++ = *s++;
	}
	while (s < end && is_blank(*s))
		s++;
	if (s < end && *s != ',')
		return -1;
	*p = s;
	return w - w0;
}

/* Split line [s, end) into fields (CSV: "" inside quotes is a quote; blanks around unquoted
 * fields are trimmed, which Go's csv keeps, so " admin" cannot differ from "admin"). Fields are
 * written into buf (>= end - s + CSV_MAX_FIELDS bytes). Returns NULL or what is wrong. */
static const char *csv_split(const char *s, const char *end, char *buf, struct csv_line *l)
{
	l->n = 0;
	for (;;) {
		long n;
		if (l->n == CSV_MAX_FIELDS)
			return "too many fields";
		while (s < end && is_blank(*s))
			s++;
		l->field[l->n] = buf;
		if (s < end && *s == '"') {
			s++;
			if ((n = csv_quoted(&s, end, buf)) < 0)
				return "unterminated quoted field or text after its closing quote";
		} else {
			const char *b = s;
			while (s < end && *s != ',') {
				if (*s == '"')
					return "bare \" in a non-quoted field";
				s++;
			}
			n = s - b;
			while (n > 0 && is_blank(b[n - 1]))
				n--;
			memcpy(buf, b, (size_t)n);
		}
		buf[n] = '\0';
		l->len[l->n++] = (size_t)n;
		buf += n + 1;
		if (s >= end)
			return NULL;
		s++; /* the comma */
	}
}

/* Fill u's groups from a comma-separated list (blanks trimmed, empty items skipped). */
static const char *parse_groups(struct auth_user *u, const char *s)
{
	while (*s != '\0') {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char g[AUTH_NAME_MAX];
		const char *b = s;

		s += n + (e ? 1 : 0);
		while (n > 0 && is_blank(*b))
			b++, n--;
		while (n > 0 && is_blank(b[n - 1]))
			n--;
		if (n == 0)
			continue;
		if (!set_field(g, b, n))
			return "group name too long";
		if (!auth_name_ok(g))
			return "group name with a control character, a backslash or blanks at an end";
		/* one slot stays free for system:authenticated */
		if (u->n_groups >= AUTH_MAX_GROUPS - 1 && !auth_user_in(u, g))
			return "too many groups";
		auth_user_add_group(u, g);
	}
	return NULL;
}

static const char *tokens_add(struct auth_tokens *t, const struct csv_line *l)
{
	struct tok_entry *e;
	size_t i;

	if (l->n < 3)
		return "must have at least 3 columns (token, user name, user uid)";
	if (l->len[0] == 0)
		return "empty token";
	if (l->len[1] == 0)
		return "empty user name";
	for (i = 0; i < t->n; i++)
		if (t->e[i].len == l->len[0] && memcmp(t->e[i].token, l->field[0], l->len[0]) == 0)
			return "duplicate token";
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tok_entry *ne = realloc(t->e, cap * sizeof *ne);
		if (ne == NULL)
			return "out of memory";
		t->e = ne;
		t->cap = cap;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof *e);
	if (!set_field(e->user.name, l->field[1], l->len[1]))
		return "user name too long";
	if (!auth_name_ok(e->user.name))
		return "user name with a control character, a backslash or blanks at an end";
	if (!set_field(e->user.uid, l->field[2], l->len[2]))
		return "uid too long";
	if (l->n >= 4) {
		const char *why = parse_groups(&e->user, l->field[3]);
		if (why != NULL)
			return why;
	}
	if ((e->token = malloc(l->len[0] + 1)) == NULL)
		return "out of memory";
	memcpy(e->token, l->field[0], l->len[0] + 1);
	e->len = l->len[0];
	t->n++;
	return NULL;
}

/* Parse the file's text, one line at a time; line numbers count every line. */
static int tokens_parse(struct auth_tokens *t, const char *path, char *text, size_t len, char *err,
                        size_t errlen)
{
	char *buf = malloc(len + CSV_MAX_FIELDS + 1);
	const char *s = text, *end = text + len;
	unsigned long lineno = 0;
	int rc = STSD_OK;

	if (buf == NULL)
		return stsd_errf(err, errlen, STSD_NOMEM, "token file %s: out of memory", path);
	while (s < end && rc == STSD_OK) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *e = nl ? nl : end, *b = s;
		struct csv_line l;
		const char *why;

		lineno++;
		s = nl ? nl + 1 : end;
		if (e > b && e[-1] == '\r')
			e--;
		while (b < e && is_blank(*b))
			b++;
		if (b == e || *b == '#')
			continue;
		if (memchr(b, '\0', (size_t)(e - b)) != NULL)
			why = "NUL byte in line";
		else if ((why = csv_split(b, e, buf, &l)) == NULL)
			why = tokens_add(t, &l);
		if (why != NULL)
			rc = stsd_errf(err, errlen, STSD_INVALID, "token file %s line %lu: %s",
			               path, lineno, why);
	}
	explicit_bzero(buf, len + CSV_MAX_FIELDS + 1);
	free(buf);
	return rc;
}

int auth_tokens_load(const char *path, struct auth_tokens **out, char *err, size_t errlen)
{
	struct auth_tokens *t;
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((rc = read_file(path, "token file", &text, &len, err, errlen)) != STSD_OK)
		return rc;
	if ((t = calloc(1, sizeof *t)) == NULL) {
		free(text);
		return stsd_errf(err, errlen, STSD_NOMEM, "token file %s: out of memory", path);
	}
	rc = tokens_parse(t, path, text, len, err, errlen);
	explicit_bzero(text, len);
	free(text);
	if (rc != STSD_OK) {
		auth_tokens_free(t);
		return rc;
	}
	*out = t;
	return STSD_OK;
}

/* Equal in time that depends on the entry's length only, never on where the bytes differ. */
static bool token_equal(const struct tok_entry *e, const char *tok, size_t len)
{
	unsigned char diff = (unsigned char)(len != e->len);
	size_t i;

	for (i = 0; i < e->len; i++)
		diff |= (unsigned char)(e->token[i] ^ (i < len ? tok[i] : 0));
	return diff == 0;
}

bool auth_tokens_lookup(const struct auth_tokens *t, const char *token, struct auth_user *u)
{
	const struct tok_entry *hit = NULL;
	size_t i, len;

	if (t == NULL || token == NULL || (len = strlen(token)) == 0)
		return false;
	/* every entry is compared, so the time does not tell which one matched */
	for (i = 0; i < t->n; i++)
		if (token_equal(&t->e[i], token, len) && hit == NULL)
			hit = &t->e[i];
	if (hit == NULL)
		return false;
	*u = hit->user;
	auth_user_add_group(u, AUTH_AUTHENTICATED_GROUP);
	return true;
}

size_t auth_tokens_count(const struct auth_tokens *t)
{
	return t ? t->n : 0;
}

const char *auth_tokens_find_group(const struct auth_tokens *t, const char *group)
{
	size_t i;

	for (i = 0; t != NULL && i < t->n; i++)
		if (auth_user_in(&t->e[i].user, group))
			return t->e[i].token;
	return NULL;
}

void auth_tokens_free(struct auth_tokens *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		explicit_bzero(t->e[i].token, t->e[i].len);
		free(t->e[i].token);
	}
	free(t->e);
	free(t);
}

/* ---- Client certificates --------------------------------------------------------------------- */

struct auth_trust {
	gnutls_x509_trust_list_t list;
};

int auth_trust_load(const char *ca_file, struct auth_trust **out, char *err, size_t errlen)
{
	struct auth_trust *t;
	gnutls_datum_t d;
	char *text;
	size_t len;
	int rc, n;

	*out = NULL;
	if ((rc = read_file(ca_file, "CA file", &text, &len, err, errlen)) != STSD_OK)
		return rc;
	if ((t = calloc(1, sizeof *t)) == NULL || gnutls_x509_trust_list_init(&t->list, 0) < 0) {
		free(t);
		free(text);
		return stsd_errf(err, errlen, STSD_NOMEM, "CA file %s: out of memory", ca_file);
	}
	d.data = (unsigned char *)text;
	d.size = (unsigned)len;
	n = gnutls_x509_trust_list_add_trust_mem(t->list, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	free(text);
	if (n <= 0) {
		auth_trust_free(t);
		return stsd_errf(err, errlen, STSD_INVALID, "CA file %s: %s", ca_file,
		                 n < 0 ? gnutls_strerror(n) : "no certificates");
	}
	*out = t;
	return STSD_OK;
}

void auth_trust_free(struct auth_trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->list, 1);
	free(t);
}

/* Reasons for GnuTLS verification status bits, most telling first (Go's wording where it has
 * one: "certificate signed by unknown authority", "certificate has expired"). */
static const struct {
	unsigned bit;
	const char *text;
} status_reasons[] = {
    {GNUTLS_CERT_SIGNER_NOT_FOUND, "certificate signed by an unknown authority"},
    {GNUTLS_CERT_EXPIRED, "certificate has expired"},
    {GNUTLS_CERT_NOT_ACTIVATED, "certificate is not yet valid"},
    {GNUTLS_CERT_PURPOSE_MISMATCH,
     "certificate is not valid for client authentication (extKeyUsage)"},
    {GNUTLS_CERT_SIGNATURE_FAILURE, "certificate signature is invalid"},
    {GNUTLS_CERT_SIGNER_NOT_CA, "certificate issuer is not a CA"},
    {GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE, "certificate chain breaks its issuer's constraints"},
    {GNUTLS_CERT_INSECURE_ALGORITHM, "certificate uses an insecure algorithm"},
    {GNUTLS_CERT_REVOKED, "certificate has been revoked"},
    {GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS, "certificate has an unknown critical extension"},
};

/* Every reason the status carries, joined by "; ". */
static void status_why(unsigned status, char *why, size_t whylen)
{
	size_t i, used = 0;

	if (whylen > 0)
		why[0] = '\0';
	for (i = 0; i < sizeof status_reasons / sizeof status_reasons[0]; i++) {
		if (!(status & status_reasons[i].bit) || used >= whylen)
			continue;
		int n = snprintf(why + used, whylen - used, "%s%s", used ? "; " : "",
		                 status_reasons[i].text);
		used += n > 0 ? (size_t)n : 0;
	}
	if (used == 0)
		stsd_errf(why, whylen, STSD_INVALID,
		          "certificate verification failed (status 0x%x)", status);
}

/* The leaf's validity against now: GnuTLS checks the real clock only, our caller's clock may
 * differ (tests, a replica deciding for a forwarded request). */
static int check_times(gnutls_x509_crt_t crt, int64_t now, char *why, size_t whylen)
{
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);
	char t[32], at[32];

	util_format_rfc3339(now, at, sizeof at);
	if (nb == (time_t)-1)
		return stsd_errf(why, whylen, STSD_INVALID, "certificate has no validity period");
	if (now < (int64_t)nb) {
		util_format_rfc3339((int64_t)nb, t, sizeof t);
		return stsd_errf(why, whylen, STSD_INVALID,
		                 "certificate is not yet valid: current time %s is before %s", at,
		                 t);
	}
	/* -1: notAfter 99991231235959Z, "no well-defined expiration" (RFC 5280 4.1.2.5) */
	if (na != (time_t)-1 && now > (int64_t)na) {
		util_format_rfc3339((int64_t)na, t, sizeof t);
		return stsd_errf(why, whylen, STSD_INVALID,
		                 "certificate has expired: current time %s is after %s", at, t);
	}
	return STSD_OK;
}

/* The subject's idx-th value of oid into buf; GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE past the
 * last, GNUTLS_E_SHORT_MEMORY_BUFFER when it does not fit. */
static int dn_value(gnutls_x509_crt_t crt, const char *oid, unsigned idx, char *buf)
{
	size_t size = AUTH_NAME_MAX;
	int rc = gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, buf, &size);

	if (rc == 0 && (size >= AUTH_NAME_MAX || strlen(buf) != size))
		return GNUTLS_E_SHORT_MEMORY_BUFFER; /* embedded NUL or no room for it */
	return rc;
}

/* CN -> user name, every O -> a group. */
static int identify_subject(gnutls_x509_crt_t crt, struct auth_user *u, char *why, size_t whylen)
{
	char buf[AUTH_NAME_MAX];
	unsigned i;
	int rc;

	memset(u, 0, sizeof *u);
	if (dn_value(crt, GNUTLS_OID_X520_COMMON_NAME, 0, u->name) != 0 || !auth_name_ok(u->name))
		return stsd_errf(
		    why, whylen, STSD_INVALID,
		    "certificate subject has no usable common name (names with control "
		    "characters, backslashes or blanks at an end are refused)");
	for (i = 0;; i++) {
		rc = dn_value(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, buf);
		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (rc != 0)
			return stsd_errf(why, whylen, STSD_INVALID,
			                 "certificate subject has an unusable organization");
		if (buf[0] == '\0')
			continue;
		if (!auth_name_ok(buf))
			return stsd_errf(
			    why, whylen, STSD_INVALID,
			    "certificate subject has an unusable organization (names with "
			    "control characters, backslashes or blanks at an end are "
			    "refused)");
		if (u->n_groups >= AUTH_MAX_GROUPS - 1 && !auth_user_in(u, buf))
			return stsd_errf(why, whylen, STSD_INVALID,
			                 "certificate subject has too many organizations");
		auth_user_add_group(u, buf);
	}
	auth_user_add_group(u, AUTH_AUTHENTICATED_GROUP);
	return STSD_OK;
}

static int verify_chain(const struct auth_trust *t, gnutls_x509_crt_t *crts, unsigned n, char *why,
                        size_t whylen)
{
	gnutls_typed_vdata_st purpose = {
	    .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	unsigned status = 0;
	int rc;

	/* Time checks are on by default (GnuTLS's real clock); the purpose applies to the leaf
	 * and accepts a certificate without extKeyUsage. */
	rc = gnutls_x509_trust_list_verify_crt2(t->list, crts, n, &purpose, 1, 0, &status, NULL);
	if (rc < 0)
		return stsd_errf(why, whylen, STSD_INVALID, "certificate verification failed: %s",
		                 gnutls_strerror(rc));
	if (status != 0) {
		status_why(status, why, whylen);
		return STSD_INVALID;
	}
	return STSD_OK;
}

int auth_cert_identify(const struct auth_trust *t, const struct auth_der *chain, size_t n,
                       int64_t now, struct auth_user *u, char *why, size_t whylen)
{
	gnutls_x509_crt_t crts[AUTH_CHAIN_MAX];
	unsigned made = 0;
	int rc = STSD_OK;

	if (why == NULL)
		whylen = 0;
	if (t == NULL || chain == NULL || n == 0)
		return stsd_errf(why, whylen, STSD_INVALID, "no client certificate");
	if (n > AUTH_CHAIN_MAX)
		return stsd_errf(why, whylen, STSD_INVALID, "certificate chain too long");
	for (; made < n && rc == STSD_OK; made++) {
		gnutls_datum_t d = {(unsigned char *)chain[made].data, (unsigned)chain[made].len};
		if (gnutls_x509_crt_init(&crts[made]) < 0)
			rc = stsd_errf(why, whylen, STSD_NOMEM, "out of memory");
		else if (chain[made].data == NULL ||
		         gnutls_x509_crt_import(crts[made], &d, GNUTLS_X509_FMT_DER) < 0)
			rc = stsd_errf(why, whylen, STSD_INVALID, "malformed certificate");
		if (rc == STSD_NOMEM)
			break; /* crts[made] was not made */
	}
	if (rc == STSD_OK)
		rc = verify_chain(t, crts, (unsigned)n, why, whylen);
	if (rc == STSD_OK)
		rc = check_times(crts[0], now, why, whylen);
	if (rc == STSD_OK)
		rc = identify_subject(crts[0], u, why, whylen);
	if (rc == STSD_OK) {
		time_t na = gnutls_x509_crt_get_expiration_time(crts[0]);
		u->expires = na == (time_t)-1 ? 0 : (int64_t)na; /* -1: no expiry (99991231...) */
	}
	while (made > 0)
		gnutls_x509_crt_deinit(crts[--made]);
	return rc == STSD_NOMEM ? STSD_NOMEM : (rc == STSD_OK ? STSD_OK : STSD_INVALID);
}
