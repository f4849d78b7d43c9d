#!/bin/bash
# auth.sh — TLS, authentication and the node authorizer of a real three-replica cluster: kubectl
# (1.33 and 1.27) with the kubeconfig `stsctl dev up` writes; anonymous, bad-token and admin-token
# requests; a node's client certificate against its own and another node's pods, secrets, Node
# and status, on the leader and through a follower (forwarding carries the user); expired,
# foreign-CA and server-only client certificates; X-Stsd-Remote-* headers from non-replicas; a
# flood of garbage, half and silent TLS handshakes that must not stop the replica serving others;
# plain HTTP to the TLS port.
# Usage: auth.sh STSCTL TLS_FLOOD
set -euo pipefail

stsctl=$1
flood=$2
name=auth.sh
source "$(dirname "$0")/lib.sh"
export HOME=$work/home KUBECONFIG=$dir/kubeconfig
mkdir -p "$HOME"
sdk=/usr/lib/google-cloud-sdk/bin
flood_pid=""
# set +e: under set -e the (exit $rc) that hands e2e_finish the status would end the trap itself.
trap 'rc=$?; set +e; [ -n "$flood_pid" ] && kill "$flood_pid" 2>/dev/null; (exit $rc); e2e_finish' EXIT

# as WHO METHOD ADDR PATH [BODY]: sets $code and $body. WHO: anon, admin, token:T, or the
# PREFIX of a certificate/key pair under $certs.
as() {
	local who=$1 method=$2 addr=$3 path=$4 data=${5-}
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$method" --max-time 20
		--cacert "$dir/pki/ca.crt")
	case $who in
	anon) ;;
	admin) args+=(--cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key") ;;
	token:*) args+=(-H "Authorization: Bearer ${who#token:}") ;;
	*) args+=(--cert "$certs/$who.crt" --key "$certs/$who.key") ;;
	esac
	[ -n "$data" ] && args+=(-H "Content-Type: application/json" --data-binary "$data")
	shift $(($# < 5 ? $# : 5))
	code=$(curl "${args[@]}" "$@" "https://$addr$path") || code=000
	body=$(cat "$work/body")
}

# expect WHO METHOD ADDR PATH CODE [BODY [CURL ARGS...]]: the answer has status CODE; a 401 or 403
# must be a Status of reason Unauthorized or Forbidden.
expect() {
	local who=$1 method=$2 addr=$3 path=$4 want=$5
	local data=${6-}
	shift 5
	[ $# -gt 0 ] && shift
	as "$who" "$method" "$addr" "$path" "$data" "$@"
	[ "$code" = "$want" ] || fail "$who $method $addr$path: $code, expected $want: ${body:0:400}"
	case $want in
	401) status_is Unauthorized ;;
	403) status_is Forbidden ;;
	esac
}

# status_is REASON: $body is a metav1.Status with that reason and the code it goes with.
status_is() {
	[ "$(jq -r '.kind + " " + .reason + " " + (.code | tostring)' <<<"$body" 2>/dev/null)" = \
		"Status $1 $code" ] || fail "expected a Status with reason $1 and code $code: ${body:0:400}"
}

# In sanitizer builds, a small ASan quarantine: VmRSS then measures stsd, not the up to 256 MiB of
# freed memory ASan holds back by default (ignored by builds without ASan).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16
cluster_up
mapfile -t urls < <(jq -r '.replicas[].apiAddress' "$dir/cluster.json")
mapfile -t pids < <(jq -r '.replicas[].pid' "$dir/cluster.json")
leader_id=$(acurl -s "https://${urls[0]}/debug/raft" | jq -r .leaderId)
[[ "$leader_id" =~ ^[123]$ ]] || fail "no leader: $leader_id"
leader=${urls[$((leader_id - 1))]}
follower=${urls[$((leader_id % 3))]}
certs=$work/certs
mkdir -p "$certs"

# ---- kubectl with the generated kubeconfig, as it is ----
n_kubectl=0
for v in 1.33 1.27; do
	bin=$sdk/kubectl.$v
	if [ ! -x "$bin" ]; then
		echo "$name: kubectl $v not installed: skipped"
		continue
	fi
	n_kubectl=$((n_kubectl + 1))
	cm=from-kubectl-${v//./-}
	expect_out "kube-system" "$bin" get ns
	jq -n --arg n "$cm" '{apiVersion: "v1", kind: "ConfigMap", metadata: {name: $n},
		data: {a: "b"}}' >"$work/cm.json"
	expect_out "configmap/$cm created" "$bin" apply -f "$work/cm.json"
	expect_out '"a":"b"' "$bin" get cm "$cm" -o jsonpath='{.data}'
	# Through a follower too (its certificate names 127.0.0.1).
	expect_out "$cm" "$bin" --server "https://$follower" get cm
done

# ---- Anonymous: health and version only ----
for u in "$leader" "$follower"; do
	for p in /api/v1/namespaces /metrics /debug/raft /apis /api /openapi/v3 \
		/api/v1/namespaces/default/pods; do
		expect anon GET "$u" "$p" 401
	done
	for p in /healthz /livez /readyz /version; do
		expect anon GET "$u" "$p" 200
	done
done
expect anon POST "$follower" /api/v1/namespaces/default/configmaps 401 '{"metadata":{"name":"anon"}}'

# ---- Bearer tokens ----
admin_token=$(cat "$dir/pki/admin.token")
[ -n "$admin_token" ] || fail "empty $dir/pki/admin.token"
for u in "$leader" "$follower"; do
	expect "token:not-$admin_token" GET "$u" /api/v1/namespaces 401
	grep -q "invalid bearer token" <<<"$body" || fail "bad token message: $body"
	# Presented but wrong credentials are a 401 even where anonymous is welcome.
	expect "token:not-$admin_token" GET "$u" /healthz 401
	expect "token:$admin_token" GET "$u" /api/v1/namespaces 200
	expect "token:$admin_token" GET "$u" /metrics 200
	expect "token:$admin_token" GET "$u" /debug/raft 200
done
expect "token:$admin_token" POST "$follower" /api/v1/namespaces/default/configmaps 201 \
	'{"metadata":{"name":"by-token"}}'

# ---- Nodes: their own pods, secrets, Node and status; nothing of another node's ----
for n in node-a node-b; do
	"$stsctl" pki issue --dir "$dir/pki" --out "$certs/$n" --client --cn "system:node:$n" \
		--org system:nodes >/dev/null
done
pods=/api/v1/namespaces/default/pods
secrets=/api/v1/namespaces/default/secrets
for s in sec-a sec-unused; do
	expect admin POST "$leader" "$secrets" 201 \
		"{\"metadata\":{\"name\":\"$s\"},\"stringData\":{\"k\":\"$s\"}}"
done
for n in a b; do
	vol=""
	[ $n = a ] && vol=',"volumes":[{"name":"s","secret":{"secretName":"sec-a"}}]'
	expect admin POST "$leader" "$pods" 201 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",
		\"metadata\":{\"name\":\"pod-$n\"},\"spec\":{\"nodeName\":\"node-$n\",
		\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]$vol}}"
done

# forbidden_names WHO: the 403 in $body names the user WHO.
forbidden_names() {
	grep -qF "User \\\"$1\\\"" <<<"$body" || fail "the 403 does not name user $1: $body"
}

# status_put WHO ADDR POD CODE: WHO sets POD's status phase to Running (the object read by the
# admin), expecting CODE.
status_put() {
	local who=$1 addr=$2 pod=$3 want=$4 obj
	as admin GET "$addr" "$pods/$pod"
	[ "$code" = 200 ] || fail "admin GET $pod: $code $body"
	obj=$(jq -c '.status.phase = "Running" | .status.podIP = "10.0.0.9"' <<<"$body")
	expect "$who" PUT "$addr" "$pods/$pod/status" "$want" "$obj"
}

for u in "$leader" "$follower"; do
	# Pods: its own, and only its own.
	expect node-a GET "$u" "$pods/pod-a" 200
	expect node-a GET "$u" "$pods/pod-b" 403
	forbidden_names system:node:node-a
	grep -q 'cannot get resource \\"pods\\"' <<<"$body" || fail "403 wording: $body"
	expect node-a GET "$u" "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a" 200
	[ "$(jq -r '[.items[].metadata.name] | join(",")' <<<"$body")" = pod-a ] ||
		fail "node-a's list of its pods: $body"
	expect node-a GET "$u" "$pods?fieldSelector=spec.nodeName%3Dnode-a" 200
	expect node-a GET "$u" "/api/v1/pods?watch=1&timeoutSeconds=1&fieldSelector=spec.nodeName%3Dnode-a" 200
	grep -q '"name":"pod-a"' <<<"$body" || fail "node-a's watch of its pods: $body"
	expect node-a GET "$u" /api/v1/pods 403
	forbidden_names system:node:node-a
	expect node-a GET "$u" "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-b" 403
	expect node-b GET "$u" "$pods/pod-b" 200
	expect node-b GET "$u" "$pods/pod-a" 403
	forbidden_names system:node:node-b
	# Secrets: what its pods use.
	expect node-a GET "$u" "$secrets/sec-a" 200
	expect node-a GET "$u" "$secrets/sec-unused" 403
	expect node-b GET "$u" "$secrets/sec-a" 403
	expect node-a GET "$u" "$secrets" 403
	# Its own Node, not another's.
	expect node-a POST "$u" /api/v1/nodes 201 '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"}}'
	expect node-a POST "$u" /api/v1/nodes 403 '{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-b"}}'
	forbidden_names system:node:node-a
	expect node-a GET "$u" /api/v1/nodes/node-a 200
	expect node-a DELETE "$u" /api/v1/nodes/node-a 403
	# Status of its own pods (a write: through a follower it is forwarded, carrying node-a).
	status_put node-a "$u" pod-a 200
	status_put node-a "$u" pod-b 403
	forbidden_names system:node:node-a
	status_put node-b "$u" pod-a 403
	# Nothing else.
	expect node-a GET "$u" /metrics 403
	expect node-a GET "$u" /debug/raft 403
	expect node-a POST "$u" "$pods" 403 '{"metadata":{"name":"evil"},"spec":{"nodeName":"node-a","containers":[{"name":"c","image":"x"}]}}'
	expect node-a DELETE "$u" "$pods/pod-b" 403
	expect node-a GET "$u" /api/v1/namespaces/default/configmaps 403
	# Discovery is for everyone authenticated.
	expect node-a GET "$u" /api/v1 200
	# Next round: the Node is created again.
	expect admin DELETE "$leader" /api/v1/nodes/node-a 200
done
as admin GET "$follower" "$pods/pod-b"
[ "$(jq -r .status.phase <<<"$body")" != Running ] || fail "pod-b's status was changed: $body"

# ---- Client certificates the CA does not vouch for ----
"$stsctl" pki issue --dir "$dir/pki" --out "$certs/expired" --client --cn admin --org system:masters \
	--not-before 2020-01-01T00:00:00Z --not-after 2020-06-01T00:00:00Z >/dev/null
"$stsctl" pki init --dir "$work/other-ca" >/dev/null
"$stsctl" pki issue --dir "$work/other-ca" --out "$certs/foreign" --client --cn admin \
	--org system:masters >/dev/null
"$stsctl" pki issue --dir "$dir/pki" --out "$certs/server-only" --server --cn admin \
	--org system:masters --san 127.0.0.1 >/dev/null
for u in "$leader" "$follower"; do
	expect expired GET "$u" /api/v1/namespaces 401
	grep -qi expired <<<"$body" || fail "expired certificate message: $body"
	expect foreign GET "$u" /api/v1/namespaces 401
	expect server-only GET "$u" /api/v1/namespaces 401
	# Wrong credentials are a 401 on anonymous paths too.
	expect foreign GET "$u" /healthz 401
done

# A certificate that expires while its connection is kept alive stops working on that connection:
# two requests 7.5 s apart on one connection (curl --rate 8/m), the certificate valid for the first 4 s.
"$stsctl" pki issue --dir "$dir/pki" --out "$certs/short" --client --cn admin --org system:masters \
	--not-before 2020-01-01T00:00:00Z --not-after "$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)" \
	>/dev/null
short=(-s -o /dev/null -w '%{http_code} %{num_connects}\n' --max-time 30 --cacert "$dir/pki/ca.crt"
	--cert "$certs/short.crt" --key "$certs/short.key")
out=$(curl --rate 8/m "${short[@]}" "https://$leader/api/v1/namespaces" \
	--next "${short[@]}" "https://$leader/api/v1/namespaces") || true
[ "$(tr '\n' ' ' <<<"$out")" = "200 1 401 0 " ] ||
	fail "a certificate expiring on a kept-alive connection (want '200 1 401 0'): $out"

# ---- Only replicas may speak for another user ----
for who in node-a admin "token:$admin_token"; do
	for u in "$leader" "$follower"; do
		expect "$who" GET "$u" /api/v1/namespaces 403 "" \
			-H "X-Stsd-Remote-User: admin" -H "X-Stsd-Remote-Group: system:masters"
		expect "$who" POST "$u" /api/v1/namespaces/default/configmaps 403 \
			'{"metadata":{"name":"spoofed"}}' -H "X-Stsd-Remote-User: admin" \
			-H "X-Stsd-Remote-Group: system:masters"
	done
done
expect admin GET "$leader" /api/v1/namespaces/default/configmaps/spoofed 404

# ---- Impersonation (kubectl --as): admins only, then authorized as the named user ----
for u in "$leader" "$follower"; do
	as_node_a=(-H "Impersonate-User: system:node:node-a" -H "Impersonate-Group: system:nodes")
	expect admin GET "$u" /api/v1/namespaces/default/pods/pod-a 200 "" "${as_node_a[@]}"
	expect admin GET "$u" /api/v1/namespaces/default/pods/pod-b 403 "" "${as_node_a[@]}"
	grep -qF 'User \"system:node:node-a\"' <<<"$body" || fail "impersonated 403 names: $body"
	expect node-a GET "$u" /api/v1/namespaces 403 "" -H "Impersonate-User: admin"
done
expect admin GET "$leader" /api/v1/namespaces 400 "" -H "Impersonate-Group: system:nodes"
expect admin GET "$leader" /api/v1/namespaces 400 "" -H "Impersonate-User: x" \
	-H "Impersonate-Extra-Scopes: a"

# ---- A wrong credential refuses even beside a good one; HEAD is a get ----
expect admin GET "$leader" /api/v1/namespaces 401 "" -H "Authorization: Bearer not-a-token"
expect admin HEAD "$leader" /healthz 200 "" -I
# Without credentials the answer comes before the body: a 2 MiB body is never buffered.
head -c $((2 << 20)) /dev/zero >"$work/big"
code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 20 --cacert "$dir/pki/ca.crt" \
	-H "Content-Type: application/json" --data-binary @"$work/big" \
	"https://$leader/api/v1/namespaces/default/configmaps") || code=000
[ "$code" = 401 ] || fail "anonymous 2 MiB POST: $code $(head -c 300 "$work/body")"
grep -q "event=unauthorized.*when=headers" "$dir"/replica-*.log ||
	fail "the anonymous POST was not refused at its headers"

out=$(kubectl --server "https://$follower" get pods --as system:node:node-a \
	--as-group system:nodes 2>&1) && fail "kubectl --as a node listed every pod: $out"
grep -qF "can only list pods with fieldSelector spec.nodeName=node-a" <<<"$out" ||
	fail "kubectl --as: $out"

# ---- Plain HTTP to the TLS port: no answer that serves it ----
code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 10 "http://$follower/api/v1/namespaces") ||
	code=000
[ "$code" = 000 ] || [ "$code" = 400 ] || fail "plain HTTP to the TLS port: $code $(cat "$work/body")"
expect admin GET "$follower" /api/v1/namespaces 200

# ---- A flood of bad handshakes does not stop the replica serving others ----
# STSD_E2E_FLOOD_MODE (garbage, half, silent; default mix: a third of each) narrows a failure down.
flood_mode=${STSD_E2E_FLOOD_MODE:-mix}
target=$follower
target_pid=${pids[$((leader_id % 3))]}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$target_pid/status"; }
rss_before=$(rss_kib)
term_before=$(acurl -s "https://$leader/debug/raft" | jq -r '"\(.leaderId) \(.term)"')
"$flood" 127.0.0.1 "${target##*:}" 300 "$flood_mode" 60 >"$work/flood.out" 2>&1 &
flood_pid=$!
end=$((SECONDS + 20))
until grep -q '^ready' "$work/flood.out"; do
	kill -0 "$flood_pid" 2>/dev/null || fail "tls_flood exited: $(cat "$work/flood.out")"
	[ $SECONDS -lt $end ] || fail "tls_flood never got its connections open"
	sleep 0.1
done
[ "$(awk '/^ready/ {print $2}' "$work/flood.out")" -ge 250 ] ||
	fail "tls_flood opened too few connections: $(cat "$work/flood.out")"
slowest=0
for i in $(seq 8); do
	t=$(acurl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 \
		"https://$target/api/v1/namespaces/default/configmaps") || t="000 5"
	[ "${t% *}" = 200 ] || fail "request $i during a $flood_mode flood: $t (code, seconds; $(cat "$work/flood.out"))"
	slowest=$(awk -v a="$slowest" -v b="${t#* }" 'BEGIN {print (b > a ? b : a)}')
	# Writes through the flooded follower go on too.
	expect admin POST "$target" /api/v1/namespaces/default/configmaps 201 \
		"{\"metadata\":{\"name\":\"during-flood-$i\"}}"
	sleep 0.5 # spread the requests over the flood (a pace, not a wait for a condition)
done
rss_during=$(rss_kib)
kill "$flood_pid"
wait "$flood_pid" 2>/dev/null || true
flood_pid=""
kill -0 "$target_pid" || fail "the flooded replica died"
end=$((SECONDS + 20))
until acurl -sf --max-time 5 -o /dev/null "https://$target/readyz"; do
	[ $SECONDS -lt $end ] || fail "the flooded replica is not ready after the flood"
	sleep 0.2
done
expect admin GET "$target" /api/v1/namespaces/default/configmaps/during-flood-8 200
# The flooded replica kept up with Raft: no election (a starved loop misses heartbeats).
term_after=$(acurl -s "https://$leader/debug/raft" | jq -r '"\(.leaderId) \(.term)"')
[ "$term_after" = "$term_before" ] ||
	fail "leader and term changed during the flood: $term_before -> $term_after"
rss_after=$(rss_kib)
[ "$rss_after" -lt $((300 * 1024)) ] ||
	fail "VmRSS of the flooded replica: $rss_after KiB (before $rss_before, during $rss_during)"
# A clean stop of every replica, without sanitizer reports (leaks are reported at exit).
"$stsctl" dev down --dir "$dir" >/dev/null
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$dir"/replica-*.log; then
	fail "sanitizer report in the replicas' logs"
fi

echo "$name: ok (kubectl versions: $n_kubectl; $flood_mode flood: slowest request ${slowest}s, VmRSS KiB" \
	"$rss_before -> $rss_during -> $rss_after)"
