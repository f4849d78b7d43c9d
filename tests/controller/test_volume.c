/* test_volume.c — the volume binder (controller/volume.h): the class a claim uses (upstream's
 * GetDefaultClass order), the volumes of both provisioners checked against stsd's own API
 * validation and schema, the bound claim as a valid update of the stored one, pinning, reclaim,
 * bad input and an allocation-failure sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errors.h"
#include "hooks.h"
#include "schema.h"
#include "schemas.h"
#include "volume.h"

#define NOW 1795000000 /* 2026-11-18T11:06:40Z */

/* JSON from a printf format written with ' for " (readable literals). */
static json_t *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *J(const char *fmt, ...)
{
	char buf[4096];
	json_error_t err;
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++)
		if (*p == '\'')
			*p = '"';
	v = json_loads(buf, 0, &err);
	if (v == NULL)
		fail_msg("bad test JSON: %s in %s", err.text, buf);
	return v;
}

static const char *S(const json_t *obj, const char *path)
{
	return ctl_str(obj, path);
}

static const char *ann(const json_t *obj, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
}

static json_t *sc(const char *name, const char *provisioner, const char *extra)
{
	return J("{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{'name':'%s',"
	         "'creationTimestamp':'2026-11-01T00:00:00Z'},'provisioner':'%s',"
	         "'reclaimPolicy':'Delete','volumeBindingMode':'WaitForFirstConsumer'%s}",
	         name, provisioner, extra);
}

static json_t *default_sc(const char *name, const char *created, const char *key)
{
	return J("{'metadata':{'name':'%s','creationTimestamp':'%s','annotations':{'%s':'true'}},"
	         "'provisioner':'stsd.io/local'}",
	         name, created, key);
}

/* A stored claim of web-0, as the StatefulSet controller makes it and the API defaults it. */
static json_t *claim(const char *class_member)
{
	return J(
	    "{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':'data-web-0',"
	    "'namespace':'default','uid':'0b1c2d3e-1111-2222-3333-444455556666',"
	    "'resourceVersion':'42','labels':{'app':'web'}},'spec':{'accessModes':"
	    "['ReadWriteOnce'],'resources':{'requests':{'storage':'1Gi'}}%s,"
	    "'volumeMode':'Filesystem'},'status':{'phase':'Pending'}}",
	    class_member);
}

static void assert_no_causes(struct api_invalid *inv, const char *what)
{
	if (inv->n != 0) {
		char *text = json_dumps(inv->causes, JSON_COMPACT);
		fprintf(stderr, "%s: %s\n", what, text);
		free(text);
		api_invalid_free(inv);
		fail_msg("%s does not validate", what);
	}
	api_invalid_free(inv);
}

static void assert_schema(const struct api_schema *sch, json_t *obj, const char *what)
{
	struct schema_report rep;

	memset(&rep, 0, sizeof rep);
	api_schema_check(sch, obj, &rep);
	if (rep.type_error[0] != '\0' || rep.n_unknown != 0)
		fail_msg("%s: schema: %s %s", what, rep.type_error,
		         rep.n_unknown ? rep.unknown[0] : "");
}

/* The PV passes stsd's own defaulting, validation and schema for persistentvolumes. */
static void assert_valid_pv(const json_t *pv)
{
	json_t *copy = json_deep_copy(pv);
	struct api_invalid inv;

	memset(&inv, 0, sizeof inv);
	assert_schema(&api_schema_pv, copy, "pv");
	api_pv_defaults(copy);
	api_pv_validate(copy, NULL, &inv);
	assert_no_causes(&inv, "pv");
	json_decref(copy);
}

/* The bound claim is a valid update of the stored one (spec immutable but volumeName and an
 * absent class). */
static void assert_valid_claim_update(const json_t *bound, const json_t *stored)
{
	json_t *n = json_deep_copy(bound), *o = json_deep_copy(stored);
	struct api_invalid inv;

	memset(&inv, 0, sizeof inv);
	assert_schema(&api_schema_pvc, n, "claim");
	api_pvc_defaults(n);
	api_pvc_defaults(o);
	api_pvc_validate(n, o, &inv);
	assert_no_causes(&inv, "bound claim");
	json_decref(n);
	json_decref(o);
}

static void assert_valid_class(json_t *c)
{
	struct api_invalid inv;

	memset(&inv, 0, sizeof inv);
	assert_schema(&api_schema_storageclass, c, "class");
	api_storageclass_defaults(c);
	api_storageclass_validate(c, NULL, &inv);
	assert_no_causes(&inv, "class");
}

/* ---- The claim's class ----------------------------------------------------------------------- */

static void class_named_empty_and_default(void **state)
{
	json_t *fast = sc("fast-ssd", CTL_PROVISIONER_LOCAL, "");
	json_t *old_default = default_sc("standard", "2026-01-01T00:00:00Z",
	                                 "storageclass.kubernetes.io/is-default-class");
	json_t *new_default = default_sc("newer", "2026-06-01T00:00:00Z",
	                                 "storageclass.beta.kubernetes.io/is-default-class");
	json_t *not_default =
	    J("{'metadata':{'name':'nd','creationTimestamp':'2026-12-01T00:00:00Z',"
	      "'annotations':{'storageclass.kubernetes.io/is-default-class':"
	      "'false'}},'provisioner':'stsd.io/local'}");
	const json_t *classes[] = {fast, NULL, old_default, new_default, not_default};
	json_t *named = claim(",'storageClassName':'fast-ssd'");
	json_t *none = claim(",'storageClassName':''");
	json_t *absent = claim("");
	json_t *missing = claim(",'storageClassName':'gold'");
	json_t *beta = J("{'metadata':{'annotations':{'volume.beta.kubernetes.io/storage-class':"
	                 "'fast-ssd'}},'spec':{'storageClassName':'standard'}}");

	(void)state;
	assert_ptr_equal(ctl_volume_class(named, classes, 5), fast);
	assert_null(ctl_volume_class(none, classes, 5));
	assert_null(ctl_volume_class(missing, classes, 5));
	/* The newest default (the beta annotation counts), not the first. */
	assert_ptr_equal(ctl_volume_class(absent, classes, 5), new_default);
	assert_ptr_equal(ctl_volume_class(absent, classes, 3), old_default);
	assert_null(ctl_volume_class(absent, classes, 2));
	assert_null(ctl_volume_class(absent, NULL, 0));
	/* The claim's beta annotation wins over spec.storageClassName (upstream). */
	assert_ptr_equal(ctl_volume_class(beta, classes, 5), fast);
	json_decref(named);
	json_decref(none);
	json_decref(absent);
	json_decref(missing);
	json_decref(beta);
	json_decref(fast);
	json_decref(old_default);
	json_decref(new_default);
	json_decref(not_default);
}

static void default_ties_go_by_name(void **state)
{
	const char *key = "storageclass.kubernetes.io/is-default-class";
	json_t *b = default_sc("b", "2026-06-01T00:00:00Z", key);
	json_t *a = default_sc("a", "2026-06-01T00:00:00Z", key);
	json_t *old = default_sc("0-old", "2025-06-01T00:00:00Z", key);
	json_t *untimed = J("{'metadata':{'name':'0','annotations':{'%s':'true'}}}", key);
	const json_t *classes[] = {old, b, untimed, a};
	json_t *pvc = claim("");

	(void)state;
	assert_ptr_equal(ctl_volume_class(pvc, classes, 4), a);
	assert_ptr_equal(ctl_volume_class(pvc, classes, 1), old);
	json_decref(pvc);
	json_decref(a);
	json_decref(b);
	json_decref(old);
	json_decref(untimed);
}

/* ---- Binding --------------------------------------------------------------------------------- */

static void binds_a_local_claim_on_its_node(void **state)
{
	json_t *c = sc("fast-ssd", CTL_PROVISIONER_LOCAL,
	               ",'parameters':{'path':'/srv/stsd/volumes/'},'mountOptions':['noatime']");
	json_t *pvc = claim(",'storageClassName':'fast-ssd'");
	struct ctl_plan plan = {0};
	const json_t *pv, *bound, *expr;

	(void)state;
	assert_int_equal(ctl_volume_bind(pvc, c, "node-a", NOW, &plan), STSD_OK);
	assert_int_equal(plan.n, 3);
	assert_false(plan.oom);

	assert_int_equal(plan.a[0].kind, CTL_CREATE);
	assert_string_equal(plan.a[0].resource, "persistentvolumes");
	assert_string_equal(plan.a[0].ns, "");
	assert_string_equal(plan.a[0].name, "pvc-0b1c2d3e-1111-2222-3333-444455556666");
	assert_int_equal(plan.a[0].expect_rv, 0);
	pv = plan.a[0].obj;
	assert_string_equal(S(pv, "metadata.name"), plan.a[0].name);
	assert_null(S(pv, "metadata.resourceVersion"));
	assert_null(S(pv, "metadata.creationTimestamp"));
	assert_string_equal(ann(pv, "pv.kubernetes.io/provisioned-by"), "stsd.io/local");
	assert_string_equal(S(pv, "spec.capacity.storage"), "1Gi");
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(json_object_get(pv, "spec"), "accessModes"), 0)),
	                    "ReadWriteOnce");
	assert_string_equal(S(pv, "spec.volumeMode"), "Filesystem");
	assert_string_equal(S(pv, "spec.storageClassName"), "fast-ssd");
	assert_string_equal(S(pv, "spec.persistentVolumeReclaimPolicy"), "Delete");
	assert_string_equal(S(pv, "spec.claimRef.kind"), "PersistentVolumeClaim");
	assert_string_equal(S(pv, "spec.claimRef.apiVersion"), "v1");
	assert_string_equal(S(pv, "spec.claimRef.namespace"), "default");
	assert_string_equal(S(pv, "spec.claimRef.name"), "data-web-0");
	assert_string_equal(S(pv, "spec.claimRef.uid"), "0b1c2d3e-1111-2222-3333-444455556666");
	assert_string_equal(S(pv, "spec.local.path"),
	                    "/srv/stsd/volumes/pvc-0b1c2d3e-1111-2222-3333-444455556666");
	assert_null(json_object_get(json_object_get(pv, "spec"), "hostPath"));
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(json_object_get(pv, "spec"), "mountOptions"), 0)),
	                    "noatime");
	expr = json_array_get(
	    json_object_get(
	        json_array_get(
	            json_object_get(json_object_get(json_object_get(json_object_get(pv, "spec"),
	                                                            "nodeAffinity"),
	                                            "required"),
	                            "nodeSelectorTerms"),
	            0),
	        "matchExpressions"),
	    0);
	assert_string_equal(S(expr, "key"), "kubernetes.io/hostname");
	assert_string_equal(S(expr, "operator"), "In");
	assert_int_equal(json_array_size(json_object_get(expr, "values")), 1);
	assert_string_equal(ctl_volume_pinned_node(pv), "node-a");
	assert_string_equal(S(pv, "status.phase"), "Bound");
	assert_string_equal(S(pv, "status.lastPhaseTransitionTime"), "2026-11-18T11:06:40Z");
	assert_valid_pv(pv);

	assert_int_equal(plan.a[1].kind, CTL_UPDATE);
	assert_string_equal(plan.a[1].resource, "persistentvolumeclaims");
	assert_string_equal(plan.a[1].ns, "default");
	assert_string_equal(plan.a[1].name, "data-web-0");
	assert_int_equal(plan.a[1].expect_rv, 42);
	bound = plan.a[1].obj;
	assert_string_equal(S(bound, "spec.volumeName"), plan.a[0].name);
	assert_string_equal(S(bound, "spec.storageClassName"), "fast-ssd");
	assert_string_equal(S(bound, "status.phase"), "Bound");
	assert_string_equal(S(bound, "status.capacity.storage"), "1Gi");
	assert_int_equal(
	    json_array_size(json_object_get(json_object_get(bound, "status"), "accessModes")), 1);
	assert_string_equal(ann(bound, "pv.kubernetes.io/bind-completed"), "yes");
	assert_string_equal(ann(bound, "pv.kubernetes.io/bound-by-controller"), "yes");
	assert_string_equal(ann(bound, "volume.kubernetes.io/selected-node"), "node-a");
	assert_string_equal(ann(bound, "volume.kubernetes.io/storage-provisioner"),
	                    "stsd.io/local");
	assert_string_equal(S(bound, "metadata.labels.app"), "web");
	assert_valid_claim_update(bound, pvc);
	/* The input is borrowed: untouched. */
	assert_null(S(pvc, "spec.volumeName"));
	assert_string_equal(S(pvc, "status.phase"), "Pending");

	assert_int_equal(plan.a[2].kind, CTL_EVENT);
	assert_string_equal(plan.a[2].resource, "persistentvolumeclaims");
	assert_string_equal(plan.a[2].reason, "ProvisioningSucceeded");
	assert_string_equal(plan.a[2].message,
	                    "Successfully provisioned volume "
	                    "pvc-0b1c2d3e-1111-2222-3333-444455556666 using stsd.io/local");
	ctl_plan_free(&plan);
	json_decref(pvc);
	json_decref(c);
}

static void binds_a_shared_claim_before_scheduling(void **state)
{
	json_t *c = J("{'metadata':{'name':'shared'},'provisioner':'stsd.io/shared-path',"
	              "'reclaimPolicy':'Retain','volumeBindingMode':'Immediate'}");
	json_t *pvc = claim(""); /* no class named: the default was picked */
	json_t *num = claim(",'storageClassName':'shared'");
	struct ctl_plan plan = {0};
	const json_t *pv, *bound;

	(void)state;
	assert_int_equal(ctl_volume_bind(pvc, c, NULL, NOW, &plan), STSD_OK);
	assert_int_equal(plan.n, 3);
	pv = plan.a[0].obj;
	assert_string_equal(S(pv, "spec.hostPath.path"),
	                    "/var/lib/stsd/shared/pvc-0b1c2d3e-1111-2222-3333-444455556666");
	assert_string_equal(S(pv, "spec.hostPath.type"), "DirectoryOrCreate");
	assert_null(json_object_get(json_object_get(pv, "spec"), "local"));
	assert_null(json_object_get(json_object_get(pv, "spec"), "nodeAffinity"));
	assert_null(ctl_volume_pinned_node(pv));
	assert_string_equal(S(pv, "spec.persistentVolumeReclaimPolicy"), "Retain");
	assert_string_equal(ann(pv, "pv.kubernetes.io/provisioned-by"), "stsd.io/shared-path");
	assert_valid_pv(pv);
	bound = plan.a[1].obj;
	assert_string_equal(S(bound, "spec.storageClassName"), "shared");
	assert_null(ann(bound, "volume.kubernetes.io/selected-node"));
	assert_valid_claim_update(bound, pvc);
	ctl_plan_free(&plan);

	/* A node given for a shared class is no selection: nothing pins the claim. */
	json_object_set_new(
	    json_object_get(json_object_get(json_object_get(num, "spec"), "resources"), "requests"),
	    "storage", json_integer(1073741824));
	assert_int_equal(ctl_volume_bind(num, c, "node-b", NOW, &plan), STSD_OK);
	assert_int_equal(
	    json_integer_value(json_object_get(
	        json_object_get(json_object_get(plan.a[0].obj, "spec"), "capacity"), "storage")),
	    1073741824);
	assert_null(ann(plan.a[1].obj, "volume.kubernetes.io/selected-node"));
	assert_valid_pv(plan.a[0].obj);
	ctl_plan_free(&plan);
	json_decref(num);
	json_decref(pvc);
	json_decref(c);
}

/* The executor's path: a claim made in the same command as its pod (uid, no rv). */
static void new_pv_and_mark_bound_for_a_new_claim(void **state)
{
	json_t *c = sc("standard", CTL_PROVISIONER_LOCAL, "");
	json_t *pvc = claim(",'storageClassName':'standard'"), *stored, *pv;
	int err = -1;

	(void)state;
	json_object_del(json_object_get(pvc, "metadata"), "resourceVersion");
	stored = json_deep_copy(pvc);
	pv = ctl_volume_new_pv(pvc, c, "sim-0", NOW, &err);
	assert_non_null(pv);
	assert_int_equal(err, STSD_OK);
	assert_string_equal(S(pv, "spec.local.path"),
	                    "/var/lib/stsd/volumes/pvc-0b1c2d3e-1111-2222-3333-444455556666");
	assert_valid_pv(pv);
	assert_int_equal(ctl_volume_mark_bound(pvc, pv, c, "sim-0"), STSD_OK);
	assert_string_equal(S(pvc, "spec.volumeName"), S(pv, "metadata.name"));
	assert_string_equal(S(pvc, "status.phase"), "Bound");
	assert_string_equal(ann(pvc, "volume.kubernetes.io/selected-node"), "sim-0");
	assert_valid_claim_update(pvc, stored);
	/* Marking again changes nothing. */
	json_decref(stored);
	stored = json_deep_copy(pvc);
	assert_int_equal(ctl_volume_mark_bound(pvc, pv, c, "sim-0"), STSD_OK);
	assert_true(json_equal(pvc, stored));
	assert_int_equal(ctl_volume_mark_bound(pvc, NULL, c, "sim-0"), STSD_INVALID);
	json_decref(stored);
	json_decref(pv);
	json_decref(pvc);
	json_decref(c);
}

static void refuses_what_it_cannot_provision(void **state)
{
	json_t *local = sc("standard", CTL_PROVISIONER_LOCAL, "");
	json_t *foreign = sc("ebs", "ebs.csi.aws.com", "");
	json_t *relative = sc("rel", CTL_PROVISIONER_LOCAL, ",'parameters':{'path':'data'}");
	json_t *escape = sc("esc", CTL_PROVISIONER_SHARED, ",'parameters':{'path':'/srv/../etc'}");
	json_t *dots = sc("dots", CTL_PROVISIONER_SHARED, ",'parameters':{'path':'/srv/..x/'}");
	json_t *pvc = claim(",'storageClassName':'standard'");
	json_t *bad = claim(",'storageClassName':'standard'");
	struct ctl_plan plan = {0};
	int err = 0;

	(void)state;
	assert_int_equal(ctl_volume_bind(pvc, NULL, "n", NOW, &plan), STSD_NOTFOUND);
	assert_int_equal(ctl_volume_bind(pvc, foreign, "n", NOW, &plan), STSD_NOTFOUND);
	assert_int_equal(ctl_volume_bind(pvc, local, NULL, NOW, &plan), STSD_INVALID);
	assert_int_equal(ctl_volume_bind(pvc, local, "", NOW, &plan), STSD_INVALID);
	assert_int_equal(ctl_volume_bind(pvc, relative, "n", NOW, &plan), STSD_INVALID);
	assert_int_equal(ctl_volume_bind(pvc, escape, "n", NOW, &plan), STSD_INVALID);
	assert_null(ctl_volume_new_pv(pvc, foreign, "n", NOW, &err));
	assert_int_equal(err, STSD_NOTFOUND);
	assert_null(ctl_volume_new_pv(pvc, local, NULL, NOW, &err));
	assert_int_equal(err, STSD_INVALID);
	assert_int_equal(plan.n, 0);
	/* "..x" is a name, not a step up. */
	assert_int_equal(ctl_volume_bind(pvc, dots, NULL, NOW, &plan), STSD_OK);
	assert_string_equal(S(plan.a[0].obj, "spec.hostPath.path"),
	                    "/srv/..x/pvc-0b1c2d3e-1111-2222-3333-444455556666");
	ctl_plan_free(&plan);

	json_object_set_new(json_object_get(bad, "spec"), "volumeName", json_string("pv-1"));
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_del(json_object_get(bad, "spec"), "volumeName");
	json_object_del(json_object_get(bad, "metadata"), "uid");
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_set_new(json_object_get(bad, "metadata"), "uid", json_string("u"));
	json_object_del(json_object_get(bad, "metadata"), "name");
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_set_new(json_object_get(bad, "metadata"), "name", json_integer(3));
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_set_new(json_object_get(bad, "metadata"), "name", json_string("x"));
	json_object_del(json_object_get(bad, "spec"), "resources");
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_set_new(json_object_get(bad, "spec"), "resources",
	                    J("{'requests':{'storage':'1Gi'}}"));
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_OK);
	ctl_plan_free(&plan);
	json_object_set_new(bad, "status", json_string("Pending"));
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	json_object_del(bad, "status");
	json_object_set_new(json_object_get(bad, "metadata"), "annotations", json_array());
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	assert_int_equal(ctl_volume_bind(NULL, local, "n", NOW, &plan), STSD_INVALID);
	json_decref(bad);
	bad = J("[1,2]");
	assert_int_equal(ctl_volume_bind(bad, local, "n", NOW, &plan), STSD_INVALID);
	assert_int_equal(ctl_volume_mark_bound(bad, NULL, NULL, NULL), STSD_INVALID);
	assert_int_equal(plan.n, 0);
	assert_null(ctl_volume_class(bad, NULL, 0));
	assert_null(ctl_volume_pinned_node(bad));
	assert_null(ctl_volume_pinned_node(NULL));
	assert_int_equal(ctl_volume_reclaim(bad, NULL, &plan), STSD_OK);
	assert_int_equal(plan.n, 0);
	json_decref(bad);
	json_decref(pvc);
	json_decref(local);
	json_decref(foreign);
	json_decref(relative);
	json_decref(escape);
	json_decref(dots);
}

/* ---- Placement and reclaim ------------------------------------------------------------------- */

static void pinned_node_reads_hostname_in(void **state)
{
	json_t *pv = J("{'spec':{'nodeAffinity':{'required':{'nodeSelectorTerms':["
	               "{'matchExpressions':[{'key':'zone','operator':'In','values':['a']}]},"
	               "{'matchExpressions':[{'key':'kubernetes.io/hostname','operator':'NotIn',"
	               "'values':['x']},{'key':'kubernetes.io/hostname','operator':'In',"
	               "'values':['node-7']}]}]}}}}");
	json_t *none = J("{'spec':{'nodeAffinity':{'required':{'nodeSelectorTerms':["
	                 "{'matchExpressions':[{'key':'kubernetes.io/hostname','operator':'In',"
	                 "'values':[]}]}]}}}}");

	(void)state;
	assert_string_equal(ctl_volume_pinned_node(pv), "node-7");
	assert_null(ctl_volume_pinned_node(none));
	json_decref(pv);
	json_decref(none);
}

static json_t *bound_pv(const char *policy, const char *phase)
{
	return J("{'metadata':{'name':'pvc-u1','resourceVersion':'77'},'spec':{'claimRef':{"
	         "'kind':'PersistentVolumeClaim','namespace':'default','name':'data-web-0',"
	         "'uid':'u1'}%s%s%s},'status':{'phase':'%s','lastPhaseTransitionTime':"
	         "'2026-01-01T00:00:00Z'}}",
	         policy ? ",'persistentVolumeReclaimPolicy':'" : "", policy ? policy : "",
	         policy ? "'" : "", phase);
}

static void reclaims_volumes_whose_claim_is_gone(void **state)
{
	json_t *del = bound_pv("Delete", "Bound"), *ret = bound_pv("Retain", "Bound");
	json_t *dflt = bound_pv(NULL, "Bound"), *released = bound_pv("Retain", "Released");
	json_t *del_released = bound_pv("Delete", "Released");
	json_t *live = J("{'metadata':{'uid':'u1'}}"), *other = J("{'metadata':{'uid':'u2'}}");
	json_t *unbound = J("{'metadata':{'name':'pv-x'},'spec':{'claimRef':{'name':'c',"
	                    "'namespace':'default'},'persistentVolumeReclaimPolicy':'Delete'}}");
	json_t *deleting = bound_pv("Delete", "Bound");
	struct ctl_plan plan = {0};

	(void)state;
	/* Live claim, reserved volume, volume going away: nothing. */
	assert_int_equal(ctl_volume_reclaim(del, live, &plan), STSD_OK);
	assert_int_equal(ctl_volume_reclaim(unbound, NULL, &plan), STSD_OK);
	json_object_set_new(json_object_get(deleting, "metadata"), "deletionTimestamp",
	                    json_string("2026-11-01T00:00:00Z"));
	assert_int_equal(ctl_volume_reclaim(deleting, NULL, &plan), STSD_OK);
	assert_int_equal(ctl_volume_reclaim(released, NULL, &plan), STSD_OK);
	assert_int_equal(plan.n, 0);

	/* Delete: gone, or a claim of the same name with another uid. */
	assert_int_equal(ctl_volume_reclaim(del, other, &plan), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_DELETE);
	assert_string_equal(plan.a[0].resource, "persistentvolumes");
	assert_string_equal(plan.a[0].name, "pvc-u1");
	assert_int_equal(plan.a[0].expect_rv, 77);
	/* Planned once per plan. */
	assert_int_equal(ctl_volume_reclaim(del, NULL, &plan), STSD_OK);
	assert_int_equal(plan.n, 1);
	ctl_plan_free(&plan);
	assert_int_equal(ctl_volume_reclaim(del_released, NULL, &plan), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_DELETE);
	ctl_plan_free(&plan);

	/* Retain, and the API's default (Retain): Released, the rest kept. */
	assert_int_equal(ctl_volume_reclaim(ret, NULL, &plan), STSD_OK);
	assert_int_equal(ctl_volume_reclaim(dflt, other, &plan), STSD_OK);
	assert_int_equal(plan.n, 1); /* same name: one action per plan */
	assert_int_equal(plan.a[0].kind, CTL_UPDATE_STATUS);
	assert_int_equal(plan.a[0].expect_rv, 77);
	assert_string_equal(S(plan.a[0].obj, "status.phase"), "Released");
	assert_null(S(plan.a[0].obj, "status.lastPhaseTransitionTime"));
	assert_string_equal(S(plan.a[0].obj, "spec.claimRef.uid"), "u1");
	assert_string_equal(S(ret, "status.phase"), "Bound");
	ctl_plan_free(&plan);
	assert_int_equal(ctl_volume_reclaim(dflt, other, &plan), STSD_OK);
	assert_int_equal(plan.n, 1);
	assert_int_equal(plan.a[0].kind, CTL_UPDATE_STATUS);
	ctl_plan_free(&plan);

	json_decref(del);
	json_decref(ret);
	json_decref(dflt);
	json_decref(released);
	json_decref(del_released);
	json_decref(live);
	json_decref(other);
	json_decref(unbound);
	json_decref(deleting);
}

/* The dev cluster's classes (cmd/stsctl/dev_storage.c makes them) pass stsd's validation, and a
 * claim of each gets a volume that does too. */
static void dev_classes_validate_and_provision(void **state)
{
	static const char *const names[] = {"standard", "fast-ssd", "encrypted-ssd", "shared"};
	struct ctl_plan plan = {0};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		bool shared = strcmp(names[i], "shared") == 0;
		json_t *c =
		    J("{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{"
		      "'name':'%s'%s},'provisioner':'%s','reclaimPolicy':'Delete',"
		      "'volumeBindingMode':'%s','parameters':{'path':'/tmp/dev/%s'}}",
		      names[i],
		      i == 0 ? ",'annotations':{'storageclass.kubernetes.io/is-default-class':"
		               "'true'}"
		             : "",
		      shared ? CTL_PROVISIONER_SHARED : CTL_PROVISIONER_LOCAL,
		      shared ? "Immediate" : "WaitForFirstConsumer", shared ? "shared" : "volumes");
		json_t *pvc = claim("");

		assert_valid_class(c);
		assert_int_equal(ctl_volume_bind(pvc, c, shared ? NULL : "sim-0", NOW, &plan),
		                 STSD_OK);
		assert_valid_pv(plan.a[0].obj);
		assert_valid_claim_update(plan.a[1].obj, pvc);
		ctl_plan_free(&plan);
		json_decref(pvc);
		json_decref(c);
	}
}

/* ---- Out of memory --------------------------------------------------------------------------- */

static long alloc_budget = -1;

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	if (alloc_budget > 0)
		alloc_budget--;
	return malloc(n);
}

static void oom_sweep(void **state)
{
	json_t *c = sc("standard", CTL_PROVISIONER_LOCAL, "");
	json_t *pvc = claim(""), *pv = bound_pv("Retain", "Bound");
	json_t *before = json_deep_copy(pvc);
	int rc = STSD_NOMEM, failures = 0;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (long budget = 0; budget < 10000 && rc != STSD_OK; budget++) {
		struct ctl_plan plan = {0};

		alloc_budget = budget;
		rc = ctl_volume_bind(pvc, c, "n", NOW, &plan);
		if (rc == STSD_OK)
			rc = ctl_volume_reclaim(pv, NULL, &plan);
		alloc_budget = -1;
		assert_true(rc == STSD_OK || rc == STSD_NOMEM);
		failures += rc == STSD_NOMEM;
		if (rc == STSD_OK)
			assert_int_equal(plan.n, 4);
		ctl_plan_free(&plan);
	}
	json_set_alloc_funcs(malloc, free);
	assert_int_equal(rc, STSD_OK);
	assert_true(failures > 10);
	assert_true(json_equal(pvc, before));
	json_decref(before);
	json_decref(pv);
	json_decref(pvc);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(class_named_empty_and_default),
	    cmocka_unit_test(default_ties_go_by_name),
	    cmocka_unit_test(binds_a_local_claim_on_its_node),
	    cmocka_unit_test(binds_a_shared_claim_before_scheduling),
	    cmocka_unit_test(new_pv_and_mark_bound_for_a_new_claim),
	    cmocka_unit_test(refuses_what_it_cannot_provision),
	    cmocka_unit_test(pinned_node_reads_hostname_in),
	    cmocka_unit_test(reclaims_volumes_whose_claim_is_gone),
	    cmocka_unit_test(dev_classes_validate_and_provision),
	    cmocka_unit_test(oom_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
