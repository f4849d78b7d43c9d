# lib.sh — what the e2e scripts share: a work directory with a dev cluster in it that is always
# stopped and removed, failure reporting with the replicas' logs, and output expectations.
# Source it after setting `name` (for messages) and `stsctl` (the binary): it defines $work, $dir.
# The cluster serves only TLS and wants credentials: `stsctl dev up` leaves a CA, an admin client
# certificate (system:masters) and an admin token in $dir/pki, and a kubeconfig embedding them.

work=$(mktemp -d "${TMPDIR:-/tmp}/stsd-$name.XXXXXX")
dir=$work/cluster

e2e_finish() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "$name: FAILED (rc=$rc); replica logs:"
		tail -n 30 "$dir"/replica-*.log 2>/dev/null || true
	fi
	[ -f "$dir/cluster.json" ] && "$stsctl" dev down --dir "$dir" >/dev/null 2>&1
	rm -rf "$work"
	exit $rc
}
trap e2e_finish EXIT

fail() {
	echo "$name: FAIL: $*"
	exit 1
}

# expect_out WANT CMD...: CMD succeeds and its output contains WANT.
expect_out() {
	local want=$1 out
	shift
	out=$("$@" 2>&1) || fail "'$*' exited non-zero: $out"
	grep -qF -- "$want" <<<"$out" || fail "'$*' printed '$out', expected '$want'"
}

# expect_err WANT CMD...: CMD fails and its output contains WANT.
expect_err() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "'$*' succeeded: $out"
	fi
	grep -qF -- "$want" <<<"$out" || fail "'$*' printed '$out', expected '$want'"
}

# A three-replica cluster in $dir.
# cluster_up [DEV-UP-ARGS...]: e.g. --stsd-arg=--no-controller for a test of the API alone.
cluster_up() {
	"$stsctl" dev up --dir "$dir" --timeout 60 "$@" >/dev/null
	[ -f "$dir/pki/ca.crt" ] && [ -f "$dir/pki/admin.crt" ] && [ -f "$dir/kubeconfig" ] ||
		fail "stsctl dev up made no $dir/pki/ca.crt, admin.crt or kubeconfig"
	[ "$(jq -r .scheme "$dir/cluster.json")" = https ] || fail "cluster.json: scheme is not https"
}

# curl trusting the cluster CA, as the admin (client certificate): acurl ARGS... https://ADDR/...
# Background uses (curl ... &) take "${admin_tls[@]}" directly, so that $! is curl's own pid.
admin_tls=(--cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key")
acurl() {
	curl "${admin_tls[@]}" "$@"
}

