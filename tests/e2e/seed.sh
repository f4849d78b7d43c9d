#!/bin/bash
# seed.sh — the seed manifests and commands of ../shared/seed-manifests, run unchanged with the real
# kubectl against a `stsctl dev up` cluster (issue 4's acceptance): apply, get in every output
# form, describe, scale, strategic patch, watch, pods and PVCs (created here by hand: this test
# runs its replicas with --no-controller, so that it covers the API's side of every command;
# e2e_controller runs the same kinds of commands with the controller at work),
# graceful and forced pod deletion, events with sorting and field selectors, an invalid
# StatefulSet, server-side apply, rollout history and undo from ControllerRevisions, the same
# through a follower, and again after the leader is SIGKILLed.
# Usage: seed.sh STSCTL SEED_DIR. Exits 77 (CTest: skipped) when no kubectl is installed.
set -euo pipefail

stsctl=$1
seed=$2
if ! command -v kubectl >/dev/null; then
	echo "seed.sh: no kubectl on this machine: skipped"
	exit 77
fi

name=seed.sh
source "$(dirname "$0")/lib.sh"
export HOME=$work/home KUBECONFIG=$dir/kubeconfig
mkdir -p "$HOME"

cluster_up --stsd-arg=--no-controller
urls=$(jq -r '.replicas[].apiAddress' "$dir/cluster.json")

# ---- apply the seed manifests -------------------------------------------------------------------
out=$(kubectl apply -f "$seed/01-web-basic.yaml" 2>&1) || fail "apply 01: $out"
grep -q "statefulset.apps/web created" <<<"$out" && grep -q "service/nginx created" <<<"$out" ||
	fail "apply 01: $out"
expect_out "configmap/mysql created" kubectl apply -f "$seed/03-mysql-configmap.yaml"
expect_out "secret/postgres-secret created" kubectl apply -f "$seed/07-postgres-dynamic-storage.yaml"
expect_out "statefulset.apps/database" kubectl get sts database -o name
expect_out "statefulset.apps/elasticsearch created" kubectl apply -f "$seed/08-elasticsearch-multi-volume.yaml"
# Applying again changes nothing.
expect_out "statefulset.apps/web" kubectl apply -f "$seed/01-web-basic.yaml"
expect_out "1" kubectl get sts web -o jsonpath="{.metadata.generation}"

# ---- server-side apply --------------------------------------------------------------------------
# Taking over from client-side apply: a changed field conflicts; the claim templates, which only
# the server's defaults changed, do not.
sed 's/replicas: 3/replicas: 4/' "$seed/01-web-basic.yaml" >"$work/web4.yaml"
out=$(kubectl apply --server-side -f "$work/web4.yaml" 2>&1) && fail "apply --server-side of a change: $out"
grep -q 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas' \
	<<<"$out" || fail "apply --server-side conflicts: $out"
expect_out "statefulset.apps/web serverside-applied" kubectl apply --server-side -f "$seed/01-web-basic.yaml"
expect_out "kubectl" kubectl get sts web -o jsonpath='{.metadata.managedFields[*].manager}'
expect_err "conflict" kubectl apply --server-side --field-manager=other -f "$work/web4.yaml"
expect_out "serverside-applied" kubectl apply --server-side --field-manager=other --force-conflicts -f "$work/web4.yaml"
expect_out "4" kubectl get sts web -o jsonpath='{.spec.replicas}'
expect_out "serverside-applied" kubectl apply --server-side --field-manager=other --force-conflicts -f "$seed/01-web-basic.yaml"
expect_out "3" kubectl get sts web -o jsonpath='{.spec.replicas}'

# Defaults are visible, as kube-apiserver sets them.
expect_out "RollingUpdate" kubectl get sts web -o jsonpath='{.spec.updateStrategy.type}'
expect_out "OrderedReady" kubectl get sts web -o jsonpath='{.spec.podManagementPolicy}'
expect_out "TCP" kubectl get sts web -o jsonpath='{.spec.template.spec.containers[0].ports[0].protocol}'

# ---- pods, PVCs, status (what the controller and agents will write) ----------------------------
uid=$(kubectl get sts web -o jsonpath='{.metadata.uid}')
for i in 0 1 2; do
	node=""
	[ $i -eq 1 ] && node=node-a
	jq -n --arg i "$i" --arg uid "$uid" --arg node "$node" '{
	  apiVersion: "v1", kind: "Pod",
	  metadata: {name: ("web-" + $i), labels: {app: "nginx",
	      "statefulset.kubernetes.io/pod-name": ("web-" + $i), "apps.kubernetes.io/pod-index": $i},
	    ownerReferences: [{apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: $uid,
	      controller: true, blockOwnerDeletion: true}]},
	  spec: ({hostname: ("web-" + $i), subdomain: "nginx",
	    containers: [{name: "nginx", image: "nginx:1.20", ports: [{containerPort: 80, name: "web"}]}]}
	    + (if $node == "" then {} else {nodeName: $node} end))}' >"$work/pod$i.json"
	expect_out "pod/web-$i created" kubectl create -f "$work/pod$i.json"
	jq -n --arg i "$i" '{apiVersion: "v1", kind: "PersistentVolumeClaim",
	  metadata: {name: ("www-web-" + $i), labels: {app: "nginx"}},
	  spec: {accessModes: ["ReadWriteOnce"], storageClassName: "standard",
	    resources: {requests: {storage: "1Gi"}}}}' >"$work/pvc$i.json"
	expect_out "persistentvolumeclaim/www-web-$i created" kubectl create -f "$work/pvc$i.json"
done
ready='{"status":{"phase":"Running","podIP":"10.0.0.5","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"nginx","ready":true,"restartCount":0,"image":"nginx:1.20","imageID":"","started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}'
for i in 0 1; do
	expect_out "pod/web-$i patched" kubectl patch pod "web-$i" --subresource=status --type=merge -p "$ready"
done
expect_out "statefulset.apps/web patched" kubectl patch sts web --subresource=status --type=merge \
	-p '{"status":{"replicas":3,"readyReplicas":2,"currentReplicas":3,"updatedReplicas":3,"availableReplicas":2}}'

# ---- get in every form --------------------------------------------------------------------------
out=$(kubectl get sts)
grep -qE '^web +2/3 ' <<<"$out" || fail "get sts: $out"
grep -q "^NAME  *READY  *AGE" <<<"$out" || fail "get sts columns: $out"
expect_out "web" kubectl get statefulset
out=$(kubectl get sts web -o wide)
grep -qE 'CONTAINERS +IMAGES' <<<"$out" || fail "get sts -o wide: $out"
grep -qE 'nginx +nginx:1.20' <<<"$out" || fail "get sts -o wide: $out"
expect_out "kind: StatefulSet" kubectl get sts web -o yaml
expect_out '"kind": "StatefulSet"' kubectl get sts web -o json
out=$(kubectl get pods -l app=nginx)
grep -qE '^web-0 +1/1 +Running +0 ' <<<"$out" || fail "get pods -l app=nginx: $out"
grep -qE '^web-2 +0/1 +Pending ' <<<"$out" || fail "get pods -l app=nginx: $out"
expect_out "No resources found" kubectl get pods -l app=nope
# Pods of a node come through the pods-by-node index, selectors still applied.
out=$(kubectl get pods --field-selector spec.nodeName=node-a -o name)
[ "$out" = "pod/web-1" ] || fail "pods on node-a: $out"
expect_out "No resources found" kubectl get pods --field-selector spec.nodeName=node-a -l app=other
expect_out "No resources found" kubectl get pods -n kube-system --field-selector spec.nodeName=node-a
# An agent's watch of its node's pods (from a follower's store, through the same index).
for url in $urls; do
	out=$(acurl -s "https://$url/api/v1/pods?watch=1&resourceVersion=0&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dnode-a")
	grep -q '"name":"web-1"' <<<"$out" && ! grep -q '"name":"web-0"' <<<"$out" ||
		fail "watch of node-a's pods on $url: $out"
done
out=$(kubectl get pods -o wide)
grep -qE '^web-1 .* 10\.0\.0\.5 +node-a ' <<<"$out" || fail "get pods -o wide: $out"
out=$(kubectl get pvc)
grep -qE '^www-web-0 +Pending' <<<"$out" || fail "get pvc: $out"
grep -q "STORAGECLASS" <<<"$out" || fail "get pvc: $out"
expect_out "postgres-secret" kubectl get secrets
expect_out "nginx" kubectl get svc
expect_out "mysql" kubectl get cm

# ---- describe, events ---------------------------------------------------------------------------
for i in 0 1; do
	puid=$(kubectl get pod "web-$i" -o jsonpath='{.metadata.uid}')
	jq -n --arg i "$i" --arg t "2026-01-01T00:0$i:00Z" --arg uid "$puid" '{apiVersion: "v1",
	  kind: "Event", metadata: {name: ("web-" + $i + ".1")},
	  involvedObject: {kind: "Pod", namespace: "default", name: ("web-" + $i), uid: $uid,
	    apiVersion: "v1"},
	  reason: "Scheduled", message: ("placed web-" + $i), type: "Normal", count: 1,
	  firstTimestamp: $t, lastTimestamp: $t, source: {component: "stsd"}}' >"$work/ev$i.json"
	expect_out "event/web-$i.1 created" kubectl create -f "$work/ev$i.json"
done
jq -n --arg uid "$uid" '{apiVersion: "v1", kind: "Event", metadata: {name: "web.1"},
  involvedObject: {kind: "StatefulSet", namespace: "default", name: "web", uid: $uid,
    apiVersion: "apps/v1"},
  reason: "SuccessfulCreate", message: "create Pod web-0 in StatefulSet web successful",
  type: "Normal", count: 1, source: {component: "statefulset-controller"}}' >"$work/ev.json"
expect_out "event/web.1 created" kubectl create -f "$work/ev.json"
out=$(kubectl describe sts web)
grep -q "Replicas: *3 desired | 3 total" <<<"$out" || fail "describe sts: $out"
grep -q "SuccessfulCreate" <<<"$out" || fail "describe sts (events): $out"
expect_out "placed web-0" kubectl get events --sort-by=.metadata.creationTimestamp
out=$(kubectl get events --field-selector involvedObject.name=web-0)
grep -q "placed web-0" <<<"$out" || fail "events by field selector: $out"
grep -q "placed web-1" <<<"$out" && fail "events by field selector leaked web-1: $out"
expect_err "field label not supported: nonsense.field" kubectl get events --field-selector nonsense.field=x
expect_out "Scheduled" kubectl describe pod web-0

# ---- scale, patch, watch ------------------------------------------------------------------------
kubectl get sts web -w >"$work/watch.out" 2>&1 &
watcher=$!
expect_out "statefulset.apps/web scaled" kubectl scale sts web --replicas=5
expect_out "5" kubectl get sts web -o jsonpath='{.spec.replicas}'
gen=$(kubectl get sts web -o jsonpath='{.metadata.generation}')
expect_out "statefulset.apps/web patched" kubectl patch sts web -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.21"}]}}}}'
expect_out "nginx:1.21" kubectl get sts web -o jsonpath='{.spec.template.spec.containers[0].image}'
# The strategic patch merged by name: the container keeps its ports.
expect_out "80" kubectl get sts web -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}'
expect_out "$((gen + 1))" kubectl get sts web -o jsonpath='{.metadata.generation}'
expect_out "statefulset.apps/web patched (no change)" kubectl patch sts web -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.21"}]}}}}'
expect_out "statefulset.apps/web scaled" kubectl scale sts web --replicas=2
deadline=$((SECONDS + 20))
until [ "$(grep -c '^web ' "$work/watch.out" || true)" -ge 2 ]; do
	[ $SECONDS -lt $deadline ] || fail "get sts web -w printed: $(cat "$work/watch.out")"
	sleep 0.2
done
kill $watcher 2>/dev/null || true

# ---- deletion -----------------------------------------------------------------------------------
# web-0 is bound to no node: it goes at once.
expect_out 'pod "web-0" deleted' kubectl delete pod web-0
expect_err 'pods "web-0" not found' kubectl get pod web-0
# web-1 runs on node-a: it waits for its node (no agent yet) and shows Terminating ...
expect_out 'pod "web-1" deleted' kubectl delete pod web-1 --wait=false
expect_out "Terminating" kubectl get pod web-1
# ... until forced.
expect_out 'pod "web-1" force deleted' kubectl delete pod web-1 --force --grace-period=0
expect_err 'pods "web-1" not found' kubectl get pod web-1

# ---- invalid input ------------------------------------------------------------------------------
cat >"$work/bad.yaml" <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: bad
spec:
  serviceName: bad
  selector:
    matchLabels:
      app: one
  template:
    metadata:
      labels:
        app: other
    spec:
      containers:
      - name: c
        image: nginx
YAML
expect_err 'The StatefulSet "bad" is invalid: spec.template.metadata.labels' kubectl create -f "$work/bad.yaml"
expect_err 'statefulsets.apps "bad" not found' kubectl get sts bad
sed -e 's/app: other/app: one/' -e 's/image: nginx/image: nginx\n        imagePullPolcy: Always/' \
	"$work/bad.yaml" >"$work/typo.yaml"
expect_err 'spec.template.spec.containers[0].imagePullPolcy: unknown field' kubectl create -f "$work/typo.yaml"

# ---- rollout history and undo -------------------------------------------------------------------
uid=$(kubectl get sts web -o jsonpath='{.metadata.uid}')
for rev in 1 2; do
	image=nginx:1.20
	[ $rev -eq 2 ] && image=nginx:1.21
	kubectl get sts web -o json | jq --arg rev "$rev" --arg uid "$uid" --arg image "$image" '{
	  apiVersion: "apps/v1", kind: "ControllerRevision",
	  metadata: {name: ("web-rev" + $rev),
	    labels: {app: "nginx", "controller.kubernetes.io/hash": ("rev" + $rev)},
	    ownerReferences: [{apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: $uid,
	      controller: true, blockOwnerDeletion: true}]},
	  revision: ($rev | tonumber),
	  data: {spec: {template: (.spec.template
	    | .spec.containers[0].image = $image | . + {"$patch": "replace"})}}}' >"$work/rev$rev.json"
	expect_out "controllerrevision.apps/web-rev$rev created" kubectl create -f "$work/rev$rev.json"
done
out=$(kubectl rollout history sts web)
grep -qE '^1 ' <<<"$out" && grep -qE '^2 ' <<<"$out" || fail "rollout history: $out"
expect_out "statefulset.apps/web rolled back" kubectl rollout undo sts web
expect_out "nginx:1.20" kubectl get sts web -o jsonpath='{.spec.template.spec.containers[0].image}'
expect_out "80" kubectl get sts web -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}'

# ---- the same through every replica, then after the leader dies ---------------------------------
for url in $urls; do
	expect_out "web" kubectl --server "https://$url" get sts
	expect_out "statefulset.apps/web scaled" kubectl --server "https://$url" scale sts web --replicas=3
	expect_out "3" kubectl --server "https://$url" get sts web -o jsonpath='{.spec.replicas}'
done
leader_pid=""
for row in $(jq -r '.replicas[] | "\(.pid),\(.apiAddress)"' "$dir/cluster.json"); do
	role=$(acurl -s "https://${row#*,}/debug/raft" | jq -r '.role')
	[ "$role" = "leader" ] && leader_pid=${row%%,*}
done
[ -n "$leader_pid" ] || fail "no leader found to kill"
kill -9 "$leader_pid"
survivor=$(jq -r '.replicas[] | select(.pid != '"$leader_pid"') | .apiAddress' "$dir/cluster.json" | head -n 1)
deadline=$((SECONDS + 30))
until kubectl --server "https://$survivor" scale sts web --replicas=4 >/dev/null 2>&1; do
	[ $SECONDS -lt $deadline ] || fail "no write through $survivor within 30 s of the leader's kill"
	sleep 0.2
done
expect_out "4" kubectl --server "https://$survivor" get sts web -o jsonpath='{.spec.replicas}'
expect_out "web" kubectl --server "https://$survivor" get sts
echo "seed.sh: ok"
