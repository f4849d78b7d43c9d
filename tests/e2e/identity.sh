#!/bin/bash
# identity.sh — DESIGN.md's promise under chaos: at most one holder per StatefulSet identity. On a
# dev cluster with 4 simulated nodes, a set of 3 (OrderedReady) and a set of 20 (Parallel) scale
# (big: 10 <-> 20) and roll (template annotations) continuously, pods are force-deleted now and
# then, and the leader stsd is SIGKILLed 10 times (each time restarted by `stsctl dev restart`);
# the sets must then converge, and `stsctl inspect identities` must find no violation in any
# replica's data directory.
# Negative part (builds with test hooks): a cluster whose stsd run with STSD_FAULT_SKIP_CLAIM_CHECK=1
# (dev up passes its environment on). The planner itself never proposes an acquire while a claim
# is held, so the hook alone makes no double holder: a force-deleted pod whose node cannot confirm
# (its agent SIGSTOPped) is not replaced. identity_dup then applies the acquire a faulty proposer
# would make, straight to a stopped replica's store: refused without the hook, applied with it, and
# the real `stsctl inspect identities` must exit 1 naming the double acquisition.
# Usage: identity.sh STSCTL [TEST_HOOKS] [IDENTITY_DUP]   (KILLS=N overrides the 10 leader kills)
set -euo pipefail

stsctl=$1
hooks=${2:-OFF}
dup=${3:-}
kills=${KILLS:-10}
name=identity.sh
source "$(dirname "$0")/lib.sh"

workload_pid=
stop_workload() {
	[ -n "$workload_pid" ] || return 0
	touch "$work/stop" # it ends after its current round
	wait "$workload_pid" 2>/dev/null || true
	workload_pid=
}
# set +e: under set -e the (exit $rc) that hands e2e_finish the status would end the trap itself.
trap 'rc=$?; set +e; stop_workload; [ $rc -ne 0 ] && tail -n 20 "$dir/agent-sim.log" "$work/workload.log" 2>/dev/null;
      (exit $rc); e2e_finish' EXIT

t0=$SECONDS
say() { echo "[$((SECONDS - t0))s] $*"; }

# kubeconfig names replica 1 only: each call tries the replicas in turn (starting at a random one),
# so that a dead replica costs one connection refusal.
k() {
	local n=${#urls[@]} s=$((RANDOM % ${#urls[@]})) i
	for ((i = 0; i < n; i++)); do
		kubectl --server "https://${urls[$(((s + i) % n))]}" --request-timeout=5s "$@" \
			2>>"$work/kubectl.err" && return 0
	done
	return 1
}

# raft FIELD ID: a field of replica ID's /debug/raft ("" when it does not answer).
raft() {
	acurl -s --max-time 2 "https://${urls[$(($2 - 1))]}/debug/raft" 2>/dev/null | jq -r ".$1" 2>/dev/null || true
}

# The id of the replica every answering replica names as leader, once it says so itself; "" if none.
leader() {
	local i l
	for i in 1 2 3; do
		l=$(raft leaderId "$i")
		if [[ $l =~ ^[1-3]$ ]] && [ "$(raft role "$l")" = leader ]; then
			echo "$l"
			return 0
		fi
	done
}

# await SECONDS WHAT CMD...: poll CMD until it succeeds.
await() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "no $what after ${secs}s"
		sleep 0.2
	done
}

sets() {
	local s r policy
	for s in "$@"; do
		read -r s r policy <<<"$s"
		cat <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $s}
spec:
  replicas: $r
  serviceName: $s
  podManagementPolicy: $policy
  selector: {matchLabels: {app: $s}}
  template:
    metadata: {labels: {app: $s}}
    spec: {containers: [{name: app, image: registry.example/app:1}]}
---
EOF
	done
}

# converged SET: status says every replica is Ready and at the update revision.
converged() {
	local j
	j=$(k get sts "$1" -o json) || return 1
	jq -e '.status.observedGeneration == .metadata.generation and
	       .status.readyReplicas == .spec.replicas and .status.replicas == .spec.replicas and
	       .status.updatedReplicas == .spec.replicas and
	       .status.currentRevision == .status.updateRevision' <<<"$j" >/dev/null
}

# The workload, in the background until $work/stop exists: roll big every round and small every
# other round, scale big 10 <-> 20 every third round, force-delete a random pod every other round.
workload() {
	local i=0 pods victim
	while [ ! -e "$work/stop" ]; do
		i=$((i + 1))
		if ((i % 3 == 0)); then
			k scale sts big --replicas=$(((i / 3) % 2 ? 10 : 20)) >/dev/null || echo "round $i: scale failed"
		fi
		k patch sts big --type merge -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"roll\":\"$i\"}}}}}" \
			>/dev/null || echo "round $i: roll big failed"
		if ((i % 2 == 0)); then
			k patch sts small --type merge -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"roll\":\"$i\"}}}}}" \
				>/dev/null || echo "round $i: roll small failed"
			pods=$(k get pods -o name) || pods=
			victim=$(shuf -n1 <<<"$pods" || true)
			if [ -n "$victim" ]; then
				k delete "$victim" --grace-period=0 --force --wait=false >/dev/null 2>&1 &&
					echo "round $i: force-deleted $victim" || echo "round $i: force delete $victim failed"
			fi
		fi
		sleep 0.5
	done
	echo "workload: $i rounds"
}

# check_identities DATA_DIR: the real checker finds nothing; prints its summary.
check_identities() {
	local out
	out=$("$stsctl" inspect identities "$1" 2>&1) || fail "inspect identities $1 exited $?: $out"
	grep -q 'violations=0$' <<<"$out" || fail "inspect identities $1: $out"
	echo "$out"
}

# ======================= Chaos: leader kills, force deletes, scale and roll =======================
"$stsctl" dev up --dir "$dir" --simulated-agents 4 --timeout 90 >"$work/up.out" ||
	fail "dev up failed: $(cat "$work/up.out")"
export KUBECONFIG=$dir/kubeconfig
mapfile -t urls < <(jq -r '.replicas[].apiAddress' "$dir/cluster.json")
say "cluster up: ${urls[*]}, 4 simulated nodes"

sets "small 3 OrderedReady" "big 20 Parallel" | k apply -f - >/dev/null || fail "apply sets"
await 90 "convergence of small" converged small
await 90 "convergence of big" converged big
say "small (3) and big (20) Ready"

workload >"$work/workload.log" 2>&1 &
workload_pid=$!

for ((n = 1; n <= kills; n++)); do
	l=
	end=$((SECONDS + 30))
	until l=$(leader) && [ -n "$l" ]; do
		[ $SECONDS -lt $end ] || fail "kill $n: no leader for 30 s"
		sleep 0.2
	done
	pid=$(jq -r ".replicas[$((l - 1))].pid" "$dir/cluster.json")
	kill -0 "$pid" || fail "kill $n: leader $l (pid $pid) is not running"
	kill -KILL "$pid"
	killed_ms=$(date +%s%3N)
	# a new leader among the two others
	end=$((SECONDS + 30))
	until nl=$(leader) && [ -n "$nl" ] && [ "$nl" != "$l" ]; do
		[ $SECONDS -lt $end ] || fail "kill $n: no new leader 30 s after killing replica $l"
		sleep 0.1
	done
	elected_ms=$(($(date +%s%3N) - killed_ms))
	# dev restart refuses while the killed pid still runs (until reaped)
	await 10 "end of replica $l (pid $pid)" bash -c "! ps -o stat= -p $pid | grep -qv Z"
	"$stsctl" dev restart --dir "$dir" --id "$l" --timeout 60 >"$work/restart.out" 2>&1 ||
		fail "kill $n: dev restart --id $l: $(cat "$work/restart.out")"
	say "kill $n/$kills: leader $l SIGKILLed, new leader $nl seen after ${elected_ms} ms, $l restarted;" \
		"$(grep -c force-deleted "$work/workload.log" || true) force deletes so far"
	sleep 3
done
stop_workload
{ grep -v 'force-deleted' "$work/workload.log" || true; } | tail -n 5
say "workload stopped: $(grep -c force-deleted "$work/workload.log" || true) force deletes"

# Liveness: after the chaos both sets converge (to whatever big was last scaled to).
await 120 "convergence of small after the chaos" converged small
await 120 "convergence of big after the chaos" converged big
say "both sets converged: big at $(k get sts big -o jsonpath='{.spec.replicas}') replicas"

"$stsctl" dev down --dir "$dir" >/dev/null
for d in $(jq -r '.replicas[].dataDir' "$dir/cluster.json"); do
	summary=$(check_identities "$d")
	holders=$(sed -n 's/.*holders=\([0-9]*\).*/\1/p' <<<"$summary")
	# 23 pods to begin with, and every round replaces some (10 kills: 200-250 seen)
	[ "${holders:-0}" -ge $((23 + 5 * kills)) ] ||
		fail "$d: only ${holders:-0} claim acquisitions: the workload did little"
	say "inspect identities $d: $summary"
done
say "ok: no identity had two holders through $kills leader kills"

# ============================ Negative: a double holder is caught ============================
if [ "$hooks" != ON ] || [ -z "$dup" ]; then
	say "negative part skipped (needs a build with STSD_TEST_HOOKS and identity_dup)"
	echo "$name: PASS"
	exit 0
fi
rm -rf "$dir"
STSD_FAULT_SKIP_CLAIM_CHECK=1 "$stsctl" dev up --dir "$dir" --simulated-agents 1 --timeout 90 \
	>"$work/up.out" || fail "dev up (fault) failed: $(cat "$work/up.out")"
mapfile -t urls < <(jq -r '.replicas[].apiAddress' "$dir/cluster.json")
for pid in $(jq -r '.replicas[].pid' "$dir/cluster.json"); do
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx STSD_FAULT_SKIP_CLAIM_CHECK=1 ||
		fail "stsd pid $pid did not inherit STSD_FAULT_SKIP_CLAIM_CHECK from dev up"
done
say "fault cluster up; every stsd has STSD_FAULT_SKIP_CLAIM_CHECK=1"
sets "neg 2 Parallel" | k apply -f - >/dev/null || fail "apply neg"
await 60 "convergence of neg" converged neg
uid0=$(k get pod neg-0 -o jsonpath='{.metadata.uid}')
agent=$(jq -r '.agents[0].pid' "$dir/cluster.json")
kill -STOP "$agent"
k delete pod neg-0 --grace-period=0 --force --wait=false >/dev/null 2>&1 || fail "force delete neg-0"
# The claim stays "releasing" (its node cannot confirm): the controller must wait, hook or not.
await 20 "FailedCreate event for neg-0 (claim still held)" \
	bash -c "kubectl --server https://${urls[0]} get events -o json | jq -e '.items[] | select(.reason == \"FailedCreate\" and (.message | contains(\"neg-0\")))'"
sleep 2
if k get pod neg-0 -o jsonpath='{.metadata.uid}' >"$work/neg0" 2>/dev/null; then
	fail "the controller recreated neg-0 (uid $(cat "$work/neg0")) while uid $uid0 still held its claim"
fi
say "ok: with the hook, neg-0 is not recreated while its claim is releasing (the planner waits)"
kill -KILL "$agent" # it must not confirm: the claim stays releasing in the stopped stores
"$stsctl" dev down --dir "$dir" >/dev/null
data1=$(jq -r '.replicas[0].dataDir' "$dir/cluster.json")
check_identities "$data1" >/dev/null
rc=0
env -u STSD_FAULT_SKIP_CLAIM_CHECK "$dup" "$data1" default neg 0 >"$work/dup.out" 2>&1 || rc=$?
[ $rc = 3 ] || fail "without the hook the store did not refuse a second holder (rc $rc): $(cat "$work/dup.out")"
rc=0
STSD_FAULT_SKIP_CLAIM_CHECK=1 "$dup" "$data1" default neg 0 >"$work/dup.out" 2>&1 || rc=$?
[ $rc = 0 ] || fail "with the hook the acquire was not applied (rc $rc): $(cat "$work/dup.out")"
say "$(tail -n1 "$work/dup.out")"
rc=0
out=$("$stsctl" inspect identities "$data1" 2>&1) || rc=$?
[ $rc = 1 ] || fail "inspect identities exited $rc on a double holder: $out"
grep -q "identity=default/neg/0 kind=double-acquire" <<<"$out" ||
	fail "inspect identities did not name default/neg/0 double-acquire: $out"
say "ok: inspect identities caught it: $(grep -m1 violation <<<"$out")"
for d in $(jq -r '.replicas[1:][].dataDir' "$dir/cluster.json"); do
	check_identities "$d" >/dev/null
done
echo "$name: PASS"
