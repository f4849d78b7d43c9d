#!/bin/bash
# discovery.sh — discovery and OpenAPI generated from the resource table, against a real cluster:
# aggregated discovery (Content-Type and shape), legacy lists with subresources, the router's 404
# for subresources a resource does not announce, and, when kubectl is installed, what kubectl users
# see of it: `api-resources` with short names, `explain`, and Strict validation at depth.
# Usage: discovery.sh STSCTL
set -euo pipefail

stsctl=$1
name=discovery.sh
source "$(dirname "$0")/lib.sh"
export HOME=$work/home KUBECONFIG=$dir/kubeconfig
mkdir -p "$HOME"

v2='application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

# get URL [ACCEPT]: sets $code, $body, $ctype.
get() {
	local out
	out=$(acurl -s -o "$work/body" -w '%{http_code} %{content_type}' --max-time 20 \
		-H "Accept: ${2:-application/json}" "https://$1") || out="000 none"
	code=${out%% *}
	ctype=${out#* }
	body=$(cat "$work/body")
}

check() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3' (body: ${body:0:300})"
}

cluster_up
url=$(jq -r '.replicas[0].apiAddress' "$dir/cluster.json")

# ---- Aggregated discovery ----
get "$url/api" "$v2,application/json"
check "/api v2 code" 200 "$code"
check "/api v2 type" "$v2" "$ctype"
check "pods short names" '["po"]' \
	"$(jq -c '.items[0].versions[0].resources[] | select(.resource=="pods") | .shortNames' <<<"$body")"
check "pods/exec" '["create","get"]' \
	"$(jq -c '.items[0].versions[0].resources[] | select(.resource=="pods") |
		.subresources[] | select(.subresource=="exec") | .verbs' <<<"$body")"
get "$url/apis" "$v2,application/json"
check "/apis v2 type" "$v2" "$ctype"
check "sts scale kind" 'autoscaling/v1/Scale' \
	"$(jq -r '.items[] | select(.metadata.name=="apps") | .versions[0].resources[] |
		select(.resource=="statefulsets") | .subresources[] | select(.subresource=="scale") |
		.responseKind | "\(.group)/\(.version)/\(.kind)"' <<<"$body")"
get "$url/apis"
check "/apis legacy" APIGroupList "$(jq -r .kind <<<"$body")"

# ---- Legacy lists ----
get "$url/apis/apps/v1"
check "apps/v1 scale" Scale \
	"$(jq -r '.resources[] | select(.name=="statefulsets/scale") | .kind' <<<"$body")"
get "$url/api/v1"
check "pods/log verbs" '["get"]' \
	"$(jq -c '.resources[] | select(.name=="pods/log") | .verbs' <<<"$body")"
check "nodes cluster-scoped" false \
	"$(jq -r '.resources[] | select(.name=="nodes") | .namespaced' <<<"$body")"

# ---- Subresources not announced are 404 ----
get "$url/api/v1/namespaces/default/configmaps/x/status"
check "configmaps/x/status" 404 "$code"
get "$url/apis/apps/v1/namespaces/default/statefulsets/web/log"
check "statefulsets/web/log" 404 "$code"

# ---- OpenAPI ----
get "$url/openapi/v3"
doc=$(jq -r '.paths["apis/apps/v1"].serverRelativeURL' <<<"$body")
get "$url$doc"
check "sts component" '[{"group":"apps","kind":"StatefulSet","version":"v1"}]' \
	"$(jq -c '.components.schemas["io.k8s.api.apps.v1.StatefulSet"]["x-kubernetes-group-version-kind"]' <<<"$body")"

# ---- What kubectl users see ----
if ! command -v kubectl >/dev/null; then
	echo "discovery.sh: ok (no kubectl: kubectl checks skipped)"
	exit 0
fi
k=(/usr/lib/google-cloud-sdk/bin/kubectl.1.32 --server "https://$url")
[ -x "${k[0]}" ] || k=(kubectl --server "https://$url")
out=$("${k[@]}" api-resources 2>&1) || fail "api-resources: $out"
for row in "statefulsets +sts +apps/v1 +true +StatefulSet" "pods +po +v1 +true +Pod" \
	"persistentvolumeclaims +pvc +v1 +true" "nodes +no +v1 +false +Node" \
	"storageclasses +sc +storage.k8s.io/v1 +false" "leases +coordination.k8s.io/v1 +true" \
	"endpointslices +discovery.k8s.io/v1 +true" "controllerrevisions +apps/v1 +true"; do
	grep -qE "^$row" <<<"$out" || fail "api-resources lacks '$row': $out"
done
expect_out "rollingUpdate" "${k[@]}" explain statefulset.spec.updateStrategy
expect_out "imagePullPolicy" "${k[@]}" explain pod.spec.containers
cat >"$work/sts.yaml" <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: typo
spec:
  serviceName: typo
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: c
        image: nginx
        imagePullPolcy: Always
YAML
# The answer names the path (whatever the wording of the handler's Status).
expect_err 'spec.template.spec.containers[0].imagePullPolcy' \
	"${k[@]}" create -f "$work/sts.yaml"
echo "discovery.sh: ok"
