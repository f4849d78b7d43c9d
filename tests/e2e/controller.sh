#!/bin/bash
# controller.sh — the StatefulSet controller end to end, with the real kubectl, on one dev cluster
# of three replicas and three simulated nodes (plus a fourth node, run by an agent of our own, that
# is stopped for good): ordered creation that halts on an unready pod; burst creation under
# Parallel; scale-down from the highest ordinal; rolling update in reverse ordinal order;
# partition canary then rollout; OnDelete; rollout undo / status / history; ordinals.start;
# PVC retention; garbage collection, orphaning and adoption; a lost node (shared-volume pod
# replaced once fenced, local-volume pod waiting, never two copies); `stsctl rollout pause`.
# Each scenario runs in its own namespace and subshell, so that one failure does not hide the
# others; the pod history of a namespace comes from a watch started at a known resourceVersion.
# Usage: controller.sh STSCTL STSAGENT. Exits 77 (CTest: skipped) when no kubectl is installed.
set -euo pipefail

stsctl=$1
stsagent=$2
if ! command -v kubectl >/dev/null; then
	echo "controller.sh: no kubectl on this machine: skipped"
	exit 77
fi
name=controller.sh
source "$(dirname "$0")/lib.sh"
export HOME=$work/home KUBECONFIG=$dir/kubeconfig
mkdir -p "$HOME"

# Node timings for the lost-node scenario. The dev-up agent renews every 10 s (lease 40 s), so the
# grace period must stay above that; the lone node's lease is 4 s, so it is fenced after
# 4 + 14 + 1 = 19 s of silence, after it went NotReady at 15 s.
grace_ms=15000
fence_after_ms=14000
fence_margin_ms=1000
lone_lease_s=4

lone_pid=
stop_watchers() {
	local p
	for p in $(cat "$work/watchers" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
	: >"$work/watchers"
}
stop_lone() {
	if [ -n "$lone_pid" ]; then
		kill -KILL "$lone_pid" 2>/dev/null || true
	fi
	lone_pid=
}
# set +e: under set -e the (exit $rc) that hands e2e_finish the status would end the trap itself.
trap 'rc=$?; set +e; stop_watchers; stop_lone; (exit $rc); e2e_finish' EXIT

mkdir -p "$work/bin"
# dev up finds stsagent beside stsctl, else in $STSD_BIN.
if [ "$(dirname "$(realpath "$stsctl")")" != "$(dirname "$(realpath "$stsagent")")" ]; then
	ln -s "$(realpath "$stsagent")" "$work/bin/stsagent"
	ln -s "$(dirname "$(realpath "$stsctl")")/stsd" "$work/bin/stsd"
	export STSD_BIN=$work/bin
fi

# ---------------------------------------------------------------------------------------------
# Helpers. Predicates print what they saw when they fail, so that wait_for can say it.

# wait_for SECONDS WHAT CMD...: poll CMD (every 0.2 s) until it succeeds, else fail with the
# last thing it printed.
wait_for() {
	local secs=$1 what=$2 deadline out
	shift 2
	deadline=$((SECONDS + secs))
	until out=$("$@" 2>&1); do
		[ $SECONDS -lt $deadline ] || fail "no $what after ${secs}s; last seen: $out"
		sleep 0.2
	done
}

# holds SECONDS WHAT CMD...: CMD keeps succeeding for SECONDS (a thing that must NOT happen;
# used only once the controller has visibly acted on the change, e.g. observedGeneration).
holds() {
	local secs=$1 what=$2 deadline out
	shift 2
	deadline=$((SECONDS + secs))
	while [ $SECONDS -lt $deadline ]; do
		out=$("$@" 2>&1) || fail "$what broke: $out"
		sleep 0.2
	done
}

# Every kubectl call of a scenario is in its namespace ($ns).
k() { kubectl -n "$ns" "$@"; }

# is OBJ JSONPATH WANT: the field equals WANT (prints it otherwise).
is() {
	local got
	got=$(k get "$1" -o "jsonpath={$2}" 2>&1) || true
	[ "$got" = "$3" ] && return 0
	echo "$1 $2 is '$got', expected '$3'"
	return 1
}

# The live pods (not terminating) as "name=revision-hash" sorted by name, one line.
pods() {
	k get pods -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) |
	    "\(.metadata.name)=\(.metadata.labels["controller-revision-hash"] // "")"] | sort | join(" ")'
}
# pods_are WANT: the pod names, terminating ones included (space-separated, sorted), are WANT.
pods_are() {
	local got
	got=$(k get pods -o json | jq -r '[.items[].metadata.name] | sort | join(" ")')
	[ "$got" = "$1" ] && return 0
	echo "pods '$got', expected '$1'"
	return 1
}
# synced_ready SET N: status replicas and readyReplicas are N, observedGeneration = generation.
synced_ready() {
	local s
	s=$(k get sts "$1" -o json | jq -r '[.status.readyReplicas // 0, .status.replicas // 0,
	    .status.observedGeneration == .metadata.generation] | map(tostring) | join(" ")')
	[ "$s" = "$2 $2 true" ] && return 0
	echo "sts/$1 readyReplicas replicas synced: '$s', expected '$2 $2 true'"
	return 1
}
# rolled SET N: the update is done: N replicas, all updated and ready, current = update.
rolled() {
	local s
	s=$(k get sts "$1" -o json | jq -r '[.status.replicas, .status.readyReplicas,
	    .status.updatedReplicas, .status.currentReplicas,
	    (.status.currentRevision == .status.updateRevision),
	    (.status.observedGeneration == .metadata.generation)] | map(tostring) | join(" ")')
	[ "$s" = "$2 $2 $2 $2 true true" ] && return 0
	echo "sts/$1 replicas ready updated current cur=upd synced: '$s'"
	return 1
}
# all_at SET REVISION: every live pod of the set carries controller-revision-hash REVISION.
all_at() {
	local bad
	bad=$(k get pods -l "app=$1" -o json | jq -r --arg r "$2" '[.items[] |
	    select(.metadata.labels["controller-revision-hash"] != $r) | .metadata.name] | join(" ")')
	[ -z "$bad" ] && return 0
	echo "pods not at $2: $bad ($(pods))"
	return 1
}
field() { k get "$1" -o "jsonpath={$2}"; }
now_ms() { date +%s%3N; }

# A StatefulSet as JSON: sts_json NAME REPLICAS; adjust it with jq, apply with apply_json.
sts_json() {
	jq -n --arg n "$1" --argjson r "$2" '{apiVersion: "apps/v1", kind: "StatefulSet",
	    metadata: {name: $n}, spec: {replicas: $r, serviceName: $n,
	    selector: {matchLabels: {app: $n}},
	    template: {metadata: {labels: {app: $n}, annotations: {v: "1"}},
	      spec: {containers: [{name: "app", image: "registry.example/app:1"}]}}}}'
}
apply_json() { k apply -f - >/dev/null; }
# A volume claim template "data" of class CLASS: jq filter argument.
claim() {
	echo ".spec.volumeClaimTemplates = [{metadata: {name: \"data\"}, spec: {accessModes:
	    [\"ReadWriteOnce\"], storageClassName: \"$1\", resources: {requests: {storage: \"1Gi\"}}}}]"
}
# set_template_v SET V: change the template (annotation v), which makes a new revision.
set_template_v() {
	k patch sts "$1" --type merge -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"v\":\"$2\"}}}}}" \
		>/dev/null
}
update_revision() { field "sts/$1" .status.updateRevision; }
# new_update_revision SET OLD: status.updateRevision moved off OLD (the controller saw the change).
new_update_revision() {
	local r
	r=$(update_revision "$1")
	[ -n "$r" ] && [ "$r" != "$2" ] && return 0
	echo "sts/$1 updateRevision still '$r'"
	return 1
}

# ---- pod history: a watch of the namespace's pods from the resourceVersion of a list, so that
# nothing after that point is missed even if the watch connects late.
watch_pods() {
	local rv
	rv=$(kubectl get --raw "/api/v1/namespaces/$ns/pods" | jq -r .metadata.resourceVersion)
	kubectl get --raw "/api/v1/namespaces/$ns/pods?watch=1&resourceVersion=$rv" \
		>"$work/$ns.watch" 2>"$work/$ns.watch.err" &
	echo $! >>"$work/watchers"
}
# The history as compact events, one per line: type, name, uid, hash, node, terminating, ready.
# A partial last line (the watch is still writing) is left out.
events() {
	jq -c 'select(.type == "ADDED" or .type == "MODIFIED" or .type == "DELETED") |
	    .object as $o | {t: .type, n: $o.metadata.name, u: $o.metadata.uid,
	    h: ($o.metadata.labels["controller-revision-hash"] // ""), node: ($o.spec.nodeName // ""),
	    del: ($o.metadata.deletionTimestamp != null), ready: ([$o.status.conditions[]? | select(.type == "Ready") | .status][0] // "")}' \
		"$work/$ns.watch" 2>/dev/null || true
}
# A compact timeline (first occurrences in order) for failure messages.
timeline() {
	events | jq -s -r '[.[] | if .t == "DELETED" then "gone \(.n)" elif .t == "ADDED" then
	    "add \(.n)@\(.h | split("-") | last)" elif .del then "term \(.n)" elif .ready == "True"
	    then "ready \(.n)" else empty end] | reduce .[] as $x ([]; if (.[-1] == $x) then . else
	    . + [$x] end) | join(", ")'
}

# first EVENT NAME: index in the history of the first time pod NAME was added / ready /
# terminating (deletionTimestamp or gone) / gone; 1000000000 when never.
first() {
	local sel
	case $1 in
	add) sel='.t == "ADDED"' ;;
	ready) sel='.ready == "True" and (.del | not) and .t != "DELETED"' ;;
	term) sel='.del or .t == "DELETED"' ;;
	gone) sel='.t == "DELETED"' ;;
	esac
	events | jq -s -r --arg n "$2" "([to_entries[] | select(.value.n == \$n and (.value |
	    $sel)) | .key] | first) // 1000000000"
}
# first_at HASH NAME: index of the first event of pod NAME at revision HASH.
first_at() {
	events | jq -s -r --arg n "$2" --arg h "$1" '([to_entries[] | select(.value.n == $n and
	    .value.h == $h and .value.t == "ADDED") | .key] | first) // 1000000000'
}

# ---- scenarios ----------------------------------------------------------------------------------

# 1. OrderedReady: web-0 alone while it is unready; web-1 only once web-0 is Ready, and so on.
s_ordered() {
	sts_json web 3 | jq '.spec.template.metadata.annotations["sim.stsd.io/ready"] = "false"' |
		apply_json
	wait_for 20 "Running web-0" is pod/web-0 .status.phase Running
	wait_for 20 "status of 1 replica" is sts/web .status.replicas 1
	holds 2 "web-0 alone while unready" pods_are "web-0"
	is pod/web-0 '.status.conditions[?(@.type=="Ready")].status' False >/dev/null ||
		fail "web-0 is Ready although its template says sim.stsd.io/ready false"
	k annotate pod web-0 sim.stsd.io/ready=true --overwrite >/dev/null
	wait_for 20 "web-1 after web-0 became Ready" pods_are "web-0 web-1"
	wait_for 20 "Running web-1" is pod/web-1 .status.phase Running
	holds 1 "web-2 absent while web-1 is unready" pods_are "web-0 web-1"
	k annotate pod web-1 sim.stsd.io/ready=true --overwrite >/dev/null
	wait_for 20 "web-2 after web-1 became Ready" pods_are "web-0 web-1 web-2"
	k annotate pod web-2 sim.stsd.io/ready=true --overwrite >/dev/null
	wait_for 20 "3 ready replicas" synced_ready web 3
	for i in 1 2; do
		local added ready
		added=$(first add "web-$i")
		ready=$(first ready "web-$((i - 1))")
		[ "$added" -gt "$ready" ] ||
			fail "web-$i was created before web-$((i - 1)) was Ready: $(timeline)"
	done
}

# 2. Parallel: 20 replicas created without waiting for one another.
s_parallel() {
	local t0=$SECONDS
	sts_json web 20 | jq '.spec.podManagementPolicy = "Parallel"' | apply_json
	wait_for 30 "20 pods" is sts/web .status.replicas 20
	wait_for 30 "20 ready replicas" synced_ready web 20
	echo "  (20 Parallel pods Ready in $((SECONDS - t0))s)"
	# Not one by one: at some moment at least 10 pods existed that were not Ready yet (under
	# OrderedReady never more than 1).
	local most
	most=$(events | jq -s 'reduce .[] as $e ({w: {}, max: 0};
	    if $e.t == "DELETED" or $e.ready == "True" then .w |= del(.[$e.n]) else .w[$e.n] = 1 end |
	    .max = ([.max, (.w | length)] | max)) | .max')
	[ "$most" -ge 10 ] ||
		fail "Parallel had at most $most unready pods at once, expected >= 10: $(timeline)"
}

# Pod CIDRs: every node (they registered together) has its own /24 of 10.244.0.0/16.
s_cidrs() {
	local cidrs n
	node_cidrs() { kubectl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}'; }
	all_have() { ! node_cidrs | grep -qv '^10\.244\.[0-9]*\.0/24$'; }
	wait_for 30 "a pod CIDR on every node" all_have
	cidrs=$(node_cidrs)
	n=$(kubectl get nodes --no-headers | wc -l)
	[ "$(sort -u <<<"$cidrs" | wc -l)" -eq "$n" ] || fail "pod CIDRs not unique: $(echo $cidrs)"
}

# The controller's figures on /metrics: exactly one replica's controller leads, and it has synced.
s_metrics() {
	local leading=0 addr m
	for addr in $(jq -r '.replicas[].apiAddress' "$dir/cluster.json"); do
		m=$(acurl -sf "https://$addr/metrics") || fail "no /metrics from $addr"
		grep -q '^stsd_controller_syncs_total ' <<<"$m" || fail "no controller metrics on $addr"
		if grep -q '^stsd_controller_leading 1$' <<<"$m"; then
			leading=$((leading + 1))
			[ "$(awk '/^stsd_controller_syncs_total /{print $2}' <<<"$m")" -gt 0 ] ||
				fail "the leading controller on $addr has synced nothing"
			[ "$(awk '/^stsd_controller_commands_total /{print $2}' <<<"$m")" -gt 0 ] ||
				fail "the leading controller on $addr has proposed nothing"
		fi
	done
	[ "$leading" -eq 1 ] || fail "$leading replicas say their controller leads"
}

# 3. Scale-down: highest ordinal first, one at a time under OrderedReady.
s_scale_down() {
	sts_json web 4 | apply_json
	wait_for 30 "4 ready replicas" synced_ready web 4
	k scale sts web --replicas 1 >/dev/null
	wait_for 30 "web-0 alone after scaling to 1" pods_are "web-0"
	wait_for 20 "1 ready replica" synced_ready web 1
	for i in 3 2; do
		local gone next
		gone=$(first gone "web-$i")
		next=$(first term "web-$((i - 1))")
		[ "$gone" -lt 1000000000 ] || fail "web-$i never went: $(timeline)"
		[ "$next" -gt "$gone" ] ||
			fail "web-$((i - 1)) terminated before web-$i was gone: $(timeline)"
	done
}

# 4. Rolling update: pods replaced from the highest ordinal down, each after the one above is
# Ready at the new revision.
s_rolling() {
	sts_json web 3 | apply_json
	wait_for 30 "3 ready replicas" synced_ready web 3
	local old new
	old=$(update_revision web)
	set_template_v web 2
	wait_for 20 "a new update revision" new_update_revision web "$old"
	new=$(update_revision web)
	wait_for 60 "the rolling update to end" rolled web 3
	all_at web "$new" || fail "after the rollout: $(all_at web "$new")"
	local a2 a1 a0
	a2=$(first_at "$new" web-2) a1=$(first_at "$new" web-1) a0=$(first_at "$new" web-0)
	[ "$a2" -lt "$a1" ] && [ "$a1" -lt "$a0" ] && [ "$a0" -lt 1000000000 ] ||
		fail "order of new-revision pods not web-2, web-1, web-0: $(timeline)"
	# One at a time: web-1 was taken down only once web-2 was back.
	events | jq -s -e --arg h "$new" '(. as $e | [to_entries[] | select(.value.n == "web-2" and
	    .value.h == $h and .value.ready == "True") | .key] | first) as $r2 |
	    ([to_entries[] | select(.value.n == "web-1" and (.value.del or .value.t == "DELETED"))
	    | .key] | first) > $r2' >/dev/null ||
		fail "web-1 was deleted before the new web-2 was Ready: $(timeline)"
}

# 5. Partition 2 of 3: only web-2 updated; partition 0: all.
s_partition() {
	sts_json web 3 | apply_json
	wait_for 30 "3 ready replicas" synced_ready web 3
	local old new
	old=$(update_revision web)
	k patch sts web --type merge -p '{"spec":{"updateStrategy":{"type":"RollingUpdate",
	    "rollingUpdate":{"partition":2}},"template":{"metadata":{"annotations":{"v":"2"}}}}}' \
		>/dev/null
	wait_for 20 "a new update revision" new_update_revision web "$old"
	new=$(update_revision web)
	wait_for 30 "canary web-2 at the new revision" is pod/web-2 \
		'.metadata.labels.controller-revision-hash' "$new"
	wait_for 20 "updatedReplicas 1, 3 ready" is sts/web \
		'.status.updatedReplicas}/{.status.readyReplicas' "1/3"
	canary() {
		[ "$(pods)" = "web-0=$old web-1=$old web-2=$new" ] ||
			{ echo "pods $(pods), expected only web-2 at $new"; return 1; }
	}
	holds 1 "web-0 and web-1 at the old revision" canary
	is sts/web .status.currentRevision "$old" >/dev/null ||
		fail "currentRevision moved during the canary: $(field sts/web .status.currentRevision)"
	k patch sts web --type merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}' \
		>/dev/null
	wait_for 60 "the phased rollout to end" rolled web 3
	all_at web "$new" || fail "$(all_at web "$new")"
	[ "$(first_at "$new" web-1)" -lt "$(first_at "$new" web-0)" ] ||
		fail "after the canary, web-0 was updated before web-1: $(timeline)"
}

# 6. OnDelete: nothing replaced until a pod is deleted; it comes back at the new revision.
s_ondelete() {
	sts_json web 3 | jq '.spec.updateStrategy = {type: "OnDelete"}' | apply_json
	wait_for 30 "3 ready replicas" synced_ready web 3
	local old new uid1
	old=$(update_revision web)
	uid1=$(field pod/web-1 .metadata.uid)
	set_template_v web 2
	wait_for 20 "a new update revision" new_update_revision web "$old"
	new=$(update_revision web)
	holds 2 "every pod at the old revision" all_at web "$old"
	k delete pod web-1 --wait=false >/dev/null
	new_web1() {
		local u
		u=$(field pod/web-1 .metadata.uid 2>&1) || true
		[ -n "$u" ] && [ "$u" != "$uid1" ] && is pod/web-1 \
			'.metadata.labels.controller-revision-hash' "$new"
	}
	wait_for 30 "web-1 back at the new revision" new_web1
	wait_for 20 "3 ready replicas" synced_ready web 3
	[ "$(pods)" = "web-0=$old web-1=$new web-2=$old" ] ||
		fail "after deleting web-1: $(pods), expected only web-1 at $new"
}

# 7. rollout history, undo and status.
s_undo() {
	sts_json web 3 | apply_json
	wait_for 30 "3 ready replicas" synced_ready web 3
	local r1 r2
	r1=$(update_revision web)
	set_template_v web 2
	wait_for 20 "a new update revision" new_update_revision web "$r1"
	r2=$(update_revision web)
	local out
	out=$(timeout 60 kubectl -n "$ns" rollout status sts/web 2>&1) ||
		fail "rollout status did not complete: $out"
	grep -q "roll out complete" <<<"$out" || fail "rollout status printed: $out"
	rolled web 3 >/dev/null || fail "rollout status returned before the end: $(rolled web 3)"
	out=$(k rollout history sts/web 2>&1) || fail "rollout history: $out"
	[ "$(awk '$1 ~ /^[0-9]+$/ {print $1}' <<<"$out" | tr '\n' ' ')" = "1 2 " ] ||
		fail "rollout history printed '$out', expected revisions 1 and 2"
	out=$(k rollout undo sts/web 2>&1) || fail "rollout undo: $out"
	grep -q "rolled back" <<<"$out" || fail "rollout undo printed: $out"
	out=$(timeout 60 kubectl -n "$ns" rollout status sts/web 2>&1) ||
		fail "rollout status after undo did not complete: $out"
	rolled web 3 >/dev/null || fail "after undo: $(rolled web 3)"
	[ "$(update_revision web)" = "$r1" ] ||
		fail "undo made revision $(update_revision web), expected the first one $r1 again"
	all_at web "$r1" || fail "after undo: $(all_at web "$r1")"
	is sts/web '.spec.template.metadata.annotations.v' 1 >/dev/null ||
		fail "undo left template v=$(field sts/web .spec.template.metadata.annotations.v)"
	# The first revision is renumbered past the second (upstream's rollback).
	out=$(k rollout history sts/web 2>&1)
	[ "$(awk '$1 ~ /^[0-9]+$/ {print $1}' <<<"$out" | tr '\n' ' ')" = "2 3 " ] ||
		fail "rollout history after undo printed '$out', expected revisions 2 and 3"
	is "controllerrevision/$r1" .revision 3 >/dev/null ||
		fail "revision $r1 numbered $(field "controllerrevision/$r1" .revision), expected 3"
}

# 8. ordinals.start 0 -> 5 with 2 replicas: web-5 and web-6 replace web-0 and web-1.
s_ordinals() {
	sts_json web 2 | apply_json
	wait_for 30 "2 ready replicas" synced_ready web 2
	k patch sts web --type merge -p '{"spec":{"ordinals":{"start":5}}}' >/dev/null
	wait_for 40 "pods web-5 and web-6 only" pods_are "web-5 web-6"
	wait_for 20 "2 ready replicas" synced_ready web 2
	for p in web-5 web-6; do
		is "pod/$p" '.metadata.labels.apps\.kubernetes\.io/pod-index' "${p#web-}" >/dev/null ||
			fail "$p: pod-index label $(field "pod/$p" '.metadata.labels.apps\.kubernetes\.io/pod-index')"
	done
}

# pvcs_are WANT: the namespace's PVC names (sorted, space-separated) are exactly WANT.
pvcs_are() {
	local got
	got=$(k get pvc -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) |
	    .metadata.name] | sort | join(" ")')
	[ "$got" = "$1" ] && return 0
	echo "PVCs '$got', expected '$1'"
	return 1
}
no_pods_of() {
	local got
	got=$(k get pods -l "app=$1" -o name)
	[ -z "$got" ] && return 0
	echo "pods left: $got"
	return 1
}

# 9. PVC retention: whenScaled Delete removes the claim of a condemned ordinal; whenDeleted Retain
# keeps them when the set goes; the default keeps all; whenDeleted Delete removes them.
s_retention() {
	sts_json sd 3 | jq "$(claim standard) | .spec.persistentVolumeClaimRetentionPolicy =
	    {whenScaled: \"Delete\", whenDeleted: \"Retain\"}" | apply_json
	sts_json keep 2 | jq "$(claim standard)" | apply_json
	sts_json dd 2 | jq "$(claim shared) | .spec.persistentVolumeClaimRetentionPolicy =
	    {whenScaled: \"Retain\", whenDeleted: \"Delete\"}" | apply_json
	wait_for 30 "3 ready replicas of sd" synced_ready sd 3
	wait_for 30 "2 ready replicas of keep" synced_ready keep 2
	wait_for 30 "2 ready replicas of dd" synced_ready dd 2
	local all="data-dd-0 data-dd-1 data-keep-0 data-keep-1 data-sd-0 data-sd-1 data-sd-2"
	pvcs_are "$all" || fail "$(pvcs_are "$all")"
	is pvc/data-sd-0 .status.phase Bound >/dev/null || fail "$(is pvc/data-sd-0 .status.phase Bound)"
	k scale sts sd --replicas 1 >/dev/null
	k scale sts keep --replicas 1 >/dev/null
	wait_for 30 "sd scaled to 1" synced_ready sd 1
	wait_for 30 "keep scaled to 1" synced_ready keep 1
	wait_for 30 "the claims of sd-1 and sd-2 removed (whenScaled Delete)" pvcs_are \
		"data-dd-0 data-dd-1 data-keep-0 data-keep-1 data-sd-0"
	k delete sts sd keep dd >/dev/null
	wait_for 30 "the pods of sd gone" no_pods_of sd
	wait_for 30 "the pods of keep gone" no_pods_of keep
	wait_for 30 "the claims of dd removed (whenDeleted Delete)" pvcs_are \
		"data-keep-0 data-keep-1 data-sd-0"
	holds 1 "claims retained" pvcs_are "data-keep-0 data-keep-1 data-sd-0"
}

# 10. Deleting a set removes its pods and revisions; --cascade=orphan leaves the pods, free of
# owners, and a new set of the same name and selector adopts them without new pods.
s_gc() {
	sts_json gone 2 | apply_json
	sts_json orph 2 | apply_json
	wait_for 30 "2 ready replicas of gone" synced_ready gone 2
	wait_for 30 "2 ready replicas of orph" synced_ready orph 2
	set_template_v gone 2
	wait_for 30 "the update of gone" rolled gone 2
	[ "$(k get controllerrevisions -l app=gone -o name | wc -l)" = 2 ] ||
		fail "gone: revisions $(k get controllerrevisions -l app=gone -o name)"
	k delete sts gone >/dev/null
	wait_for 30 "the pods of gone deleted" no_pods_of gone
	no_revisions() {
		local got
		got=$(k get controllerrevisions -l app=gone -o name)
		[ -z "$got" ] || { echo "revisions left: $got"; return 1; }
	}
	wait_for 30 "the revisions of gone deleted" no_revisions

	local uids
	uids=$(k get pods -l app=orph -o jsonpath='{.items[*].metadata.uid}')
	k delete sts orph --cascade=orphan >/dev/null
	orphaned() {
		local s
		s=$(k get pods -l app=orph -o json | jq -r '[.items[] | "\(.metadata.name):\(
		    .metadata.ownerReferences // [] | length)"] | join(" ")')
		[ "$s" = "orph-0:0 orph-1:0" ] || { echo "pods:owner refs '$s'"; return 1; }
	}
	wait_for 30 "orph's pods without ownerReferences" orphaned
	sts_gone() { ! k get sts orph >/dev/null 2>&1 || { echo "sts/orph still there"; return 1; }; }
	wait_for 20 "sts orph deleted" sts_gone
	holds 1 "orphaned pods staying" orphaned
	sts_json orph 2 | apply_json
	local set_uid
	set_uid=$(field sts/orph .metadata.uid)
	adopted() {
		local s
		s=$(k get pods -l app=orph -o json | jq -r --arg u "$set_uid" '[.items[] |
		    "\(.metadata.name):\([.metadata.ownerReferences[]? | select(.uid == $u and
		    .controller) | .kind] | join(""))"] | join(" ")')
		[ "$s" = "orph-0:StatefulSet orph-1:StatefulSet" ] ||
			{ echo "pods:controller '$s'; revisions:owner uids '$(revs)' (set $set_uid)"; return 1; }
	}
	revs() {
		k get controllerrevisions -l app=orph -o json | jq -r '[.items[] |
		    "\(.metadata.name):\([.metadata.ownerReferences[]?.uid] | join(","))"] | join(" ")'
	}
	wait_for 30 "adoption of orph's pods" adopted
	# The orphaned revision is the new set's again (upstream adopts orphan revisions too).
	revs_adopted() {
		local r
		r=$(revs)
		[[ -n "$r" && "$r" != *": "* && "$r" != *":" && "$(tr ' ' '\n' <<<"$r" |
			grep -vc ":$set_uid$")" = 0 ]] && return 0
		echo "revisions:owner uids '$r', expected all owned by $set_uid"
		return 1
	}
	wait_for 10 "adoption of orph's revision" revs_adopted
	wait_for 20 "2 ready replicas of the new orph" synced_ready orph 2
	[ "$(k get pods -l app=orph -o jsonpath='{.items[*].metadata.uid}')" = "$uids" ] ||
		fail "the new set replaced its pods instead of adopting them: $(timeline)"
	local added
	added=$(events | jq -s '[.[] | select(.t == "ADDED" and (.n | startswith("orph")))] | length')
	[ "$added" = 2 ] || fail "orph pods created $added times, expected 2: $(timeline)"
}

# 12. stsctl rollout pause: a template change replaces nothing, the condition says so; resume
# rolls on.
s_pause() {
	sts_json web 3 | apply_json
	wait_for 30 "3 ready replicas" synced_ready web 3
	local old new out uids
	old=$(update_revision web)
	uids=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
	out=$("$stsctl" rollout pause sts web -n "$ns" --dir "$dir" 2>&1) ||
		fail "stsctl rollout pause: $out"
	cond() {
		is sts/web '.status.conditions[?(@.type=="stsd.io/RolloutPaused")].status' "$1"
	}
	wait_for 20 "condition stsd.io/RolloutPaused True" cond True
	set_template_v web 2
	wait_for 20 "a new update revision" new_update_revision web "$old"
	new=$(update_revision web)
	same_pods() {
		local u
		u=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.uid}')
		[ "$u" = "$uids" ] || { echo "pods replaced while paused: $(pods)"; return 1; }
	}
	holds 2 "no pod replaced while paused" same_pods
	all_at web "$old" || fail "while paused: $(all_at web "$old")"
	out=$("$stsctl" rollout resume sts web -n "$ns" --dir "$dir" 2>&1) ||
		fail "stsctl rollout resume: $out"
	wait_for 60 "the rollout after resume" rolled web 3
	all_at web "$new" || fail "after resume: $(all_at web "$new")"
	no_cond() {
		local c
		c=$(field sts/web '.status.conditions[?(@.type=="stsd.io/RolloutPaused")].status')
		[ -z "$c" ] || [ "$c" = False ] || { echo "RolloutPaused is '$c'"; return 1; }
	}
	wait_for 10 "the RolloutPaused condition cleared" no_cond
	k get events --field-selector reason=RolloutPaused -o name | grep -q . ||
		fail "no RolloutPaused event: $(k get events 2>&1 | tail -5)"
}

# 11. A node stopped for good. Its own agent (node lone, lease 4 s) runs one pod with a shared
# volume and one with a local volume; SIGKILL it: the node goes NotReady, then, once fenced, the
# shared-volume pod is recreated on another node while the local-volume pod waits for its node.
s_node_loss() {
	local certs=$work/lone-certs servers out
	mkdir -p "$certs"
	out=$("$stsctl" pki issue --dir "$dir/pki" --out "$certs/lone" --client \
		--cn system:node:lone --org system:nodes 2>&1) || fail "pki issue: $out"
	servers=$(jq -r '[.replicas[] | "https://" + .apiAddress] | join(",")' "$dir/cluster.json")
	"$stsagent" --simulate --name lone --kubeconfig "$dir/kubeconfig" --server "$servers" \
		--cert-dir "$certs" --lease-duration "$lone_lease_s" --data-dir "$work/agent-lone" \
		>"$work/agent-lone.log" 2>&1 &
	lone_pid=$!
	disown "$lone_pid"
	echo "$lone_pid" >"$work/lone.pid"
	wait_for 30 "node lone Ready" is node/lone \
		'.status.conditions[?(@.type=="Ready")].status' True
	# Only this scenario's pods may go there; the shared set may later go to sim-1 as well.
	kubectl taint node lone e2e.stsd.io/lone=true:NoSchedule >/dev/null
	kubectl label node lone e2e.stsd.io/pool=doomed >/dev/null
	local tol='[{key: "e2e.stsd.io/lone", operator: "Exists", effect: "NoSchedule"}]'
	sts_json sh 1 | jq "$(claim shared) | .spec.template.spec.tolerations = $tol |
	    .spec.template.spec.nodeSelector = {\"e2e.stsd.io/pool\": \"doomed\"}" | apply_json
	sts_json lo 1 | jq "$(claim standard) | .spec.template.spec.tolerations = $tol |
	    .spec.template.spec.nodeSelector = {\"kubernetes.io/hostname\": \"lone\"}" | apply_json
	wait_for 30 "sh-0 Ready on lone" is pod/sh-0 \
		'.spec.nodeName}/{.status.conditions[?(@.type=="Ready")].status' "lone/True"
	wait_for 30 "lo-0 Ready on lone" is pod/lo-0 \
		'.spec.nodeName}/{.status.conditions[?(@.type=="Ready")].status' "lone/True"
	local sh_uid lo_uid t0
	sh_uid=$(field pod/sh-0 .metadata.uid)
	lo_uid=$(field pod/lo-0 .metadata.uid)
	kubectl label node sim-1 e2e.stsd.io/pool=doomed --overwrite >/dev/null

	kill -KILL "$lone_pid"
	t0=$(now_ms)
	wait_for $((grace_ms / 1000 + 15)) "node lone NotReady (Ready Unknown)" \
		is node/lone '.status.conditions[?(@.type=="Ready")].status' Unknown
	local took=$(($(now_ms) - t0))
	echo "  (lone NotReady ${took}ms after the kill; grace period ${grace_ms}ms)"
	# The leader counts from the last renewal it saw, up to a quarter lease before the kill.
	[ $took -ge $((grace_ms - lone_lease_s * 250 - 500)) ] ||
		fail "lone NotReady ${took}ms after the kill, before the grace period ${grace_ms}ms"
	is pod/sh-0 .metadata.uid "$sh_uid" >/dev/null ||
		fail "sh-0 was replaced before its node was fenced: $(timeline)"
	wait_for 10 "the unreachable taint on lone" is node/lone \
		'.spec.taints[?(@.key=="node.kubernetes.io/unreachable")].effect' "NoSchedule NoExecute"
	wait_for 10 "lo-0 marked not Ready" is pod/lo-0 \
		'.status.conditions[?(@.type=="Ready")].status' False
	replaced() {
		local s
		s=$(k get pod sh-0 -o json 2>&1 | jq -r '"\(.metadata.uid) \(.spec.nodeName)
		    \([.status.conditions[]? | select(.type == "Ready") | .status][0])"' 2>&1 |
			tr '\n' ' ') || true
		read -r u n r <<<"$s"
		[ -n "$u" ] && [ "$u" != "$sh_uid" ] && [ "$n" = sim-1 ] && [ "$r" = True ] && return 0
		echo "sh-0: uid node ready '$s' (old uid $sh_uid), expected a new pod Ready on sim-1"
		return 1
	}
	local fence=$((lone_lease_s * 1000 + fence_after_ms + fence_margin_ms))
	wait_for $((fence / 1000 + 20)) "sh-0 recreated on another node" replaced
	took=$(($(now_ms) - t0))
	echo "  (sh-0 Ready on sim-1 ${took}ms after the kill; fence time ${fence}ms)"
	[ $took -ge $((fence - lone_lease_s * 250 - 500)) ] ||
		fail "sh-0 replaced ${took}ms after the kill, before the fence time ${fence}ms"
	waiting() {
		is pod/lo-0 '.metadata.annotations.stsd\.io/waiting-for-node' "" >/dev/null &&
			{ echo "lo-0 has no stsd.io/waiting-for-node annotation"; return 1; }
		k get events --field-selector reason=WaitingForNode,involvedObject.name=lo-0 -o name |
			grep -q . || { echo "no WaitingForNode event for lo-0"; return 1; }
	}
	wait_for 20 "lo-0 waiting for its node" waiting
	is pod/lo-0 '.metadata.uid}/{.spec.nodeName' "$lo_uid/lone" >/dev/null ||
		fail "lo-0 left its node: $(is pod/lo-0 '.metadata.uid}/{.spec.nodeName' "$lo_uid/lone")"
	holds 1 "lo-0 staying on lone" is pod/lo-0 '.metadata.uid}/{.spec.nodeName' "$lo_uid/lone"
	# Never two pods of one name at once (from the watch: a new uid only after the old is gone).
	local dup
	dup=$(events | jq -s -r 'reduce .[] as $e ({live: {}, bad: []};
	    if $e.t == "DELETED" then .live |= del(.[$e.n]) else
	      (if (.live[$e.n] // $e.u) != $e.u then .bad += ["\($e.n): \(.live[$e.n]) and \($e.u)
	      on \($e.node)"] else . end) | .live[$e.n] = $e.u end) | .bad | join("; ")')
	[ -z "$dup" ] || fail "two pods of one name at once: $dup; $(timeline)"
}

# ---------------------------------------------------------------------------------------------
t_start=$SECONDS
"$stsctl" dev up --dir "$dir" --simulated-agents 3 --timeout 60 \
	--stsd-arg=--node-grace-period=$grace_ms --stsd-arg=--node-fence-after=$fence_after_ms \
	--stsd-arg=--node-fence-margin=$fence_margin_ms \
	>"$work/up.out" 2>&1 || fail "dev up --simulated-agents 3 failed: $(cat "$work/up.out")"
echo "cluster up in $((SECONDS - t_start))s"

passed=0 failed=0 failures=""
# scenario NAME FUNCTION: run it in a subshell, in namespace NAME, with its pod watch.
# $E2E_ONLY (names, space-separated) runs only those, for debugging.
scenario() {
	local t0=$SECONDS rc
	[ -z "${E2E_ONLY:-}" ] || [[ " $E2E_ONLY " == *" $1 "* ]] || return 0
	kubectl create namespace "$1" >/dev/null
	set +e
	(
		set -e
		ns=$1
		watch_pods
		"$2"
	)
	rc=$?
	set -e
	stop_watchers
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok: $1 ($((SECONDS - t0))s)"
	else
		failed=$((failed + 1))
		failures="$failures $1"
		echo "FAILED: $1 ($((SECONDS - t0))s); pod history: $(ns=$1 timeline | cut -c1-2000)"
		[ ! -s "$work/$1.watch.err" ] || echo "  (its pod watch: $(cat "$work/$1.watch.err"))"
	fi
}

scenario cidrs s_cidrs
scenario metrics s_metrics
scenario ordered s_ordered
scenario parallel s_parallel
scenario scale-down s_scale_down
scenario rolling s_rolling
scenario partition s_partition
scenario ondelete s_ondelete
scenario undo s_undo
scenario ordinals s_ordinals
scenario retention s_retention
scenario gc s_gc
scenario node-loss s_node_loss
scenario pause s_pause

# The identity checker over each replica's history, once they are stopped.
"$stsctl" dev down --dir "$dir" >/dev/null
lone_pid=$(cat "$work/lone.pid" 2>/dev/null || true)
stop_lone
idok=true
for d in $(jq -r '.replicas[].dataDir' "$dir/cluster.json"); do
	if ! out=$("$stsctl" inspect identities "$d" 2>&1); then
		idok=false
		echo "FAILED: identities of $d: $out"
	fi
done
if $idok; then
	passed=$((passed + 1))
	echo "ok: identities (stsctl inspect identities on every replica): $(tail -n 1 <<<"$out")"
else
	failed=$((failed + 1))
	failures="$failures identities"
fi

echo "controller.sh: $((SECONDS - t_start))s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] || fail "failed:$failures"
echo "controller.sh: PASS"
