/* tables_cells_core.c — the columns and cells of `kubectl get` for Services, Endpoints,
 * EndpointSlices, ConfigMaps, Secrets, Namespaces and Leases (Events and Nodes:
 * tables_cells_cluster.c).
 *
 * Column definitions, cell values and their order follow kube-apiserver v1.32,
 * pkg/printers/internalversion/printers.go (AddHandlers, printService, getServiceExternalIP,
 * loadBalancerStatusStringer, makePortString, formatEndpoints, printEndpointSlice,
 * formatDiscoveryPorts/Endpoints, listWithMoreString, printConfigMap, printSecret,
 * printNamespace, printLease). The server prints the wide columns too; kubectl hides priority-1
 * columns unless -o wide. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "tables_internal.h"

/* ---- Service ----------------------------------------------------------------------------------
 */

static const struct api_column svc_columns[] = {
    TBL_COL_NAME,
    {"Type", "string", "", "type determines how the Service is exposed.", 0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually assigned randomly.", 0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.",
     0},
    {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
    TBL_COL_AGE,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector.", 1},
    TBL_COL_END,
};

/* A JSON string's text, "" for anything else. */
static const char *str_or(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* loadBalancerStatusStringer (wide): ingress IPs, else hostnames, sorted without duplicates. */
static void svc_lb(const json_t *svc, struct api_buf *b)
{
	const json_t *ing = tbl_get(svc, "status.loadBalancer.ingress");
	size_t i, n = json_is_array(ing) ? json_array_size(ing) : 0, k = 0;
	const char **v = n ? calloc(n, sizeof *v) : NULL;

	for (i = 0; v != NULL && i < n; i++) {
		const json_t *e = json_array_get(ing, i);
		const char *s = tbl_str_or(e, "ip", tbl_str_or(e, "hostname", NULL));
		if (s != NULL)
			v[k++] = s;
	}
	if (k > 1)
		qsort(v, k, sizeof *v, cmp_str);
	for (i = 0; i < k; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			api_buf_printf(b, "%s%s", b->len ? "," : "", v[i]);
	free(v);
}

static void join_strings(const json_t *arr, struct api_buf *b)
{
	size_t i;

	for (i = 0; json_is_array(arr) && i < json_array_size(arr); i++)
		api_buf_printf(b, "%s%s", b->len ? "," : "", str_or(json_array_get(arr, i)));
}

/* getServiceExternalIP. A missing type reads ClusterIP: upstream defaults it before printing. */
static void svc_external(const json_t *svc, const char *type, struct api_buf *b)
{
	const json_t *ext = tbl_get(svc, "spec.externalIPs");
	bool has_ext = json_is_array(ext) && json_array_size(ext) > 0;

	api_buf_add(b, "", 0);
	if (strcmp(type, "ClusterIP") == 0 || strcmp(type, "NodePort") == 0) {
		if (has_ext)
			join_strings(ext, b);
		else
			api_buf_add(b, "<none>", 6);
	} else if (strcmp(type, "LoadBalancer") == 0) {
		svc_lb(svc, b);
		join_strings(ext, b);
		if (b->len == 0)
			api_buf_add(b, "<pending>", 9);
	} else if (strcmp(type, "ExternalName") == 0) {
		api_buf_printf(b, "%s", tbl_str_or(svc, "spec.externalName", ""));
	} else {
		api_buf_add(b, "<unknown>", 9);
	}
}

/* makePortString: "80/TCP", "80:30080/TCP" with a node port; "<none>" without ports. */
static void svc_ports(const json_t *svc, struct api_buf *b)
{
	const json_t *ports = tbl_get(svc, "spec.ports");
	size_t i;

	api_buf_add(b, "", 0);
	for (i = 0; json_is_array(ports) && i < json_array_size(ports); i++) {
		const json_t *p = json_array_get(ports, i);
		const char *proto = tbl_str_or(p, "protocol", "TCP");
		int64_t np = tbl_int(p, "nodePort", 0);
		api_buf_printf(b, "%s%lld", i ? "," : "", (long long)tbl_int(p, "port", 0));
		if (np > 0)
			api_buf_printf(b, ":%lld", (long long)np);
		api_buf_printf(b, "/%s", proto);
	}
	if (b->len == 0)
		api_buf_add(b, "<none>", 6);
}

static void svc_cells(const json_t *obj, json_t *cells, int64_t now)
{
	const char *type = tbl_str_or(obj, "spec.type", "ClusterIP");
	const char *ip = json_string_value(json_array_get(tbl_get(obj, "spec.clusterIPs"), 0));
	struct api_buf ext = {0}, ports = {0}, sel = {0};

	/* upstream shows clusterIPs[0]; an object carrying only spec.clusterIP still shows it */
	if (ip == NULL || *ip == '\0')
		ip = tbl_str_or(obj, "spec.clusterIP", "<none>");
	svc_external(obj, type, &ext);
	svc_ports(obj, &ports);
	tbl_format_labels(tbl_get(obj, "spec.selector"), &sel);
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, type);
	tbl_cell_str(cells, ip);
	tbl_cell_buf(cells, &ext);
	tbl_cell_buf(cells, &ports);
	tbl_cell_age(cells, obj, now);
	tbl_cell_buf(cells, &sel);
}

const struct api_table_def api_table_services = {svc_columns, svc_cells};

/* ---- Endpoints --------------------------------------------------------------------------------
 */

static const struct api_column ep_columns[] = {
    TBL_COL_NAME,
    {"Endpoints", "string", "", "The set of all endpoints is the union of all subsets.", 0},
    TBL_COL_AGE,
    TBL_COL_END,
};

/* net.JoinHostPort: IPv6 addresses in brackets. */
static void host_port(struct api_buf *b, const char *ip, int64_t port)
{
	if (strchr(ip, ':') != NULL)
		api_buf_printf(b, "[%s]:%lld", ip, (long long)port);
	else
		api_buf_printf(b, "%s:%lld", ip, (long long)port);
}

/* One entry of the list: added while fewer than max are shown, counted always. */
struct shown {
	struct api_buf b;
	size_t n, count, max;
	bool more;
};

static bool shown_room(struct shown *s)
{
	if (s->n < s->max)
		return true;
	s->more = true;
	return false;
}

static void shown_sep(struct shown *s)
{
	if (s->n++ > 0)
		api_buf_add(&s->b, ",", 1);
}

/* formatEndpoints(endpoints, nil): up to three "ip:port", then " + N more...". */
static void ep_format(const json_t *ep, struct shown *s)
{
	const json_t *subsets = tbl_get(ep, "subsets");
	size_t i, j, k;

	for (i = 0; json_is_array(subsets) && i < json_array_size(subsets); i++) {
		const json_t *ss = json_array_get(subsets, i);
		const json_t *addrs = json_object_get(ss, "addresses");
		const json_t *ports = json_object_get(ss, "ports");
		size_t na = json_is_array(addrs) ? json_array_size(addrs) : 0;
		size_t np = json_is_array(ports) ? json_array_size(ports) : 0;

		if (np == 0) { /* headless services may have no ports */
			s->count += na;
			for (k = 0; k < na && shown_room(s); k++) {
				shown_sep(s);
				api_buf_printf(&s->b, "%s",
				               tbl_str_or(json_array_get(addrs, k), "ip", ""));
			}
			continue;
		}
		for (j = 0; j < np; j++) {
			int64_t port = tbl_int(json_array_get(ports, j), "port", 0);
			s->count += na;
			for (k = 0; k < na && shown_room(s); k++) {
				shown_sep(s);
				host_port(&s->b, tbl_str_or(json_array_get(addrs, k), "ip", ""),
				          port);
			}
		}
	}
}

static void shown_cell(json_t *cells, struct shown *s, const char *empty)
{
	if (s->more)
		api_buf_printf(&s->b, " + %zu more...", s->count - s->max);
	else if (s->b.len == 0)
		api_buf_printf(&s->b, "%s", empty);
	tbl_cell_buf(cells, &s->b);
}

static void ep_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct shown s = {.max = 3};
	const json_t *subsets = tbl_get(obj, "subsets");

	api_buf_add(&s.b, "", 0);
	ep_format(obj, &s);
	tbl_cell_name(cells, obj);
	if (!json_is_array(subsets) || json_array_size(subsets) == 0) {
		api_buf_free(&s.b);
		tbl_cell_str(cells, "<none>");
	} else {
		shown_cell(cells, &s, "");
	}
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_endpoints = {ep_columns, ep_cells};

/* ---- EndpointSlice -------------------------------------------------------------------------- */

static const struct api_column eps_columns[] = {
    TBL_COL_NAME,
    {"AddressType", "string", "",
     "addressType specifies the type of address carried by this EndpointSlice.", 0},
    {"Ports", "string", "", "ports specifies the list of network ports exposed by each endpoint.",
     0},
    {"Endpoints", "string", "", "endpoints is a list of unique endpoints in this slice.", 0},
    TBL_COL_AGE,
    TBL_COL_END,
};

static void eps_cells(const json_t *obj, json_t *cells, int64_t now)
{
	struct shown ports = {.max = 3}, eps = {.max = 3};
	const json_t *pl = json_object_get(obj, "ports"), *el = json_object_get(obj, "endpoints");
	size_t i, j;

	api_buf_add(&ports.b, "", 0);
	api_buf_add(&eps.b, "", 0);
	for (i = 0; json_is_array(pl) && i < json_array_size(pl); i++, ports.count++) {
		const json_t *p = json_array_get(pl, i);
		if (!shown_room(&ports))
			continue;
		shown_sep(&ports);
		if (json_is_integer(json_object_get(p, "port")))
			api_buf_printf(&ports.b, "%lld", (long long)tbl_int(p, "port", 0));
		else
			api_buf_printf(&ports.b, "%s", tbl_str_or(p, "name", "*"));
	}
	for (i = 0; json_is_array(el) && i < json_array_size(el); i++) {
		const json_t *addrs = json_object_get(json_array_get(el, i), "addresses");
		for (j = 0; json_is_array(addrs) && j < json_array_size(addrs); j++, eps.count++) {
			if (!shown_room(&eps))
				continue;
			shown_sep(&eps);
			api_buf_printf(&eps.b, "%s", str_or(json_array_get(addrs, j)));
		}
	}
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, tbl_str(obj, "addressType"));
	shown_cell(cells, &ports, "<unset>");
	shown_cell(cells, &eps, "<unset>");
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_endpointslices = {eps_columns, eps_cells};

/* ---- ConfigMap and Secret ------------------------------------------------------------------- */

static const struct api_column cm_columns[] = {
    TBL_COL_NAME,
    {"Data", "string", "",
     "Data contains the configuration data. Each key must consist of alphanumeric characters, "
     "'-', '_' or '.'.",
     0},
    TBL_COL_AGE,
    TBL_COL_END,
};

static size_t map_size(const json_t *obj, const char *key)
{
	const json_t *m = json_object_get(obj, key);

	return json_is_object(m) ? json_object_size(m) : 0;
}

static void cm_cells(const json_t *obj, json_t *cells, int64_t now)
{
	tbl_cell_name(cells, obj);
	tbl_cell_int(cells, (int64_t)(map_size(obj, "data") + map_size(obj, "binaryData")));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_configmaps = {cm_columns, cm_cells};

static const struct api_column secret_columns[] = {
    TBL_COL_NAME,
    {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
    {"Data", "string", "",
     "Data contains the secret data. Each key must consist of alphanumeric characters, '-', "
     "'_' or '.'.",
     0},
    TBL_COL_AGE,
    TBL_COL_END,
};

/* len(internal Secret.Data): stringData keys are merged into data by conversion upstream. */
static int64_t secret_keys(const json_t *obj)
{
	const json_t *data = json_object_get(obj, "data"), *sd = json_object_get(obj, "stringData");
	int64_t n = (int64_t)map_size(obj, "data");
	const char *k;
	json_t *v;

	if (json_is_object(sd))
		json_object_foreach((json_t *)sd, k, v)
		{
			n += json_object_get(data, k) == NULL;
		}
	return n;
}

static void secret_cells(const json_t *obj, json_t *cells, int64_t now)
{
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, tbl_str_or(obj, "type", "Opaque"));
	tbl_cell_int(cells, secret_keys(obj));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_secrets = {secret_columns, secret_cells};

/* ---- Namespace and Lease ----------------------------------------------------------------------
 */

static const struct api_column ns_columns[] = {
    TBL_COL_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    TBL_COL_AGE,
    TBL_COL_END,
};

static void ns_cells(const json_t *obj, json_t *cells, int64_t now)
{
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, tbl_str(obj, "status.phase"));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_namespaces = {ns_columns, ns_cells};

static const struct api_column lease_columns[] = {
    TBL_COL_NAME,
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current lease.", 0},
    TBL_COL_AGE,
    TBL_COL_END,
};

static void lease_cells(const json_t *obj, json_t *cells, int64_t now)
{
	tbl_cell_name(cells, obj);
	tbl_cell_str(cells, tbl_str(obj, "spec.holderIdentity"));
	tbl_cell_age(cells, obj, now);
}

const struct api_table_def api_table_leases = {lease_columns, lease_cells};
