/* validate_svc.c — Services and Secrets: defaults of pkg/apis/core/v1/defaults.go
 * (SetDefaults_Service, SetDefaults_Secret) plus what the service registry fills on create
 * (clusterIPs from clusterIP, single-stack IPv4 families), the Secret's stringData folded into data
 * as the v1 conversion does, and the rules of pkg/apis/core/validation/validation.go
 * (ValidateService, ValidateServiceUpdate, ValidateSecret, ValidateSecretUpdate). Allocating
 * cluster IPs is not done here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "validate_util.h"

static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};

/* ---- Service defaults -------------------------------------------------------------------------
 */

static bool headless(const json_t *spec)
{
	json_t *ips = v_arr(spec, "clusterIPs");
	const char *ip = v_str(spec, "clusterIP");

	if (json_array_size(ips) > 0)
		return json_array_size(ips) == 1 && json_is_string(json_array_get(ips, 0)) &&
		       strcmp(json_string_value(json_array_get(ips, 0)), "None") == 0;
	return ip && strcmp(ip, "None") == 0;
}

static void port_defaults(json_t *ports)
{
	json_t *p, *tp;
	size_t i;

	json_array_foreach(ports, i, p)
	{
		v_default_str(p, "protocol", "TCP");
		tp = json_object_get(p, "targetPort");
		if (json_is_object(p) && (tp == NULL || json_is_null(tp) ||
		                          (json_is_integer(tp) && json_integer_value(tp) == 0) ||
		                          (json_is_string(tp) && json_string_length(tp) == 0)))
			json_object_set(p, "targetPort", json_object_get(p, "port"));
	}
}

/* What the registry does on create: clusterIP and clusterIPs agree; one IPv4 family. */
static void ip_defaults(json_t *spec)
{
	json_t *ips = v_arr(spec, "clusterIPs");

	if (!v_str_empty(spec, "clusterIP") && json_array_size(ips) == 0)
		json_object_set_new(spec, "clusterIPs",
		                    json_pack("[O]", json_object_get(spec, "clusterIP")));
	else if (v_str_empty(spec, "clusterIP") && json_is_string(json_array_get(ips, 0)))
		json_object_set(spec, "clusterIP", json_array_get(ips, 0));
	if (headless(spec) && !v_has(spec, "selector") && !v_has(spec, "ipFamilyPolicy")) {
		/* A headless service without a selector takes every family (its endpoints are
		 * managed by hand). */
		json_object_set_new(spec, "ipFamilyPolicy", json_string("RequireDualStack"));
		if (!v_has(spec, "ipFamilies"))
			json_object_set_new(spec, "ipFamilies", json_pack("[ss]", "IPv4", "IPv6"));
	}
	v_default_str(spec, "ipFamilyPolicy", "SingleStack");
	if (!v_has(spec, "ipFamilies"))
		json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
}

void api_service_defaults(json_t *obj)
{
	json_t *spec = v_default_obj(obj, "spec");
	const char *type;

	if (spec == NULL)
		return;
	v_default_str(spec, "type", "ClusterIP");
	v_default_str(spec, "sessionAffinity", "None");
	type = v_str(spec, "type");
	if (v_str(spec, "sessionAffinity") && !strcmp(v_str(spec, "sessionAffinity"), "ClientIP"))
		v_default_int(
		    v_default_obj(v_default_obj(spec, "sessionAffinityConfig"), "clientIP"),
		    "timeoutSeconds", 10800);
	port_defaults(v_arr(spec, "ports"));
	if (type && strcmp(type, "ExternalName") != 0) {
		v_default_str(spec, "internalTrafficPolicy", "Cluster");
		ip_defaults(spec);
	}
	if (type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer")))
		v_default_str(spec, "externalTrafficPolicy", "Cluster");
	if (type && !strcmp(type, "LoadBalancer"))
		v_default_bool(spec, "allocateLoadBalancerNodePorts", true);
	v_default_obj(v_default_obj(obj, "status"), "loadBalancer");
}

/* ---- Service validation -----------------------------------------------------------------------
 */

static void service_port(const json_t *p, const char *path, bool need_name, json_t *names,
                         struct api_invalid *inv)
{
	const char *name = v_str(p, "name"), *proto = v_str(p, "protocol");
	const char *app = v_str(p, "appProtocol");
	int64_t port = 0;
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.name", path);
	if (need_name && (name == NULL || *name == '\0')) {
		v_required(inv, at, "");
	} else if (name && *name) {
		v_dns_label(inv, at, name);
		if (json_object_get(names, name))
			v_duplicate(inv, at, name);
		json_object_set_new(names, name, json_true());
	}
	v_pathf(at, sizeof at, "%s.port", path);
	v_int(p, "port", &port);
	v_port_num(inv, at, port);
	v_pathf(at, sizeof at, "%s.protocol", path);
	if (proto == NULL || *proto == '\0')
		v_required(inv, at, "");
	else if (!v_one_of(proto, protocols))
		v_unsupported(inv, at, proto, protocols);
	v_pathf(at, sizeof at, "%s.targetPort", path);
	v_port_num_or_name(inv, at, json_object_get(p, "targetPort"));
	v_pathf(at, sizeof at, "%s.appProtocol", path);
	if (app)
		v_qualified_name(inv, at, app);
}

static void ports(const json_t *spec, const char *type, struct api_invalid *inv)
{
	json_t *list = v_arr(spec, "ports"), *p, *names = json_object(), *seen = json_object();
	size_t i, n = json_array_size(list);
	char at[V_PATH], key[64], raw[256];

	if (n == 0 && !headless(spec) && strcmp(type, "ExternalName") != 0)
		v_required(inv, "spec.ports", "");
	json_array_foreach(list, i, p)
	{
		const char *proto = v_str(p, "protocol");
		int64_t port = 0, node = 0;
		v_pathf(at, sizeof at, "spec.ports[%zu]", i);
		service_port(p, at, n > 1, names, inv);
		v_int(p, "port", &port);
		if (!strcmp(type, "LoadBalancer") && port == 10250)
			v_invalid_int(
			    inv, at, port,
			    "may not expose port 10250 externally since it is used by kubelet");
		v_pathf(at, sizeof at, "spec.ports[%zu].nodePort", i);
		if (!strcmp(type, "ClusterIP") && v_int(p, "nodePort", &node) && node != 0)
			v_forbidden(inv, at, "may not be used when `type` is 'ClusterIP'");
		snprintf(key, sizeof key, "%s/%lld", proto ? proto : "", (long long)port);
		if (json_object_get(seen, key)) {
			v_pathf(at, sizeof at, "spec.ports[%zu]", i);
			snprintf(
			    raw, sizeof raw,
			    "core.ServicePort{Name:\"\", Protocol:\"%s\", AppProtocol:(*string)(nil), "
			    "Port:%lld, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, "
			    "NodePort:0}",
			    proto ? proto : "", (long long)port);
			api_invalid_add(inv, "FieldValueDuplicate", at, "Duplicate value: %s", raw);
		}
		json_object_set_new(seen, key, json_true());
	}
	json_decref(names);
	json_decref(seen);
}

static void external_name(const json_t *spec, struct api_invalid *inv)
{
	const char *en = v_str(spec, "externalName");
	char cname[300];
	size_t n;

	if (json_array_size(v_arr(spec, "clusterIPs")) > 0)
		v_forbidden(inv, "spec.clusterIPs", "may not be set for ExternalName services");
	if (json_array_size(v_arr(spec, "ipFamilies")) > 0)
		v_forbidden(inv, "spec.ipFamilies", "may not be set for ExternalName services");
	if (v_has(spec, "ipFamilyPolicy"))
		v_forbidden(inv, "spec.ipFamilyPolicy", "may not be set for ExternalName services");
	snprintf(cname, sizeof cname, "%s", en ? en : "");
	n = strlen(cname);
	if (n && cname[n - 1] == '.')
		cname[n - 1] = '\0';
	if (*cname)
		v_dns_subdomain(inv, "spec.externalName", cname);
	else
		v_required(inv, "spec.externalName", "");
}

static void cluster_ips(const json_t *spec, struct api_invalid *inv)
{
	static const char *const families[] = {"IPv4", "IPv6", NULL};
	static const char *const policies[] = {"PreferDualStack", "RequireDualStack", "SingleStack",
	                                       NULL};
	json_t *ips = v_arr(spec, "clusterIPs"), *v, *seen = json_object();
	const char *ip = v_str(spec, "clusterIP"),
	           *first = json_string_value(json_array_get(ips, 0));
	const char *policy = v_str(spec, "ipFamilyPolicy");
	size_t i;
	char at[V_PATH];

	if (ip && *ip && json_array_size(ips) == 0)
		v_required(inv, "spec.clusterIPs", "");
	else if (ip && *ip && (first == NULL || strcmp(first, ip) != 0))
		v_invalid_raw(inv, "spec.clusterIPs", "[]string{...}",
		              "first value must match `clusterIP`");
	else if ((ip == NULL || *ip == '\0') && json_array_size(ips) != 0)
		v_invalid_raw(inv, "spec.clusterIPs", "[]string{...}",
		              "must be empty when `clusterIP` is not specified");
	json_array_foreach(v_arr(spec, "ipFamilies"), i, v)
	{
		const char *f = json_is_string(v) ? json_string_value(v) : "";
		v_pathf(at, sizeof at, "spec.ipFamilies[%zu]", i);
		if (!v_one_of(f, families))
			v_unsupported(inv, at, f, families);
		if (json_object_get(seen, f))
			v_duplicate(inv, at, f);
		json_object_set_new(seen, f, json_true());
	}
	json_decref(seen);
	if (policy && !v_one_of(policy, policies))
		v_unsupported(inv, "spec.ipFamilyPolicy", policy, policies);
	json_array_foreach(ips, i, v)
	{
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		v_pathf(at, sizeof at, "spec.clusterIPs[%zu]", i);
		if (i == 0 && strcmp(s, "None") == 0) {
			if (json_array_size(ips) > 1)
				v_invalid_raw(inv, "spec.clusterIPs", "[]string{...}",
				              "'None' must be the first and only value");
			continue;
		}
		v_ip(inv, at, s);
	}
	if (json_array_size(ips) > 2)
		v_invalid_raw(inv, "spec.clusterIPs", "[]string{...}",
		              "may only hold up to 2 values");
}

static void affinity_and_policies(const json_t *spec, const char *type, struct api_invalid *inv)
{
	static const char *const affinities[] = {"ClientIP", "None", NULL};
	static const char *const traffic[] = {"Cluster", "Local", NULL};
	const char *sa = v_str(spec, "sessionAffinity"),
	           *itp = v_str(spec, "internalTrafficPolicy");
	const char *etp = v_str(spec, "externalTrafficPolicy");
	json_t *cfg = v_obj(spec, "sessionAffinityConfig");
	bool external = !strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer") ||
	                (!strcmp(type, "ClusterIP") && json_array_size(v_arr(spec, "externalIPs")));
	int64_t t;

	if (sa == NULL || *sa == '\0')
		v_required(inv, "spec.sessionAffinity", "");
	else if (!v_one_of(sa, affinities))
		v_unsupported(inv, "spec.sessionAffinity", sa, affinities);
	if (sa && !strcmp(sa, "ClientIP")) {
		if (!v_int(v_obj(cfg, "clientIP"), "timeoutSeconds", &t))
			v_required(inv, "spec.sessionAffinityConfig",
			           "when session affinity type is ClientIP");
		else if (t <= 0 || t > 86400)
			v_invalid_int(inv, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", t,
			              "must be greater than 0 and less than 86400");
	} else if (sa && !strcmp(sa, "None") && cfg) {
		v_forbidden(inv, "spec.sessionAffinityConfig",
		            "must not be set when session affinity is None");
	}
	if (itp == NULL && strcmp(type, "ExternalName") != 0 &&
	    v_one_of(type, (const char *const[]){"ClusterIP", "NodePort", "LoadBalancer", NULL}))
		v_required(inv, "spec.internalTrafficPolicy", "");
	else if (itp && !v_one_of(itp, traffic))
		v_unsupported(inv, "spec.internalTrafficPolicy", itp, traffic);
	if (!external && etp && *etp)
		v_invalid(inv, "spec.externalTrafficPolicy", etp,
		          "may only be set for externally-accessible services");
	else if (external && (etp == NULL || *etp == '\0'))
		v_required(inv, "spec.externalTrafficPolicy", "");
	else if (external && !v_one_of(etp, traffic))
		v_unsupported(inv, "spec.externalTrafficPolicy", etp, traffic);
}

/* patchAllocatedValues of the registry: an update that leaves clusterIP out keeps the old one. */
static void keep_allocated(json_t *spec, const json_t *old)
{
	static const char *const keys[] = {"clusterIP", "clusterIPs", "ipFamilies",
	                                   "ipFamilyPolicy", NULL};
	const char *type = v_str(spec, "type"), *otype = v_str(old, "type");

	if (!json_is_object(spec) || !type || !otype || !strcmp(type, "ExternalName") ||
	    !strcmp(otype, "ExternalName") || !v_str_empty(spec, "clusterIP") ||
	    v_str_empty(old, "clusterIP"))
		return;
	for (size_t i = 0; keys[i]; i++)
		if (json_object_get(old, keys[i]))
			json_object_set(spec, keys[i], json_object_get(old, keys[i]));
}

static void service_update(json_t *spec, const json_t *old, struct api_invalid *inv)
{
	json_t *a = v_arr(spec, "clusterIPs"), *b = v_arr(old, "clusterIPs");
	const char *type = v_str(spec, "type"), *otype = v_str(old, "type");
	char at[V_PATH];

	if (!type || !otype || !strcmp(type, "ExternalName") || !strcmp(otype, "ExternalName") ||
	    (headless(spec) && headless(old)))
		return;
	if (json_array_size(a) == json_array_size(b)) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			v_pathf(at, sizeof at, "spec.clusterIPs[%zu]", i);
			if (!json_equal(json_array_get(a, i), json_array_get(b, i)))
				v_invalid_raw(inv, at, "[]string{...}", "may not change once set");
		}
	} else if (json_array_size(a) == 0) {
		v_invalid_raw(inv, "spec.clusterIPs[0]", "[]string{}",
		              "primary clusterIP can not be unset");
	} else if (json_array_size(b) > 0 &&
	           !json_equal(json_array_get(a, 0), json_array_get(b, 0))) {
		v_invalid_raw(inv, "spec.clusterIPs[0]", "[]string{...}",
		              "may not change once set");
	}
}

void api_service_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
	                                    NULL};
	json_t *spec = v_obj(obj, "spec"), *empty = NULL, *ip;
	const char *name = v_str(v_obj(obj, "metadata"), "name"), *type;
	struct api_invalid probe = {0};
	size_t i;
	char at[V_PATH];

	if (spec == NULL)
		spec = empty = json_object();
	if (old)
		keep_allocated(spec, v_obj(old, "spec"));
	type = v_str(spec, "type") ? v_str(spec, "type") : "";
	v_meta(inv, obj);
	/* Service names are DNS-1035 labels; the handler already checked the DNS-1123 form. */
	if (name && v_dns_label(&probe, "metadata.name", name))
		v_dns1035_label(inv, "metadata.name", name);
	api_invalid_free(&probe);
	ports(spec, type, inv);
	if (!strcmp(type, "LoadBalancer") && headless(spec))
		v_invalid(inv, "spec.clusterIPs[0]", "None",
		          "may not be set to 'None' for LoadBalancer services");
	if (!strcmp(type, "NodePort") && headless(spec))
		v_invalid(inv, "spec.clusterIPs[0]", "None",
		          "may not be set to 'None' for NodePort services");
	if (!strcmp(type, "ExternalName"))
		external_name(spec, inv);
	else
		cluster_ips(spec, inv);
	v_labels(inv, "spec.selector", v_obj(spec, "selector"));
	affinity_and_policies(spec, type, inv);
	json_array_foreach(v_arr(spec, "externalIPs"), i, ip)
	{
		v_pathf(at, sizeof at, "spec.externalIPs[%zu]", i);
		v_ip(inv, at, json_is_string(ip) ? json_string_value(ip) : "");
	}
	if (*type == '\0')
		v_required(inv, "spec.type", "");
	else if (!v_one_of(type, types))
		v_unsupported(inv, "spec.type", type, types);
	if (old)
		service_update(spec, v_obj(old, "spec"), inv);
	json_decref(empty);
}

/* ---- Secrets ----------------------------------------------------------------------------------
 */

#define SECRET_MAX (1024 * 1024)

static char *base64(const char *in, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
		*o++ = tbl[(v >> 18) & 63];
		*o++ = tbl[(v >> 12) & 63];
		*o++ = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

void api_secret_defaults(json_t *obj)
{
	json_t *sd = v_obj(obj, "stringData"), *data, *v;
	const char *k;

	if (!json_is_object(obj))
		return;
	v_default_str(obj, "type", "Opaque");
	if (sd == NULL) {
		json_object_del(obj, "stringData");
		return;
	}
	/* The v1 conversion writes stringData over data (stringData wins) and drops it. */
	data = v_default_obj(obj, "data");
	json_object_foreach(sd, k, v)
	{
		char *enc =
		    json_is_string(v) ? base64(json_string_value(v), json_string_length(v)) : NULL;
		if (data && enc)
			json_object_set_new(data, k, json_string(enc));
		free(enc);
	}
	json_object_del(obj, "stringData");
}

/* Bytes base64 text decodes to. */
static size_t decoded(const json_t *v)
{
	size_t n = json_is_string(v) ? json_string_length(v) : 0;
	const char *s = json_string_value(v);
	size_t pad = (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');

	return n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) - (n % 4 ? 0 : pad);
}

static void required_key(const json_t *data, const char *key, struct api_invalid *inv)
{
	char at[V_PATH];

	v_pathf(at, sizeof at, "data[%s]", key);
	if (!json_object_get(data, key))
		v_required(inv, at, "");
}

static void secret_type(const json_t *obj, const json_t *data, struct api_invalid *inv)
{
	const char *type = v_str(obj, "type");
	json_t *ann = v_obj(v_obj(obj, "metadata"), "annotations");

	if (type == NULL)
		return;
	if (!strcmp(type, "kubernetes.io/service-account-token") &&
	    v_str_empty(ann, "kubernetes.io/service-account.name"))
		v_required(inv, "metadata.annotations[kubernetes.io/service-account.name]", "");
	else if (!strcmp(type, "kubernetes.io/dockercfg"))
		required_key(data, ".dockercfg", inv);
	else if (!strcmp(type, "kubernetes.io/dockerconfigjson"))
		required_key(data, ".dockerconfigjson", inv);
	else if (!strcmp(type, "kubernetes.io/basic-auth") && !json_object_get(data, "username") &&
	         !json_object_get(data, "password")) {
		required_key(data, "username", inv);
		required_key(data, "password", inv);
	} else if (!strcmp(type, "kubernetes.io/ssh-auth") && v_str_empty(data, "ssh-privatekey")) {
		v_required(inv, "data[ssh-privatekey]", "");
	} else if (!strcmp(type, "kubernetes.io/tls")) {
		required_key(data, "tls.crt", inv);
		required_key(data, "tls.key", inv);
	}
}

void api_secret_validate(json_t *obj, json_t *old, struct api_invalid *inv)
{
	json_t *data = v_obj(obj, "data"), *v;
	const char *k;
	size_t total = 0;
	char at[V_PATH];

	v_meta(inv, obj);
	json_object_foreach(data, k, v)
	{
		v_pathf(at, sizeof at, "data[%s]", k);
		v_config_key(inv, at, k);
		total += decoded(v);
	}
	if (total > SECRET_MAX)
		v_too_long(inv, "data", SECRET_MAX);
	secret_type(obj, data, inv);
	if (old == NULL)
		return;
	if (!v_semantic_equal(json_object_get(obj, "type"), json_object_get(old, "type")))
		v_invalid(inv, "type", v_str(obj, "type") ? v_str(obj, "type") : "",
		          "field is immutable");
	if (json_is_true(json_object_get(old, "immutable"))) {
		if (!json_is_true(json_object_get(obj, "immutable")))
			v_forbidden(inv, "immutable", "field is immutable when `immutable` is set");
		if (!v_semantic_equal(data, v_obj(old, "data")))
			v_forbidden(inv, "data", "field is immutable when `immutable` is set");
	}
}
