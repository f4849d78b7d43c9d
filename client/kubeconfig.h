/* kubeconfig.h — reading a kubeconfig (kubectl's client configuration) for stsd's clients.
 *
 * One file is read (not client-go's merge of every file of $KUBECONFIG): the path given, else the
 * first existing file of $KUBECONFIG (':'-separated), else ~/.kube/config. A context is chosen
 * (the one named, else current-context) and its cluster and user are resolved into the server URL
 * and credentials, with every file the entries name read at load time: the result holds PEM
 * blobs, never paths a client must read later. As client-go does (clientcmd ResolveLocalPaths), a
 * relative path is relative to the directory of the kubeconfig that names it.
 *
 * Supported: server, certificate-authority(-data), insecure-skip-tls-verify, client-certificate
 * (-data), client-key(-data), token, tokenFile. Exec and auth-provider plugins are not (an error
 * names them), nor are username/password. */
#ifndef STSD_CLIENT_KUBECONFIG_H
#define STSD_CLIENT_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "client.h"

/* What a context resolves to. Every pointer is owned by the struct (kubeconfig_free); a field a
 * kubeconfig does not set is NULL / 0. The PEM blobs are NUL-terminated (the NUL not counted). */
struct kubeconfig {
	char *path;    /* the file read */
	char *context; /* the context chosen */
	char *cluster; /* its cluster's name */
	char *user;    /* its user's name; NULL when the context names none */
	char *server;  /* the cluster's server URL ("https://127.0.0.1:6443") */
	char *ca_pem;  /* certificate-authority-data, or the certificate-authority file */
	size_t ca_pem_len;
	char *cert_pem; /* client-certificate-data, or the client-certificate file */
	size_t cert_pem_len;
	char *key_pem; /* client-key-data, or the client-key file */
	size_t key_pem_len;
	char *token; /* token, or the tokenFile's content without trailing space */
	bool insecure_skip_tls_verify; /* the cluster's insecure-skip-tls-verify */
};

/* Load path (NULL: $KUBECONFIG's first existing file, else $HOME/.kube/config) and resolve
 * context (NULL or "": current-context) into *kc, which the caller zeroes first and frees with
 * kubeconfig_free, also after a failure. Returns 0, or with the reason in err:
 * STSD_NOTFOUND (no kubeconfig file; no current-context; the context, its cluster or its user is
 * not in the file), STSD_IO (a file unreadable), STSD_INVALID (not YAML, not a kubeconfig's shape,
 * a field of the wrong type, bad base64, both a -data and a file form of the same field, a CA
 * together with insecure-skip-tls-verify, a cluster without server, an unsupported plugin, a
 * credential file over 1 MiB),
 * STSD_NOMEM. */
int kubeconfig_load(const char *path, const char *context, struct kubeconfig *kc, char *err,
                    size_t errlen);

/* Free what kc holds and zero it. Safe on a zeroed struct. */
void kubeconfig_free(struct kubeconfig *kc);

/* Set opts' credentials from kc: ca_pem, cert_pem, key_pem, token and insecure_skip_verify
 * (other fields untouched). The pointers borrow kc's memory: kc must outlive opts until
 * client_create has copied them. */
void kubeconfig_client_options(const struct kubeconfig *kc, struct client_options *opts);

/* Standard base64 (RFC 4648, padded) of len bytes into out, which needs 4 * ceil(len / 3) + 1
 * bytes; returns the length written (without the NUL). For writing *-data fields. */
size_t kubeconfig_base64_encode(const void *data, size_t len, char *out);

/* Decode standard base64 as Go's base64.StdEncoding does (padding required, '\r' and '\n'
 * skipped) into out, which needs 3 * (len / 4) + 3 bytes. Returns the decoded length or -1 on
 * bad input. */
long kubeconfig_base64_decode(const char *in, size_t len, void *out);

#endif
