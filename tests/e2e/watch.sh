#!/bin/bash
# watch.sh — watches over HTTP (curl -N) against a real three-replica cluster: a watch opened on a
# FOLLOWER sees the leader's writes as ADDED/MODIFIED/DELETED; initial ADDED events from rv 0;
# resume from a resourceVersion; label and field selectors (objects leaving the selection come as
# DELETED); cluster-scoped namespaces; timeoutSeconds; bookmarks (builds with test hooks); Table
# events; bad queries; the stsd_api_watches gauge, which falls back when clients hang up.
# The 410 Expired answer needs a compacted change log, which no e2e path produces yet: it is
# covered by tests/api/test_watch.c (expired_rv, expired_under_watch).
# Usage: watch.sh STSCTL [TEST_HOOKS]   (TEST_HOOKS ON: stsd honours STSD_WATCH_BOOKMARK_MS)
set -euo pipefail

stsctl=$1
hooks=${2:-OFF}
name=watch.sh
source "$(dirname "$0")/lib.sh"

# Background watches (curl processes this script started), stopped on every exit.
watch_pids=()
stop_watches() {
	local p
	for p in "${watch_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${watch_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	watch_pids=()
}
# set +e: under set -e the (exit $rc) that hands e2e_finish the status would end the trap itself.
trap 'rc=$?; set +e; stop_watches; (exit $rc); e2e_finish' EXIT

# watch_bg NAME URL [CURL ARGS...]: stream URL's events into $work/NAME.out.
watch_bg() {
	local n=$1 url=$2
	shift 2
	curl "${admin_tls[@]}" -sN --max-time 120 "$@" "https://$url" >"$work/$n.out" 2>"$work/$n.err" &
	watch_pids+=($!)
}

# "TYPE name" of each event line, comma-joined ("BOOKMARK" and "ERROR code" for those).
events() {
	jq -r 'if .type == "BOOKMARK" then "BOOKMARK"
	       elif .type == "ERROR" then "ERROR \(.object.code)"
	       elif .object.kind == "Table" then "\(.type) \(.object.rows[0].object.metadata.name)"
	       else "\(.type) \(.object.metadata.name)" end' "$work/$1.out" | paste -sd, -
}

# await_events NAME WANT: poll (20 s deadline) until NAME's events are exactly WANT.
await_events() {
	local end=$((SECONDS + 20)) got
	while :; do
		got=$(events "$1" 2>/dev/null || true)
		[ "$got" = "$2" ] && return 0
		[ $SECONDS -lt $end ] || fail "watch $1: expected '$2', got '$got' ($(cat "$work/$1.err"))"
		sleep 0.1
	done
}

# await_gauge URL N: poll until the replica reports N open watches.
await_gauge() {
	local end=$((SECONDS + 20)) got
	while :; do
		got=$(acurl -s "https://$1/metrics" | awk '$1 == "stsd_api_watches" {print $2}')
		[ "$got" = "$2" ] && return 0
		[ $SECONDS -lt $end ] || fail "stsd_api_watches on $1: expected $2, got '$got'"
		sleep 0.1
	done
}

# send METHOD URL [BODY]: sets $code and $body.
send() {
	local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" --max-time 20)
	[ -n "${3-}" ] && args+=(-H "Content-Type: application/json" --data-binary "$3")
	code=$(acurl "${args[@]}" "https://$2") || code=000
	body=$(cat "$work/body")
}

# cm_put OP NAME [LABELS-JSON]: create/update/delete configmap NAME on the leader; sets $rv.
cm_put() {
	local op=$1 n=$2 labels=${3:-'{}'}
	case $op in
	create) send POST "$leader/$cms" "{\"metadata\":{\"name\":\"$n\",\"labels\":$labels}}" ;;
	update)
		send GET "$leader/$cms/$n"
		send PUT "$leader/$cms/$n" "$(jq -c --argjson l "$labels" '.metadata.labels = $l | .data = {"v": (now | tostring)}' <<<"$body")"
		;;
	delete) send DELETE "$leader/$cms/$n" ;;
	esac
	[[ "$code" == 20? ]] || fail "$op configmap $n: $code $body"
	rv=$(jq -r '.metadata.resourceVersion // empty' <<<"$body")
}

export STSD_WATCH_BOOKMARK_MS=300 # read by stsd only when built with test hooks
cluster_up
mapfile -t urls < <(jq -r '.replicas[].apiAddress' "$dir/cluster.json")
leader_id=$(acurl -s "https://${urls[0]}/debug/raft" | jq -r .leaderId)
leader=${urls[$((leader_id - 1))]}
follower=${urls[$((leader_id % 3))]}
cms=api/v1/namespaces/default/configmaps

# ---- Initial events from rv 0 on a follower, then the leader's writes ----
cm_put create c1
cm_put create c2
watch_bg all "$follower/$cms?watch=true&resourceVersion=0"
await_events all "ADDED c1,ADDED c2"
cm_put create c3
rv3=$rv
cm_put update c1 '{"k":"v"}'
cm_put delete c2
await_events all "ADDED c1,ADDED c2,ADDED c3,MODIFIED c1,DELETED c2"
await_gauge "$follower" 1

# ---- Resume after a resourceVersion (watch=1 spelling, no initial events) ----
watch_bg resumed "$follower/$cms?watch=1&resourceVersion=$rv3"
await_events resumed "MODIFIED c1,DELETED c2"

# ---- Selectors: an object leaving the label selection is DELETED ----
watch_bg labels "$follower/$cms?watch=true&labelSelector=app%3Dweb"
watch_bg named "$follower/$cms?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dc3"
await_events named "ADDED c3"
await_gauge "$follower" 4
cm_put create l1 '{"app":"web"}'
cm_put create l2 '{"app":"db"}'
cm_put update l1 '{"app":"db"}'
cm_put update c3 '{"x":"y"}'
await_events labels "ADDED l1,DELETED l1"
await_events named "ADDED c3,MODIFIED c3"

# ---- Clients that hang up are forgotten ----
stop_watches
await_gauge "$follower" 0

# ---- All namespaces, and a cluster-scoped resource (no resourceVersion: initial events too) ----
watch_bg allns "$follower/api/v1/configmaps?watch=true"
watch_bg ns "$follower/api/v1/namespaces?watch=true&fieldSelector=metadata.name%3Dw1"
await_gauge "$follower" 2
send POST "$leader/api/v1/namespaces" '{"metadata":{"name":"w1"}}'
[ "$code" = 201 ] || fail "create namespace: $code $body"
send POST "$leader/api/v1/namespaces/w1/configmaps" '{"metadata":{"name":"in-w1"}}'
[ "$code" = 201 ] || fail "create configmap in w1: $code $body"
await_events ns "ADDED w1"
await_events allns "ADDED c1,ADDED c3,ADDED l1,ADDED l2,ADDED in-w1" # rv "": initial events too
stop_watches

# ---- timeoutSeconds ends the stream cleanly ----
start=$SECONDS
acurl -sN --max-time 20 -o "$work/timeout.out" -w '%{http_code}' \
	"https://$follower/$cms?watch=true&timeoutSeconds=1" >"$work/timeout.code" ||
	fail "timeoutSeconds: curl failed (the stream did not end cleanly)"
[ "$(cat "$work/timeout.code")" = 200 ] || fail "timeoutSeconds: status $(cat "$work/timeout.code")"
[ $((SECONDS - start)) -lt 10 ] || fail "timeoutSeconds=1 took $((SECONDS - start)) s"

# ---- Bookmarks (every STSD_WATCH_BOOKMARK_MS in builds with test hooks) ----
if [ "$hooks" = ON ]; then
	acurl -sN --max-time 20 -o "$work/bm.out" \
		"https://$follower/$cms?watch=true&allowWatchBookmarks=true&timeoutSeconds=2" ||
		fail "bookmarks: curl failed"
	grep -q '"type":"BOOKMARK"' "$work/bm.out" || fail "no BOOKMARK in $(cat "$work/bm.out")"
	bm=$(grep -m1 BOOKMARK "$work/bm.out")
	[ "$(jq -r .object.kind <<<"$bm")" = ConfigMap ] || fail "bookmark kind: $bm"
	[[ "$(jq -r .object.metadata.resourceVersion <<<"$bm")" =~ ^[0-9]+$ ]] || fail "bookmark rv: $bm"
	# Without allowWatchBookmarks: none.
	acurl -sN --max-time 20 -o "$work/nobm.out" "https://$follower/$cms?watch=true&timeoutSeconds=1" || true
	! grep -q BOOKMARK "$work/nobm.out" || fail "bookmark without allowWatchBookmarks"
fi

# ---- Table events (kubectl get -w) ----
watch_bg table "$follower/$cms?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dc1" \
	-H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io'
await_events table "ADDED c1"
first=$(head -n1 "$work/table.out")
[ "$(jq -r '.object.columnDefinitions | length' <<<"$first")" -gt 0 ] || fail "table: no columns: $first"
[ "$(jq -r '.object.rows[0].cells[0]' <<<"$first")" = c1 ] || fail "table: first cell: $first"
cm_put update c1 '{"t":"1"}'
await_events table "ADDED c1,MODIFIED c1"
second=$(sed -n 2p "$work/table.out")
[ "$(jq -r '.object.columnDefinitions | length' <<<"$second")" = 0 ] || fail "table: columns again: $second"
stop_watches

# ---- Bad queries: 400 before any stream ----
send GET "$follower/$cms?watch=true&resourceVersion=abc"
[ "$code" = 400 ] || fail "non-numeric resourceVersion: $code $body"
send GET "$follower/$cms?watch=true&labelSelector=a%20in%20("
[ "$code" = 400 ] || fail "bad label selector: $code $body"
send GET "$follower/$cms?watch=true&fieldSelector=spec.nothing%3Dx"
[ "$code" = 400 ] || fail "unsupported field selector: $code $body"

echo "$name: ok"
