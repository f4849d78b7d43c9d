/* api.h — the Kubernetes-shaped HTTP API of one stsd replica: health and debug endpoints,
 * discovery, the resources of the resource table, and stsd's own /stsd/v1 endpoints (members).
 *
 * Every replica serves it. A follower answers what its own store can answer (health, discovery,
 * reads that accept any resourceVersion) and forwards writes and linearizable reads to the leader,
 * whose API address it reads from the member records; the leader turns writes into commands for
 * consensus/ and serves reads after a shared barrier.
 *
 * Threads: everything runs on the loop thread given to api_start. */
#ifndef STSD_API_H
#define STSD_API_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "cons.h"
#include "store.h"

struct api_server;

struct api_options {
	const char *address;      /* "HOST:PORT" to listen on */
	struct cons *cons;        /* owned by the caller; outlives the server */
	struct store *store;      /* the store cons applies to; outlives the server */
	const char *raft_address; /* this replica's, for its member record */
	const char *const *join;  /* API URLs of a running cluster to join (n_join of them) */
	unsigned n_join;
	unsigned forward_timeout_ms; /* a forwarded request, whole exchange; 0 = 35000 */
	unsigned long max_body;      /* request bodies; 0 = 3 MiB */
	/* Security (docs/decisions/008). With tls_cert_file and tls_key_file the API speaks only
	 * TLS; without them it refuses to start unless insecure_http is set and the address is a
	 * loopback one. The certificate also authenticates this replica to the others (it needs
	 * clientAuth besides serverAuth), and client_ca_file verifies theirs and their clients'. */
	const char *tls_cert_file, *tls_key_file;
	const char *client_ca_file; /* NULL: client certificates are not asked for */
	const char *token_file;     /* kube-apiserver --token-auth-file format; NULL: no tokens */
	bool insecure_http;
	/* More of /metrics from the parts beside the API (the controller): Prometheus text,
	 * malloc'd (the API frees it), or NULL. Called on the loop thread. */
	char *(*extra_metrics)(void *ud);
	void *extra_metrics_ud;
};

/* Listen and serve. On success *out owns the server until api_stop's callback. Returns STSD_INVALID
 * or STSD_IO (address in use...) with the reason in err. */
int api_start(uv_loop_t *loop, const struct api_options *o, struct api_server **out, char *err,
              size_t errlen);

/* Stop listening, end every request (pending ones get 503), stop the forwarder; done(ud) runs once
 * everything is closed, never from inside this call. */
void api_stop(struct api_server *s, void (*done)(void *ud), void *ud);

/* Leadership changes and applied commands, from cons's callbacks (cmd/stsd wires them). */
void api_on_leader(struct api_server *s, bool leader);
void api_on_applied(struct api_server *s, uint64_t revision);

/* Read certificates, client CA and token file again (SIGHUP). Open connections keep going; on a
 * failure what was loaded before stays in force and err says why. */
int api_reload(struct api_server *s, char *err, size_t errlen);

/* The port the server listens on. */
unsigned api_port(const struct api_server *s);

#endif
