#!/bin/bash
# kubectl.sh — the real kubectl against a real three-replica cluster made by `stsctl dev up`:
# configmaps and namespaces through the leader and through followers, the errors kubectl users
# see, and every kubectl minor version on the machine (1.27 to 1.33).
# Usage: kubectl.sh STSCTL. Exits 77 (CTest: skipped) when no kubectl is installed.
set -euo pipefail

stsctl=$1
sdk=/usr/lib/google-cloud-sdk/bin
if ! command -v kubectl >/dev/null; then
	echo "kubectl.sh: no kubectl on this machine: skipped"
	exit 77
fi

name=kubectl.sh
source "$(dirname "$0")/lib.sh"
export HOME=$work/home KUBECONFIG=$dir/kubeconfig
mkdir -p "$HOME"

cluster_up
urls=$(jq -r '.replicas[].apiAddress' "$dir/cluster.json")

# Every replica, leader or follower, serves kubectl the same way.
i=0
for url in $urls; do
	i=$((i + 1))
	k=(kubectl --server "https://$url")
	expect_out "configmap/cm$i created" "${k[@]}" create configmap "cm$i" --from-literal=a=b
	expect_out "cm$i" "${k[@]}" get configmaps
	expect_out '"a":"b"' "${k[@]}" get cm "cm$i" -o jsonpath='{.data}'
	"${k[@]}" get cm "cm$i" -o yaml >"$work/cm.yaml"
	sed -i 's/a: b/a: replaced/' "$work/cm.yaml"
	expect_out "configmap/cm$i replaced" "${k[@]}" replace -f "$work/cm.yaml"
	expect_out '"a":"replaced"' "${k[@]}" get cm "cm$i" -o jsonpath='{.data}'
	# The stored resourceVersion moved on: replacing with the old one is a conflict.
	expect_err "the object has been modified" "${k[@]}" replace -f "$work/cm.yaml"
	expect_out "configmap \"cm$i\" deleted" "${k[@]}" delete configmap "cm$i"
	expect_err "configmaps \"cm$i\" not found" "${k[@]}" get cm "cm$i"
done

# Namespaces: the defaults exist, a new one holds configmaps, deleting it takes them along.
expect_out "kube-system" kubectl get namespaces
expect_out "namespace/team-a created" kubectl create namespace team-a
expect_out "configmap/settings created" kubectl create configmap settings -n team-a --from-literal=x=1
expect_out "settings" kubectl get cm -n team-a
# Objects of several kinds go with their namespace.
expect_out "secret/token created" kubectl create secret generic token -n team-a --from-literal=t=1
expect_out "service/front created" kubectl create service clusterip front -n team-a --tcp=80:8080
expect_out 'namespace "team-a" deleted (server dry run)' kubectl delete namespace team-a --dry-run=server
expect_out "settings" kubectl get cm -n team-a
expect_out "namespace \"team-a\" deleted" kubectl delete namespace team-a
expect_err "namespaces \"team-a\" not found" kubectl create configmap again -n team-a
expect_out "No resources found" kubectl get secrets,services,configmaps -A --field-selector metadata.namespace=team-a
expect_err "may not be deleted" kubectl delete namespace default

# The errors kubectl users see.
expect_err "metadata.name: Invalid value: \"Bad_Name\"" kubectl create configmap Bad_Name
expect_out "configmap/dup created" kubectl create configmap dup
expect_err "configmaps \"dup\" already exists" kubectl create configmap dup
cat >"$work/unknown.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: strict
data:
  a: b
datum: oops
YAML
expect_err "datum: unknown field" kubectl create -f "$work/unknown.yaml"
expect_err "configmaps \"strict\" not found" kubectl get cm strict
expect_out 'Warning: unknown field "datum"' kubectl create -f "$work/unknown.yaml" --validate=warn

# Every kubectl minor version on the machine.
for bin in "$sdk"/kubectl.1.*; do
	v=${bin##*kubectl.}
	name=v${v//./-}
	expect_out "configmap/$name created" "$bin" create configmap "$name" --from-literal=v="$v"
	expect_out "$name" "$bin" get configmaps
	expect_out "configmap \"$name\" deleted" "$bin" delete configmap "$name"
	# apply and create -f: 1.27 and 1.28 read OpenAPI v2 first, the others v3.
	sed -e "s/name: web\$/name: $name/" "$(dirname "$0")/seed-manifests/01-web-basic.yaml" |
		awk '/^---/{exit} {print}' >"$work/sts.yaml"
	expect_out "statefulset.apps/$name created" "$bin" apply -f "$work/sts.yaml"
	expect_out "statefulset.apps/$name" "$bin" apply -f "$work/sts.yaml"
	sed 's/  replicas: 3/  replicas: 3\n  replica: 3/' "$work/sts.yaml" >"$work/typo.yaml"
	expect_err 'spec.replica: unknown field' "$bin" create -f "$work/typo.yaml"
	expect_out "statefulset.apps \"$name\" deleted" "$bin" delete sts "$name"
done

echo "kubectl.sh: ok ($(kubectl version --client 2>/dev/null | head -n 1); $(ls "$sdk"/kubectl.1.* | wc -l) versions)"
