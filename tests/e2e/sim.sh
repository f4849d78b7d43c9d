#!/bin/bash
# sim.sh — simulated nodes end to end: `stsctl dev up --simulated-agents 2` returns with nodes
# sim-0 and sim-1 Ready; their leases renew; a pod bound to sim-0 goes Running then Ready; the
# sim.stsd.io/ready and sim.stsd.io/phase annotations steer it; a graceful delete is confirmed by
# the agent, and so is the end of a force-deleted pod; a node marked Unknown is Ready again at its
# next lease renewal; a pod bound to a node nobody runs stays Pending; a node certificate cannot
# register another node (the agent really uses its own certificate); `dev down` stops the agent.
# Usage: sim.sh STSCTL STSAGENT
set -euo pipefail

stsctl=$1
stsagent=$2
name=sim.sh
source "$(dirname "$0")/lib.sh"

intruder_pid=
stop_intruder() {
	[ -n "$intruder_pid" ] && kill "$intruder_pid" 2>/dev/null && wait "$intruder_pid" 2>/dev/null
	intruder_pid=
	return 0
}
# set +e: under set -e the (exit $rc) that hands e2e_finish the status would end the trap itself.
trap 'rc=$?; set +e; stop_intruder; [ $rc -ne 0 ] && tail -n 30 "$dir/agent-sim.log" 2>/dev/null;
      (exit $rc); e2e_finish' EXIT

# dev up finds stsagent beside stsctl, else in $STSD_BIN (which must then hold stsd too).
if [ "$(dirname "$(realpath "$stsctl")")" != "$(dirname "$(realpath "$stsagent")")" ]; then
	mkdir -p "$work/bin"
	ln -s "$(dirname "$(realpath "$stsctl")")/stsd" "$work/bin/stsd"
	ln -s "$(realpath "$stsagent")" "$work/bin/stsagent"
	export STSD_BIN=$work/bin
fi

# wait_for SECONDS DESCRIPTION CMD...: poll CMD (every 0.1 s) until it succeeds.
wait_for() {
	local secs=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || fail "no $what after ${secs}s"
		sleep 0.1
	done
}

# field KIND/NAME JSONPATH [kubectl args...]: one field of an object.
field() {
	local obj=$1 path=$2
	shift 2
	kubectl get "$obj" "$@" -o "jsonpath={$path}"
}
# is OBJ JSONPATH WANT [kubectl args...]
is() {
	local obj=$1 path=$2 want=$3
	shift 3
	[ "$(field "$obj" "$path" "$@")" = "$want" ]
}
ready_path='.status.conditions[?(@.type=="Ready")].status'

# A pod of one container bound to NODE: pod NAME NODE
pod() {
	kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers: [{name: app, image: registry.example/app:1}]
EOF
}

"$stsctl" dev up --dir "$dir" --simulated-agents 2 --timeout 60 --stsd-arg=--event-ttl=3 \
	>"$work/up.out" ||
	fail "dev up --simulated-agents 2 failed: $(cat "$work/up.out")"
export KUBECONFIG=$dir/kubeconfig

# --- dev up returned with both nodes Ready, recorded as a simulated agent ---
for n in sim-0 sim-1; do
	is "node/$n" "$ready_path" True || fail "node $n is not Ready after dev up"
	is "node/$n" '.metadata.labels.kubernetes\.io/hostname' "$n" || fail "$n: hostname label"
	is "node/$n" '.status.allocatable.pods' 110 || fail "$n: allocatable pods"
	is "node/$n" '.status.addresses[?(@.type=="InternalIP")].address' 127.0.0.1 ||
		fail "$n: InternalIP"
done
expect_out "sim-1" kubectl get nodes
[ "$(jq -r '.agents[0].simulated' "$dir/cluster.json")" = true ] &&
	[ "$(jq -r '.agents[0].nodes' "$dir/cluster.json")" = 2 ] ||
	fail "cluster.json agents: $(jq -c .agents "$dir/cluster.json")"
agent_pid=$(jq -r '.agents[0].pid' "$dir/cluster.json")
kill -0 "$agent_pid" || fail "the agent (pid $agent_pid) is not running"
echo "ok: dev up --simulated-agents 2: sim-0 and sim-1 Ready"

# --- a pod bound to a node that does not exist: nobody drives it (checked at the end) ---
pod ghost nowhere-node

# --- leases exist and renew (every lease duration / 4 = 10 s) ---
is lease/sim-0 .spec.holderIdentity sim-0 -n kube-node-lease || fail "lease sim-0: holder"
is lease/sim-1 .spec.leaseDurationSeconds 40 -n kube-node-lease || fail "lease sim-1: duration"
renew0=$(field lease/sim-0 .spec.renewTime -n kube-node-lease)
[[ $renew0 =~ ^[0-9-]+T[0-9:]+\.[0-9]{6}Z$ ]] || fail "renewTime '$renew0' is not RFC 3339 micro"
renewed() { ! is lease/sim-0 .spec.renewTime "$renew0" -n kube-node-lease; }
wait_for 30 "renewal of lease sim-0 (renewTime still $renew0)" renewed
echo "ok: leases renew"

# --- a pod bound to sim-0: Running, then Ready ---
pod p0 sim-0
wait_for 20 "Running phase of p0" is pod/p0 .status.phase Running
wait_for 20 "Ready p0" is pod/p0 "$ready_path" True
ip=$(field pod/p0 .status.podIP)
[[ $ip =~ ^10\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "p0: podIP '$ip'"
is pod/p0 '.status.containerStatuses[0].ready' true || fail "p0: container not ready"
is pod/p0 '.status.containerStatuses[0].started' true || fail "p0: container not started"
echo "ok: p0 Running then Ready (podIP $ip)"

# --- annotations steer it ---
kubectl annotate pod p0 sim.stsd.io/ready=false >/dev/null
wait_for 20 "Ready False after sim.stsd.io/ready=false" is pod/p0 "$ready_path" False
is pod/p0 .status.phase Running || fail "p0 left Running when made unready"
kubectl annotate pod p0 sim.stsd.io/ready=true --overwrite >/dev/null
wait_for 20 "Ready True again after sim.stsd.io/ready=true" is pod/p0 "$ready_path" True
kubectl annotate pod p0 sim.stsd.io/phase=Failed >/dev/null
wait_for 20 "phase Failed after sim.stsd.io/phase=Failed" is pod/p0 .status.phase Failed
echo "ok: annotations: unready, ready again, Failed"

# --- a graceful delete, confirmed by the agent of sim-1 ---
pod p1 sim-1
wait_for 20 "Ready p1" is pod/p1 "$ready_path" True
kubectl delete pod p1 --wait=false >/dev/null
gone() { ! kubectl get pod p1 >/dev/null 2>&1; }
wait_for 20 "confirmation of p1's deletion" gone
grep -q "event=pod-terminated node=sim-1 pod=default/p1 " "$dir/agent-sim.log" ||
	fail "the agent did not log the confirmation of p1"
echo "ok: graceful delete confirmed"

# --- a force delete: the agent confirms the end of the pod that went without its confirmation
# (uid precondition; with no ordinal claim waiting, the API refuses and the agent is done) ---
pod p2 sim-1
wait_for 20 "Ready p2" is pod/p2 "$ready_path" True
uid2=$(field pod/p2 .metadata.uid)
kubectl delete pod p2 --force --grace-period=0 >/dev/null 2>&1
gone_confirmed() {
	grep -q "event=pod-gone-confirmed node=sim-1 pod=default/p2 uid=$uid2 released=false" \
		"$dir/agent-sim.log"
}
wait_for 20 "the agent's confirmation of force-deleted p2" gone_confirmed
echo "ok: a force-deleted pod's end confirmed by its agent"

# --- a node marked Unknown (the node lifecycle, after a silence) is Ready again by its agent at
# its next lease renewal (every 10 s) ---
kubectl patch node sim-0 --subresource=status --type=strategic -p \
	'{"status":{"conditions":[{"type":"Ready","status":"Unknown","reason":"NodeStatusUnknown"}]}}' \
	>/dev/null
is node/sim-0 "$ready_path" Unknown || fail "sim-0: Ready is not Unknown after the patch"
wait_for 20 "Ready True again on sim-0" is node/sim-0 "$ready_path" True
echo "ok: a node marked Unknown is posted Ready again"

# --- the pod of the missing node stayed Pending, untouched ---
is pod/ghost .status.phase Pending || fail "ghost: phase $(field pod/ghost .status.phase)"
[ -z "$(field pod/ghost .status.podIP)" ] || fail "ghost got a podIP"
echo "ok: a pod bound to a node nobody runs stays Pending"

# --- the agent uses its node certificate: sim-0's cannot register another node ---
mkdir -p "$work/certs"
cp "$dir/pki/nodes/sim-0.crt" "$work/certs/intruder.crt"
cp "$dir/pki/nodes/sim-0.key" "$work/certs/intruder.key"
"$stsagent" --simulate --name intruder --kubeconfig "$dir/kubeconfig" --cert-dir "$work/certs" \
	>"$work/intruder.log" 2>&1 &
intruder_pid=$!
refused() { grep -q "event=node-register-error node=intruder" "$work/intruder.log"; }
wait_for 20 "refusal of node intruder" refused
grep "node-register-error" "$work/intruder.log" | grep -qi "cannot create" ||
	fail "intruder: $(cat "$work/intruder.log")"
stop_intruder
expect_err "NotFound" kubectl get node intruder
echo "ok: a node certificate registers only its own node"

# --- Events expire (--event-ttl=3 here; kube-apiserver's default is an hour) ---
kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Event
metadata: {name: sim-0.ttl, namespace: default}
involvedObject: {kind: Node, name: sim-0}
reason: Test
message: expires
type: Normal
EOF
created=$SECONDS
kubectl get event sim-0.ttl >/dev/null || fail "the event was not created"
event_gone() { ! kubectl get event sim-0.ttl >/dev/null 2>&1; }
wait_for 20 "expiry of event sim-0.ttl" event_gone
[ $((SECONDS - created)) -ge 2 ] || fail "the event went before its TTL"
echo "ok: Events expire after --event-ttl"

# --- dev down stops the agent ---
"$stsctl" dev down --dir "$dir" >/dev/null
agent_gone() { ! ps -o stat= -p "$agent_pid" | grep -qv Z; }
wait_for 20 "end of the agent (pid $agent_pid)" agent_gone
grep -q "event=stopped" "$dir/agent-sim.log" || fail "the agent did not stop cleanly"
echo "ok: dev down stopped the agent"
echo "sim.sh: PASS"
