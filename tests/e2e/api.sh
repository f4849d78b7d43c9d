#!/bin/bash
# api.sh — the HTTP API of a real three-replica cluster, with curl: health and debug endpoints,
# discovery and OpenAPI, configmap semantics (resourceVersion, generateName, strict fields,
# protobuf), follower forwarding, bad input that must be refused without changing the store, and
# 503 + Retry-After (never a hang) when there is no leader.
# Usage: api.sh STSCTL
set -euo pipefail

stsctl=$1
name=api.sh
source "$(dirname "$0")/lib.sh"

# req METHOD URL [BODY [CONTENT-TYPE]]: sets $code, $body (and $headers).
req() {
	local method=$1 url=$2 data=${3-} type=${4:-application/json}
	local args=(-s -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" --max-time 20)
	[ -n "$data" ] && args+=(-H "Content-Type: $type" --data-binary "$data")
	code=$(acurl "${args[@]}" "https://$url") || code=000
	body=$(cat "$work/body")
	headers=$(cat "$work/headers")
}

# check WHAT EXPECTED ACTUAL
check() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3' (body: $body)"
}

jqb() { jq -r "$1" <<<"$body"; }

cluster_up
mapfile -t urls < <(jq -r '.replicas[].apiAddress' "$dir/cluster.json")
leader_id=$(acurl -s "https://${urls[0]}/debug/raft" | jq -r .leaderId)
leader=${urls[$((leader_id - 1))]}
follower=${urls[$((leader_id % 3))]}
cms=api/v1/namespaces/default/configmaps

# ---- Health, debug and metrics ----
for u in "${urls[@]}"; do
	req GET "$u/readyz"; check "readyz $u" 200 "$code"
	req GET "$u/livez"; check "livez" 200 "$code"
	req GET "$u/healthz"; check "healthz" 200 "$code"
	req GET "$u/debug/raft"
	check "debug/raft shape" 'applied digest id leaderId role term' \
		"$(jqb '[("appliedIndex","digest","id","leaderId","role","term") as $k | select(has($k)) | $k] | join(" ")' | sed 's/appliedIndex/applied/')"
	check "debug/raft leader" "$leader_id" "$(jqb .leaderId)"
done
req GET "$leader/debug/raft"; check "leader role" leader "$(jqb .role)"
req GET "$follower/debug/raft"; check "follower role" follower "$(jqb .role)"
req GET "$leader/metrics"
grep -q '^stsd_raft_role{role="leader"} 1$' <<<"$body" || fail "metrics: leader role"
grep -q '^stsd_proposal_duration_seconds_count [1-9]' <<<"$body" || fail "metrics: proposals"
grep -q '^stsd_raft_applied_index [0-9]' <<<"$body" || fail "metrics: applied index"

# ---- Discovery, version, OpenAPI ----
req GET "$follower/version"; check "version minor" 32 "$(jqb .minor)"
req GET "$follower/api"; check "api versions" v1 "$(jqb '.versions[0]')"
req GET "$follower/apis"; check "api groups" APIGroupList "$(jqb .kind)"
req GET "$follower/api/v1"
check "cm short name" cm "$(jqb '.resources[] | select(.name=="configmaps") | .shortNames[0]')"
check "ns cluster-scoped" false "$(jqb '.resources[] | select(.name=="namespaces") | .namespaced')"
req GET "$follower/openapi/v3"
doc=$(jqb '.paths["api/v1"].serverRelativeURL')
req GET "$follower$doc"
check "openapi fieldValidation" fieldValidation \
	"$(jqb '.paths["/api/v1/namespaces/{namespace}/configmaps/{name}"].patch.parameters[0].name')"
req GET "$follower/apis/batch/v1"; check "unknown group" 404 "$code"
req GET "$follower/nothing/here"; check "unknown path" 404 "$code"; check "status kind" Status "$(jqb .kind)"

# ---- ConfigMaps through a follower (forwarded to the leader) ----
req POST "$follower/$cms" '{"metadata":{"name":"c1"},"data":{"k":"v"}}'
check "create" 201 "$code"
rv1=$(jqb .metadata.resourceVersion)
uid=$(jqb .metadata.uid)
[[ "$uid" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "uid $uid"
# A write through the leader is visible to an immediate read on a follower.
req GET "$follower/$cms/c1"; check "read after write" "$rv1" "$(jqb .metadata.resourceVersion)"
req PUT "$follower/$cms/c1" "{\"metadata\":{\"name\":\"c1\",\"resourceVersion\":\"$rv1\"},\"data\":{\"k\":\"w\"}}"
check "update" 200 "$code"; rv2=$(jqb .metadata.resourceVersion)
[ "$rv2" -gt "$rv1" ] || fail "resourceVersion did not grow: $rv1 -> $rv2"
check "uid kept" "$uid" "$(jqb .metadata.uid)"
req PUT "$leader/$cms/c1" "{\"metadata\":{\"name\":\"c1\",\"resourceVersion\":\"$rv1\"},\"data\":{\"k\":\"x\"}}"
check "stale update" 409 "$code"; check "stale reason" Conflict "$(jqb .reason)"
# A no-op update writes nothing: same resourceVersion.
req PUT "$leader/$cms/c1" "{\"metadata\":{\"name\":\"c1\",\"resourceVersion\":\"$rv2\"},\"data\":{\"k\":\"w\"}}"
check "no-op update" "$rv2" "$(jqb .metadata.resourceVersion)"
req POST "$follower/$cms" '{"metadata":{"generateName":"gen-"}}'
check "generateName" 201 "$code"
[[ "$(jqb .metadata.name)" =~ ^gen-[a-z0-9]{5}$ ]] || fail "generated name $(jqb .metadata.name)"
req GET "$follower/$cms?limit=1"
check "limit" 1 "$(jqb '.items | length')"
token=$(jqb .metadata.continue)
req GET "$follower/$cms?limit=1&continue=$token"; check "continue" 1 "$(jqb '.items | length')"
req GET "$follower/$cms?continue=garbage"; check "bad continue" 400 "$code"
req GET "$follower/$cms?labelSelector=a%3D%3D%3Db"; check "bad label selector" 400 "$code"
req GET "$follower/$cms?fieldSelector=data.k%3Dv"; check "unsupported field selector" 400 "$code"
# Any replica answers resourceVersion=0 lists from its own store.
for u in "${urls[@]}"; do
	for _ in $(seq 50); do
		req GET "$u/$cms?resourceVersion=0"
		[ "$(jqb '.items | length')" = 2 ] && break
		sleep 0.1
	done
	check "local list on $u" 2 "$(jqb '.items | length')"
done

# kubectl's typed clients send protobuf: "k8s\0" + Unknown{typeMeta{v1, ConfigMap}, raw{...}}.
# Unknown {1: typeMeta {1: "v1", 2: "ConfigMap"}, 2: raw ConfigMap {1: meta {1: "pb-1"},
# 2: data entry {1: "a", 2: "from-proto"}}}
printf 'k8s\x00\x0a\x0f\x0a\x02v1\x12\x09ConfigMap\x12\x19\x0a\x06\x0a\x04pb-1\x12\x0f\x0a\x01a\x12\x0afrom-proto' >"$work/pb"
code=$(acurl -s -o "$work/body" -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' \
	--data-binary @"$work/pb" "https://$follower/$cms"); body=$(cat "$work/body")
check "protobuf create" 201 "$code"; check "protobuf data" from-proto "$(jqb .data.a)"
check "protobuf name" pb-1 "$(jqb .metadata.name)"

# ---- Refused input changes nothing ----
digest_before=$(acurl -s "https://$leader/debug/raft" | jq -r .digest)
req POST "$follower/$cms" '{"metadata":{"name":"bad"},"data":{"k":1}}'
check "wrong type" 400 "$code"
req POST "$follower/$cms?fieldValidation=Strict" '{"metadata":{"name":"bad"},"datum":1}'
check "strict unknown field" 422 "$code"
check "strict path" datum "$(jqb '.details.causes[0].field')"
req POST "$follower/$cms?fieldValidation=Nonsense" '{"metadata":{"name":"bad"}}'
check "bad fieldValidation" 400 "$code"
req POST "$follower/$cms" '{"metadata":{"name":"bad"'; check "malformed JSON" 400 "$code"
req POST "$follower/$cms" '[1,2]'; check "not an object" 400 "$code"
req POST "$follower/$cms" "$(printf '%.0s[' $(seq 5000))"; check "deep nesting" 400 "$code"
req POST "$follower/$cms" '{"kind":"Secret","metadata":{"name":"bad"}}'; check "wrong kind" 400 "$code"
req POST "$follower/$cms" '{"metadata":{"name":"x"}}' text/yaml; check "unknown media type" 415 "$code"
req POST "$follower/$cms" "k8s" application/vnd.kubernetes.protobuf; check "bad protobuf" 400 "$code"
req POST "$follower/$cms" "{\"metadata\":{\"name\":\"$(printf 'a%.0s' $(seq 300))\"}}"
check "long name" 422 "$code"
req POST "$follower/$cms" '{"metadata":{"name":"bad"},"data":{"no/slash":"x"}}'; check "bad key" 422 "$code"
head -c 4000000 /dev/zero | tr '\0' 'a' >"$work/big"
code=$(acurl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary @"$work/big" "https://$follower/$cms")
check "oversized body" 413 "$code"
req POST "$follower/api/v1/namespaces/missing/configmaps" '{"metadata":{"name":"x"}}'
check "missing namespace" 404 "$code"
req DELETE "$leader/api/v1/namespaces/kube-system"; check "protected namespace" 403 "$code"
req PATCH "$leader/$cms/c1" '{"data":' application/merge-patch+json; check "malformed patch" 400 "$code"
req PATCH "$leader/$cms/c1" '[{"op":"test","path":"/data/k","value":"other"}]' application/json-patch+json
check "failed json patch test" 422 "$code"
req PATCH "$leader/$cms/c1" '{"data":{"k":1}}' application/merge-patch+json; check "patched to a wrong type" 400 "$code"
req PATCH "$leader/$cms/c1" '{}' text/plain; check "unknown patch type" 415 "$code"
deep=$(printf '{"a":%.0s' $(seq 150))1$(printf '}%.0s' $(seq 150))
req POST "$follower/$cms" "{\"metadata\":{\"name\":\"deep\"},\"data\":$deep}"; check "nesting beyond 100 levels" 400 "$code"
req GET "$follower/apis/apps/v1/namespaces/default/widgets"; check "unknown kind" 404 "$code"
req PATCH "$leader/$cms/c1" '{"kind":"Secret"}' application/merge-patch+json; check "patch changing kind" 400 "$code"
req DELETE "$leader/api/v1/namespaces"; check "namespaces are not deleted as a collection" 405 "$code"
req POST "$leader/api/v1/configmaps" '{"metadata":{"name":"x"}}'; check "create needs a namespace" 405 "$code"
req DELETE "$leader/$cms/c1" '{"dryRun":["All"]}'; check "delete dry run (body)" 200 "$code"
req GET "$leader/$cms/c1"; check "dry run deleted nothing" 200 "$code"
check "store unchanged by refused input" "$digest_before" "$(acurl -s "https://$leader/debug/raft" | jq -r .digest)"

# ---- Deletes with preconditions ----
req DELETE "$follower/$cms/c1" '{"preconditions":{"uid":"00000000-0000-4000-8000-000000000000"}}'
check "delete uid precondition" 409 "$code"
req DELETE "$follower/$cms/c1" "{\"preconditions\":{\"resourceVersion\":\"$rv2\"}}"
check "delete" 200 "$code"; check "delete details" "$uid" "$(jqb .details.uid)"
req GET "$follower/$cms/c1"; check "deleted" 404 "$code"

# ---- Without a leader: 503 with Retry-After at once, never a hang ----
pids=$(jq -r '.replicas[].pid' "$dir/cluster.json")
survivor=${urls[0]}
for p in $(jq -r '.replicas[1:][].pid' "$dir/cluster.json"); do kill -9 "$p"; done
for _ in $(seq 100); do
	req GET "$survivor/debug/raft"
	[ "$(jqb .leaderId)" = 0 ] && break
	sleep 0.1
done
check "no leader" 0 "$(jqb .leaderId)"
req POST "$survivor/$cms" '{"metadata":{"name":"nl"}}'
check "no leader write" 503 "$code"
grep -qi '^Retry-After: 1' <<<"$headers" || fail "no Retry-After: $headers"
req GET "$survivor/$cms/x"; check "no leader read" 503 "$code"
req GET "$survivor/readyz"; check "not ready" 503 "$code"
req GET "$survivor/$cms?resourceVersion=0"; check "local read without leader" 200 "$code"
echo "api.sh: ok"
