/* validate_container.c — defaults and rules of one container of a PodSpec (regular or init):
 * ports, env, volume mounts, resources, probes and lifecycle hooks, as kube-apiserver applies them
 * (pkg/apis/core/v1/defaults.go; pkg/apis/core/validation/validation.go, validateContainerCommon,
 * validateContainers, validateInitContainers, ValidateResourceRequirements). */
#include <stdio.h>
#include <string.h>

#include "validate_util.h"

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};
static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
static const char *const message_policies[] = {"File", "FallbackToLogsOnError", NULL};
static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
static const char *const probe_names[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};

/* ---- Defaults ---------------------------------------------------------------------------------
 */

/* The tag of an image reference: "latest" when none is given and there is no digest. */
static bool image_is_latest(const char *image)
{
	const char *last = strrchr(image, '/'), *colon;

	last = last ? last + 1 : image;
	colon = strchr(last, ':');
	if (colon == NULL)
		return strchr(last, '@') == NULL;
	return strncmp(colon + 1, "latest", 6) == 0 && (colon[7] == '\0' || colon[7] == '@');
}

static void handler_defaults(json_t *h)
{
	json_t *http = v_obj(h, "httpGet");

	if (http) {
		v_default_str(http, "path", "/");
		v_default_str(http, "scheme", "HTTP");
	}
}

static void probe_defaults(json_t *p)
{
	if (!json_is_object(p))
		return;
	v_default_int(p, "timeoutSeconds", 1);
	v_default_int(p, "periodSeconds", 10);
	v_default_int(p, "successThreshold", 1);
	v_default_int(p, "failureThreshold", 3);
	handler_defaults(p);
}

static void env_defaults(json_t *env)
{
	size_t i;
	json_t *e;

	json_array_foreach(env, i, e)
	{
		json_t *ref = v_obj(v_obj(e, "valueFrom"), "fieldRef");
		if (ref)
			v_default_str(ref, "apiVersion", "v1");
	}
}

void v_container_defaults(json_t *c)
{
	const char *image = v_str(c, "image");
	json_t *ports = v_arr(c, "ports"), *p, *life = v_obj(c, "lifecycle");
	size_t i;

	if (!json_is_object(c))
		return;
	if (v_str_empty(c, "imagePullPolicy") && image)
		v_default_str(c, "imagePullPolicy",
		              image_is_latest(image) ? "Always" : "IfNotPresent");
	v_default_str(c, "terminationMessagePath", "/dev/termination-log");
	v_default_str(c, "terminationMessagePolicy", "File");
	v_default_obj(c, "resources");
	json_array_foreach(ports, i, p) v_default_str(p, "protocol", "TCP");
	for (i = 0; probe_names[i]; i++)
		probe_defaults(v_obj(c, probe_names[i]));
	handler_defaults(v_obj(life, "postStart"));
	handler_defaults(v_obj(life, "preStop"));
	env_defaults(v_arr(c, "env"));
}

/* ---- Ports and env ----------------------------------------------------------------------------
 */

static void ports(json_t *c, const char *path, struct api_invalid *inv)
{
	json_t *list = v_arr(c, "ports"), *p, *names = json_object();
	char at[V_PATH];
	size_t i;

	json_array_foreach(list, i, p)
	{
		const char *name = v_str(p, "name"), *proto = v_str(p, "protocol");
		int64_t port = 0, host = 0;

		v_pathf(at, sizeof at, "%s.ports[%zu].name", path, i);
		if (name && *name && v_port_name(inv, at, name)) {
			if (json_object_get(names, name))
				v_duplicate(inv, at, name);
			json_object_set_new(names, name, json_true());
		}
		v_pathf(at, sizeof at, "%s.ports[%zu].containerPort", path, i);
		if (!v_int(p, "containerPort", &port) || port == 0)
			v_required(inv, at, "");
		else
			v_port_num(inv, at, port);
		v_pathf(at, sizeof at, "%s.ports[%zu].hostPort", path, i);
		if (v_int(p, "hostPort", &host) && host != 0)
			v_port_num(inv, at, host);
		v_pathf(at, sizeof at, "%s.ports[%zu].protocol", path, i);
		if (proto == NULL || *proto == '\0')
			v_required(inv, at, "");
		else if (!v_one_of(proto, protocols))
			v_unsupported(inv, at, proto, protocols);
	}
	json_decref(names);
}

static const char *const env_field_paths[] = {"metadata.name",
                                              "metadata.namespace",
                                              "metadata.uid",
                                              "spec.nodeName",
                                              "spec.serviceAccountName",
                                              "status.hostIP",
                                              "status.hostIPs",
                                              "status.podIP",
                                              "status.podIPs",
                                              NULL};

static void field_ref(const json_t *ref, const char *path, struct api_invalid *inv)
{
	const char *fp = v_str(ref, "fieldPath");
	char at[V_PATH];

	if (v_str_empty(ref, "apiVersion")) {
		v_pathf(at, sizeof at, "%s.apiVersion", path);
		v_required(inv, at, "");
		return;
	}
	v_pathf(at, sizeof at, "%s.fieldPath", path);
	if (fp == NULL || *fp == '\0')
		v_required(inv, at, "");
	else if (strncmp(fp, "metadata.labels[", 16) == 0 ||
	         strncmp(fp, "metadata.annotations[", 21) == 0)
		; /* a subscripted label or annotation */
	else if (!v_one_of(fp, env_field_paths))
		v_unsupported(inv, at, fp, env_field_paths);
}

static void key_ref(const json_t *ref, const char *path, struct api_invalid *inv)
{
	const char *name = v_str(ref, "name"), *key = v_str(ref, "key");
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.name", path);
	v_dns_subdomain(inv, at, name ? name : "");
	v_pathf(at, sizeof at, "%s.key", path);
	if (key == NULL || *key == '\0')
		v_required(inv, at, "");
	else
		v_config_key(inv, at, key);
}

static void env_name(const char *name, const char *path, struct api_invalid *inv)
{
	/* RelaxedEnvironmentVariableValidation is on by default in 1.32 (beta): any printable ASCII
	 * but '=' (validation.IsRelaxedEnvVarName). */
	for (const char *s = name; *s; s++) {
		if (*s < 0x20 || *s > 0x7e || *s == '=') {
			v_invalid(
			    inv, path, name,
			    "a valid environment variable name must consist only of printable "
			    "ASCII characters other than '='");
			return;
		}
	}
}

static void value_from(const json_t *e, const char *path, struct api_invalid *inv)
{
	json_t *from = v_obj(e, "valueFrom");
	const char *value = v_str(e, "value");
	int n = 0;
	char at[V_PATH];

	if (from == NULL)
		return;
	if (v_obj(from, "fieldRef")) {
		n++;
		v_pathf(at, sizeof at, "%s.fieldRef", path);
		field_ref(v_obj(from, "fieldRef"), at, inv);
	}
	n += v_obj(from, "resourceFieldRef") != NULL;
	if (v_obj(from, "configMapKeyRef")) {
		n++;
		v_pathf(at, sizeof at, "%s.configMapKeyRef", path);
		key_ref(v_obj(from, "configMapKeyRef"), at, inv);
	}
	if (v_obj(from, "secretKeyRef")) {
		n++;
		v_pathf(at, sizeof at, "%s.secretKeyRef", path);
		key_ref(v_obj(from, "secretKeyRef"), at, inv);
	}
	if (n == 0)
		v_invalid(
		    inv, path, "",
		    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
		    "`secretKeyRef`");
	else if (value && *value)
		v_invalid(inv, path, "", "may not be specified when `value` is not empty");
	else if (n > 1)
		v_invalid(inv, path, "", "may not have more than one field specified at a time");
}

static void env(json_t *c, const char *path, struct api_invalid *inv)
{
	json_t *list = v_arr(c, "env"), *e;
	char at[V_PATH];
	size_t i;

	json_array_foreach(list, i, e)
	{
		const char *name = v_str(e, "name");
		v_pathf(at, sizeof at, "%s.env[%zu].name", path, i);
		if (name == NULL || *name == '\0')
			v_required(inv, at, "");
		else
			env_name(name, at, inv);
		v_pathf(at, sizeof at, "%s.env[%zu].valueFrom", path, i);
		value_from(e, at, inv);
	}
	list = v_arr(c, "envFrom");
	json_array_foreach(list, i, e)
	{
		json_t *cm = v_obj(e, "configMapRef"), *sec = v_obj(e, "secretRef");
		json_t *ref = cm ? cm : sec;
		v_pathf(at, sizeof at, "%s.envFrom", path);
		if (cm == NULL && sec == NULL)
			v_invalid(inv, at, "",
			          "must specify one of: `configMapRef` or `secretRef`");
		else if (cm && sec)
			v_invalid(inv, at, "",
			          "may not have more than one field specified at a time");
		v_pathf(at, sizeof at, "%s.envFrom[%zu].%s.name", path, i,
		        cm ? "configMapRef" : "secretRef");
		if (ref && v_str_empty(ref, "name"))
			v_required(inv, at, "");
		else if (ref)
			v_dns_subdomain(inv, at, v_str(ref, "name"));
	}
}

/* ---- Volume mounts ----------------------------------------------------------------------------
 */

/* validateLocalDescendingPath; upstream reports it under "volumeMounts.subPath" (no index). */
static void descending_path(const char *p, const char *path, struct api_invalid *inv)
{
	const char *s = p;

	if (*p == '/')
		v_invalid(inv, path, p, "must be a relative path");
	while (*s) {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			v_invalid(inv, path, p, "must not contain '..'");
			break;
		}
		s += n + (s[n] == '/');
	}
}

static void mounts(json_t *c, const char *path, const json_t *volumes, struct api_invalid *inv)
{
	json_t *list = v_arr(c, "volumeMounts"), *m, *seen = json_object();
	char at[V_PATH];
	size_t i;

	json_array_foreach(list, i, m)
	{
		const char *name = v_str(m, "name"), *mp = v_str(m, "mountPath");
		const char *sub = v_str(m, "subPath"), *expr = v_str(m, "subPathExpr");

		v_pathf(at, sizeof at, "%s.volumeMounts[%zu].name", path, i);
		if (name == NULL || *name == '\0')
			v_required(inv, at, "");
		if (!json_object_get(volumes, name ? name : ""))
			v_not_found(inv, at, name ? name : "");
		v_pathf(at, sizeof at, "%s.volumeMounts[%zu].mountPath", path, i);
		if (mp == NULL || *mp == '\0')
			v_required(inv, at, "");
		if (json_object_get(seen, mp ? mp : ""))
			v_invalid(inv, at, mp ? mp : "", "must be unique");
		json_object_set_new(seen, mp ? mp : "", json_true());
		v_pathf(at, sizeof at, "%s.volumeMounts.subPath", path);
		if (sub && *sub)
			descending_path(sub, at, inv);
		v_pathf(at, sizeof at, "%s.volumeMounts[%zu].subPathExpr", path, i);
		if (expr && *expr && sub && *sub)
			v_invalid(inv, at, expr, "subPathExpr and subPath are mutually exclusive");
	}
	json_decref(seen);
}

/* ---- Resources --------------------------------------------------------------------------------
 */

static bool is_hugepages(const char *name)
{
	return strncmp(name, "hugepages-", 10) == 0;
}

/* Native (no prefix, or a kubernetes.io one) and not hugepages: requests may be below limits. */
static bool overcommit_allowed(const char *name)
{
	const char *slash = strchr(name, '/');
	bool native = slash == NULL || strstr(name, "kubernetes.io/") != NULL;
	return native && !is_hugepages(name);
}

static void resource_name(const char *name, const char *path, struct api_invalid *inv)
{
	static const char *const standard[] = {"cpu", "memory", "ephemeral-storage", NULL};

	if (!v_qualified_name(inv, path, name))
		return;
	if (strchr(name, '/') == NULL && !v_one_of(name, standard) && !is_hugepages(name)) {
		v_invalid(inv, path, name, "must be a standard resource type or fully qualified");
		v_invalid(inv, path, name, "must be a standard resource for containers");
	}
}

static void quantity_value(const char *name, const json_t *v, const char *path,
                           struct api_invalid *inv, struct api_quantity *q, bool *ok)
{
	char text[128];

	*ok = v_quantity(inv, path, v, q);
	if (!*ok)
		return;
	v_quantity_text(v, text, sizeof text);
	if (api_quantity_sign(q) < 0)
		v_invalid(inv, path, text, "must be greater than or equal to 0");
	/* Extended resources count whole devices (helper.IsIntegerResourceName). */
	if (!overcommit_allowed(name) && !is_hugepages(name) && api_quantity_milli(q) % 1000 != 0)
		v_invalid(inv, path, text, "must be an integer");
}

static void request_vs_limit(const char *name, const json_t *req, const struct api_quantity *rq,
                             const json_t *limits, const char *path, struct api_invalid *inv)
{
	json_t *lim = json_object_get(limits, name);
	struct api_quantity lq;
	char at[V_PATH], why[256], rtext[128], ltext[128];

	v_pathf(at, sizeof at, "%s.requests", path);
	v_quantity_text(req, rtext, sizeof rtext);
	if (lim == NULL) {
		v_pathf(at, sizeof at, "%s.limits", path);
		if (!overcommit_allowed(name))
			v_required(inv, at, "Limit must be set for non overcommitable resources");
		return;
	}
	if (api_quantity_from_json(lim, &lq) != 0)
		return;
	v_quantity_text(lim, ltext, sizeof ltext);
	if (!overcommit_allowed(name) && api_quantity_cmp(rq, &lq) != 0) {
		snprintf(why, sizeof why, "must be equal to %s limit of %s", name, ltext);
		v_invalid(inv, at, rtext, why);
	} else if (api_quantity_cmp(rq, &lq) > 0) {
		snprintf(why, sizeof why, "must be less than or equal to %s limit of %s", name,
		         ltext);
		v_invalid(inv, at, rtext, why);
	}
}

static void resources(json_t *c, const char *path, struct api_invalid *inv)
{
	json_t *res = v_obj(c, "resources"), *limits = v_obj(res, "limits");
	json_t *requests = v_obj(res, "requests"), *v;
	char base[V_PATH], at[V_PATH + 64];
	const char *k;
	struct api_quantity q;
	bool ok;

	v_pathf(base, sizeof base, "%s.resources", path);
	json_object_foreach(limits, k, v)
	{
		v_pathf(at, sizeof at, "%s.limits[%s]", base, k);
		resource_name(k, at, inv);
		quantity_value(k, v, at, inv, &q, &ok);
	}
	json_object_foreach(requests, k, v)
	{
		v_pathf(at, sizeof at, "%s.requests[%s]", base, k);
		resource_name(k, at, inv);
		quantity_value(k, v, at, inv, &q, &ok);
		if (ok)
			request_vs_limit(k, v, &q, limits, base, inv);
	}
}

/* ---- Probes and lifecycle ---------------------------------------------------------------------
 */

static void handler(const json_t *h, const char *path, int64_t grace, bool sleep_ok,
                    struct api_invalid *inv)
{
	static const char *const kinds[] = {"exec", "httpGet", "tcpSocket", "grpc", "sleep", NULL};
	char at[V_PATH];
	int n = 0;

	for (size_t i = 0; kinds[i]; i++) {
		json_t *a = v_obj(h, kinds[i]);
		if (a == NULL || (!sleep_ok && strcmp(kinds[i], "sleep") == 0) ||
		    (sleep_ok && strcmp(kinds[i], "grpc") == 0))
			continue;
		v_pathf(at, sizeof at, "%s.%s", path, kinds[i]);
		if (n++ > 0) {
			v_forbidden(inv, at, "may not specify more than 1 handler type");
			continue;
		}
		if (i == 0 && json_array_size(v_arr(a, "command")) == 0) {
			v_pathf(at, sizeof at, "%s.exec.command", path);
			v_required(inv, at, "");
		} else if (i == 1 || i == 2 || i == 3) {
			const char *scheme = v_str(a, "scheme");
			if (i == 1 && v_str_empty(a, "path")) {
				v_pathf(at, sizeof at, "%s.httpGet.path", path);
				v_required(inv, at, "");
			}
			v_pathf(at, sizeof at, "%s.%s.port", path, kinds[i]);
			v_port_num_or_name(inv, at, json_object_get(a, "port"));
			v_pathf(at, sizeof at, "%s.httpGet.scheme", path);
			if (i == 1 && !v_one_of(scheme, schemes))
				v_unsupported(inv, at, scheme ? scheme : "", schemes);
		} else if (i == 4) {
			int64_t secs = 0;
			v_int(a, "seconds", &secs);
			if (secs <= 0 || secs > grace) {
				char why[128];
				snprintf(
				    why, sizeof why,
				    "must be greater than 0 and less than terminationGracePeriodSeconds "
				    "(%lld)",
				    (long long)grace);
				v_invalid_int(inv, at, secs, why);
			}
		}
	}
	if (n == 0)
		v_required(inv, path, "must specify a handler type");
}

static void probe(const json_t *p, const char *path, int kind, int64_t grace,
                  struct api_invalid *inv)
{
	static const char *const counts[] = {"initialDelaySeconds", "timeoutSeconds",
	                                     "periodSeconds",       "successThreshold",
	                                     "failureThreshold",    NULL};
	char at[V_PATH];
	int64_t v;

	if (!json_is_object(p))
		return;
	handler(p, path, grace, false, inv);
	for (size_t i = 0; counts[i]; i++) {
		v_pathf(at, sizeof at, "%s.%s", path, counts[i]);
		v_nonneg(inv, at, p, counts[i]);
	}
	v_pathf(at, sizeof at, "%s.terminationGracePeriodSeconds", path);
	if (v_int(p, "terminationGracePeriodSeconds", &v) && (v <= 0 || kind == 1))
		v_invalid_int(inv, at, v,
		              kind == 1 ? "must not be set for readinessProbes"
		                        : "must be greater than 0");
	v_pathf(at, sizeof at, "%s.successThreshold", path);
	if (kind != 1 && v_int(p, "successThreshold", &v) && v != 1)
		v_invalid_int(inv, at, v, "must be 1");
}

static void probes_and_hooks(json_t *c, const char *path, int64_t grace, struct api_invalid *inv)
{
	json_t *life = v_obj(c, "lifecycle");
	char at[V_PATH];

	if (life && v_obj(life, "postStart")) {
		v_pathf(at, sizeof at, "%s.lifecycle.postStart", path);
		handler(v_obj(life, "postStart"), at, grace, true, inv);
	}
	if (life && v_obj(life, "preStop")) {
		v_pathf(at, sizeof at, "%s.lifecycle.preStop", path);
		handler(v_obj(life, "preStop"), at, grace, true, inv);
	}
	for (int i = 0; probe_names[i]; i++) {
		v_pathf(at, sizeof at, "%s.%s", path, probe_names[i]);
		probe(v_obj(c, probe_names[i]), at, i, grace, inv);
	}
}

/* ---- One container ----------------------------------------------------------------------------
 */

static void security_context(json_t *c, const char *path, struct api_invalid *inv)
{
	json_t *sc = v_obj(c, "securityContext");
	static const char *const ids[] = {"runAsUser", "runAsGroup", NULL};
	char at[V_PATH];
	int64_t v;

	for (size_t i = 0; ids[i]; i++) {
		v_pathf(at, sizeof at, "%s.securityContext.%s", path, ids[i]);
		if (v_int(sc, ids[i], &v) && (v < 0 || v > 2147483647))
			v_invalid_int(inv, at, v, "must be between 0 and 2147483647, inclusive");
	}
	v_pathf(at, sizeof at, "%s.securityContext", path);
	if (json_is_false(json_object_get(sc, "allowPrivilegeEscalation")) &&
	    json_is_true(json_object_get(sc, "privileged")))
		v_invalid_raw(
		    inv, at, "&SecurityContext{...}",
		    "cannot set `allowPrivilegeEscalation` to false and `privileged` to true");
}

static void common(json_t *c, const char *path, const json_t *volumes, bool pod,
                   struct api_invalid *inv)
{
	const char *name = v_str(c, "name"), *image = v_str(c, "image");
	const char *tmp = v_str(c, "terminationMessagePolicy"), *pull = v_str(c, "imagePullPolicy");
	char at[V_PATH];

	v_pathf(at, sizeof at, "%s.name", path);
	if (name == NULL || *name == '\0')
		v_required(inv, at, "");
	else
		v_dns_label(inv, at, name);
	v_pathf(at, sizeof at, "%s.image", path);
	if (image == NULL || *image == '\0')
		v_required(inv, at, "");
	else if (pod && (image[0] == ' ' || image[strlen(image) - 1] == ' ' || image[0] == '\t' ||
	                 image[strlen(image) - 1] == '\t'))
		v_invalid(inv, at, image, "must not have leading or trailing whitespace");
	v_pathf(at, sizeof at, "%s.terminationMessagePolicy", path);
	if (tmp == NULL || *tmp == '\0')
		v_required(inv, at, "");
	else if (!v_one_of(tmp, message_policies))
		v_unsupported(inv, at, tmp, message_policies);
	ports(c, path, inv);
	env(c, path, inv);
	mounts(c, path, volumes, inv);
	v_pathf(at, sizeof at, "%s.imagePullPolicy", path);
	if (pull == NULL || *pull == '\0')
		v_required(inv, at, "");
	else if (!v_one_of(pull, pull_policies))
		v_unsupported(inv, at, pull, pull_policies);
	resources(c, path, inv);
	security_context(c, path, inv);
}

void v_container(json_t *c, const char *path, const json_t *volumes, bool pod, bool init,
                 int64_t grace, struct api_invalid *inv)
{
	static const char *const restart[] = {"Always", NULL};
	const char *rp = v_str(c, "restartPolicy");
	char at[V_PATH];

	if (!json_is_object(c)) {
		v_pathf(at, sizeof at, "%s.name", path);
		v_required(inv, at, "");
		return;
	}
	common(c, path, volumes, pod, inv);
	v_pathf(at, sizeof at, "%s.restartPolicy", path);
	if (!init) {
		if (v_has(c, "restartPolicy"))
			v_forbidden(inv, at, "may not be set for non-init containers");
		probes_and_hooks(c, path, grace, inv);
		return;
	}
	if (rp && !v_one_of(rp, restart))
		v_unsupported(inv, at, rp, restart);
	if (rp && strcmp(rp, "Always") == 0) {
		probes_and_hooks(c, path, grace, inv); /* a sidecar */
		return;
	}
	static const char *const banned[] = {"lifecycle", "livenessProbe", "readinessProbe",
	                                     "startupProbe", NULL};
	for (size_t i = 0; banned[i]; i++) {
		v_pathf(at, sizeof at, "%s.%s", path, banned[i]);
		if (v_has(c, banned[i]))
			v_forbidden(
			    inv, at,
			    "may not be set for init containers without restartPolicy=Always");
	}
}
