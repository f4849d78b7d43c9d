/* auth.h — who is asking (authentication) and whether they may (authorization).
 *
 * Authentication, as kube-apiserver: a bearer token from a token file in the format of
 * kube-apiserver's --token-auth-file (token,user,uid,"group1,group2"), or a client certificate
 * signed by the cluster CA (CN = user, O = groups). Every authenticated user is also in
 * system:authenticated.
 *
 * Authorization is a table of rules (authz.c), decided by authz_decide:
 *  - members of AUTH_ADMIN_GROUP may do anything;
 *  - a node agent (user "system:node:NAME" in group system:nodes) may create, read and update its
 *    own Node and its Lease (kube-node-lease/NAME), read the pods bound to it (list and watch only
 *    with fieldSelector spec.nodeName=NAME), update their status, confirm their termination (a
 *    delete of a pod bound to it, or of a force-deleted pod whose claim still names it as
 *    "releasing"), create and update events, and read the Secrets, ConfigMaps,
 *    PVCs and PVs its pods use and the Services and Endpoints of the namespaces its pods run in;
 *  - replicas (group AUTH_REPLICAS_GROUP) may call the /stsd/v1/members endpoints;
 *  - every authenticated user may read discovery and OpenAPI (as system:discovery allows);
 *  - anything else is refused, with a reason naming what was refused.
 *
 * Nothing here does I/O except the loaders; decisions that depend on stored objects ask them
 * through struct authz_graph, so the rule table is tested without a store. */
#ifndef STSD_API_AUTH_H
#define STSD_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_ADMIN_GROUP         "system:masters"
#define AUTH_NODES_GROUP         "system:nodes"
#define AUTH_NODE_PREFIX         "system:node:"
#define AUTH_REPLICAS_GROUP      "system:stsd-replicas"
#define AUTH_AUTHENTICATED_GROUP "system:authenticated"
#define AUTH_NODE_LEASE_NS       "kube-node-lease"

#define AUTH_MAX_GROUPS 16
#define AUTH_NAME_MAX   256

struct auth_user {
	char name[AUTH_NAME_MAX];
	char uid[AUTH_NAME_MAX];
	char groups[AUTH_MAX_GROUPS][AUTH_NAME_MAX];
	unsigned n_groups;
	int64_t expires; /* a certificate's notAfter (Unix seconds); 0 when none applies */
};

/* Whether s may name a user or a group: not empty, no control character, no backslash (GnuTLS
 * escapes special characters of a subject with one), no blank at either end (header values lose
 * them on the way through a forward). Names that fail are refused where they come in (token file,
 * certificate), so that every name survives being forwarded unchanged. */
bool auth_name_ok(const char *s);

/* Whether u is in group g. */
bool auth_user_in(const struct auth_user *u, const char *group);
/* Add a group (ignored when already present or when AUTH_MAX_GROUPS are held). */
void auth_user_add_group(struct auth_user *u, const char *group);

/* ---- Tokens (authn.c) ---------------------------------------------------------------------- */

struct auth_tokens;

/* Load a token file: one line per token, `token,user,uid[,"group1,group2,..."]` (CSV: a field may
 * be double-quoted; "" inside quotes is a quote). Blank lines and lines starting with '#' are
 * skipped. A line with fewer than three fields, an empty token or user, or a token given twice
 * is an error naming the line (STSD_INVALID); STSD_IO when unreadable. */
int auth_tokens_load(const char *path, struct auth_tokens **out, char *err, size_t errlen);
/* The user of token (compared in constant time per entry), with system:authenticated added;
 * false when unknown. */
bool auth_tokens_lookup(const struct auth_tokens *t, const char *token, struct auth_user *u);
/* How many tokens t holds. */
size_t auth_tokens_count(const struct auth_tokens *t);
/* The token of the first entry whose user is in group (for a replica's own calls when no client
 * certificate is configured); NULL when none. Valid as long as t. */
const char *auth_tokens_find_group(const struct auth_tokens *t, const char *group);
void auth_tokens_free(struct auth_tokens *t);

/* ---- Client certificates (authn.c) --------------------------------------------------------- */

struct auth_trust;

/* Load the CA bundle (PEM, one or more certificates) that client certificates must chain to. */
int auth_trust_load(const char *ca_file, struct auth_trust **out, char *err, size_t errlen);
void auth_trust_free(struct auth_trust *t);

/* One certificate in DER. */
struct auth_der {
	const unsigned char *data;
	size_t len;
};

/* Verify a peer's chain (leaf first, as the TLS handshake delivered it) against t at time now
 * (Unix seconds): signed by a trusted CA, within its validity, with extKeyUsage clientAuth (or no
 * extKeyUsage at all). On success fills u from the leaf's subject (CN -> name, each O -> a
 * group, plus system:authenticated) and returns STSD_OK; otherwise STSD_INVALID with why
 * ("certificate has expired", "signed by an unknown authority", ...). */
int auth_cert_identify(const struct auth_trust *t, const struct auth_der *chain, size_t n,
                       int64_t now, struct auth_user *u, char *why, size_t whylen);

/* ---- Authorization (authz.c) ------------------------------------------------------------- */

/* What a request wants, in Kubernetes' terms (k8s.io/apiserver RequestInfo). */
struct authz_request {
	bool resource_request;   /* false: a non-resource path (/api, /openapi/v3, /metrics...) */
	const char *verb;        /* resource: get list watch create update patch delete
	                          * deletecollection; non-resource: the lower-case HTTP method */
	const char *path;        /* the URL path (non-resource requests; always set) */
	const char *group;       /* "" for core */
	const char *resource;    /* plural: "pods" */
	const char *subresource; /* "" or "status", "scale", "log", "exec" */
	const char *ns;          /* "" when cluster-scoped or across namespaces */
	const char *name;        /* "" for collections; for create: the body's metadata.name */
	const char *field_selector; /* list/watch: the fieldSelector query ("" or NULL if none) */
};

/* The store lookups the node rules need. Each answers from the replica's current store. */
struct authz_graph {
	/* Whether pod ns/name exists and its spec.nodeName is node. */
	bool (*pod_on_node)(void *ud, const char *ns, const char *name, const char *node);
	/* Whether some pod bound to node references resource ns/name: "secrets" and "configmaps"
	 * (volumes, projected sources, env valueFrom, envFrom, imagePullSecrets),
	 * "persistentvolumeclaims" (volumes), "persistentvolumes" (ns "": the volumeName of such a
	 * PVC). */
	bool (*node_uses)(void *ud, const char *node, const char *resource, const char *ns,
	                  const char *name);
	/* Whether some pod bound to node is in namespace ns. */
	bool (*node_has_pod_in)(void *ud, const char *node, const char *ns);
	void *ud;
	/* Whether pod ns/name does not exist and its identity's claim (authz_pod_claim_key) is
	 * "releasing" with pod_name name on node: a force-deleted pod whose node may still confirm
	 * the end of its processes. NULL: never. (After ud: older initializers still fit.) */
	bool (*pod_gone_releasing_on)(void *ud, const char *ns, const char *name, const char *node);
};

enum authz_decision {
	AUTHZ_ALLOW,
	AUTHZ_DENY,       /* refused by the rules alone */
	AUTHZ_DENY_GRAPH, /* refused because of what the store holds now (a lagging follower's
	                   * store may disagree with the leader's: such a request may be forwarded
	                   * for the leader to decide) */
};

/* Decide rq for u. On a refusal, why says what was refused, in kube-apiserver's words:
 * `User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "db"`,
 * followed by ": " and the rule's reason when there is one. g may be NULL (graph rules then
 * refuse). */
enum authz_decision authz_decide(const struct auth_user *u, const struct authz_request *rq,
                                 const struct authz_graph *g, char *why, size_t whylen);

/* A graph answering from one open read view of the store (authz_store.c); rd must stay open
 * while g is used. */
struct store_reader;
void authz_graph_from_store(struct authz_graph *g, struct store_reader *rd);

/* The claim key (set, ordinal) of a StatefulSet pod's name "SET-ORDINAL": split at the last '-',
 * the ordinal in canonical decimal (no sign, no leading zero) up to UINT32_MAX. false when name
 * has no such form or set does not fit in setlen. (authz_store.c) */
bool authz_pod_claim_key(const char *name, char *set, size_t setlen, uint32_t *ordinal);

/* The node name of a node agent user ("system:node:NAME" in system:nodes), or NULL. */
const char *authz_node_name(const struct auth_user *u);

#endif
