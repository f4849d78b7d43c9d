#!/bin/bash
# stsd_cli.sh — stsd's command line and config file: --help and --version, clear errors (exit 2)
# for bad flags, a YAML config file whose values flags override; the security of its listener
# (no plain HTTP without --insecure-http, and that only on loopback with credentials still needed;
# TLS certificate and key checked at start); a single-replica cluster over TLS started from the
# config file that answers, reloads its certificate on SIGHUP (new handshakes see it, a broken
# one is refused and the old one kept, open watches go on) and stops cleanly on SIGTERM.
# Usage: stsd_cli.sh STSD STSCTL
set -euo pipefail

stsd=$1
stsctl=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/stsd-cli.XXXXXX")
pid=""
watcher=""
log=$work/log
finish() {
	rc=$?
	[ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	[ $rc -ne 0 ] && tail -n 20 "$log" 2>/dev/null
	rm -rf "$work"
	exit $rc
}
trap finish EXIT
fail() {
	echo "stsd_cli.sh: FAIL: $*"
	exit 1
}

# expect_exit CODE WANT ARGS...: stsd ARGS exits CODE and prints WANT.
expect_exit() {
	local want_rc=$1 want=$2 out rc=0
	shift 2
	out=$(timeout 30 "$stsd" "$@" 2>&1) || rc=$?
	[ "$rc" = "$want_rc" ] || fail "stsd $*: exit $rc, expected $want_rc: $out"
	grep -qF -- "$want" <<<"$out" || fail "stsd $*: printed '$out', expected '$want'"
}

expect_exit 0 "--election-timeout MS" --help
expect_exit 0 "stsd 0." --version
expect_exit 2 "are required" --raft-address 127.0.0.1:1
expect_exit 2 "unknown option '--bogus'" --bogus 1
expect_exit 2 "--id needs a value" --id
expect_exit 2 "not a number from 50" --id 1 --raft-address a:1 --data-dir d --election-timeout 5
expect_exit 2 "must list this replica" --id 4 --raft-address a:1 --data-dir d --bootstrap 1=a:1
expect_exit 2 "not ID=HOST:PORT" --id 1 --raft-address a:1 --data-dir d --bootstrap 1:a
expect_exit 2 "not both" --id 1 --raft-address a:1 --data-dir d --bootstrap 1=a:1 --join http://x
expect_exit 2 "at most half" --id 1 --raft-address a:1 --data-dir d --heartbeat 200
expect_exit 2 "use debug, info" --id 1 --raft-address a:1 --data-dir d --log-level loud
echo "nonsense: [" >"$work/bad.yaml"
expect_exit 2 "not a readable YAML mapping" --config "$work/bad.yaml"
echo "speed: 3" >"$work/unknown.yaml"
expect_exit 2 "unknown option 'speed'" --config "$work/unknown.yaml"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- Credentials: a CA, this replica's certificate, an admin, a token file ----
pki=$work/pki
"$stsctl" pki init --dir "$pki" >/dev/null
"$stsctl" pki issue --dir "$pki" --out "$pki/replica" --server --client --cn stsd-replica-7 \
	--org system:stsd-replicas --san 127.0.0.1,localhost >/dev/null
"$stsctl" pki issue --dir "$pki" --out "$pki/other" --server --client --cn other \
	--san 127.0.0.1 >/dev/null
"$stsctl" pki issue --dir "$pki" --out "$pki/admin" --client --cn admin --org system:masters >/dev/null
token=e2e-cli-token-0123456789
echo "$token,admin,admin,\"system:masters\"" >"$pki/tokens.csv"
admin=(--cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key")

# ---- An open listener is refused at start (exit 1, saying why) ----
n=0
# refuse WANT ARGS...: a single replica with ARGS refuses to start and says WANT.
refuse() {
	local want=$1 out rc=0 r
	shift
	n=$((n + 1))
	r=127.0.0.1:$(port)
	out=$(timeout 30 "$stsd" --id 1 --raft-address "$r" --data-dir "$work/refused-$n" \
		--bootstrap "1=$r" --election-timeout 300 "$@" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "stsd $*: exit $rc, expected 1 (a refusal): $out"
	grep -qF -- "$want" <<<"$out" || fail "stsd $*: printed '$out', expected '$want'"
}
refuse "refusing to serve without TLS" --api-address "127.0.0.1:$(port)"
refuse "--insecure-http serves only a loopback address" --insecure-http --api-address "0.0.0.0:$(port)"
refuse "--insecure-http serves only a loopback address" --insecure-http --api-address "10.1.2.3:$(port)"
refuse "--tls-cert-file and --tls-private-key-file go together" --api-address "127.0.0.1:$(port)" \
	--tls-cert-file "$pki/replica.crt"
refuse "--tls-cert-file and --tls-private-key-file go together" --api-address "127.0.0.1:$(port)" \
	--tls-private-key-file "$pki/replica.key"
refuse "choose one" --api-address "127.0.0.1:$(port)" --insecure-http \
	--tls-cert-file "$pki/replica.crt" --tls-private-key-file "$pki/replica.key"
refuse "TLS needs --client-ca-file too" --api-address "127.0.0.1:$(port)" \
	--tls-cert-file "$pki/replica.crt" --tls-private-key-file "$pki/replica.key"
refuse "the key in $pki/other.key does not belong to the certificate in $pki/replica.crt" \
	--api-address "127.0.0.1:$(port)" --tls-cert-file "$pki/replica.crt" \
	--tls-private-key-file "$pki/other.key" --client-ca-file "$pki/ca.crt"
refuse "$work/missing.crt" --api-address "127.0.0.1:$(port)" --client-ca-file "$pki/ca.crt" \
	--tls-cert-file "$work/missing.crt" --tls-private-key-file "$pki/replica.key"
echo "not a certificate" >"$work/garbage.crt"
refuse "$work/garbage.crt" --api-address "127.0.0.1:$(port)" --client-ca-file "$pki/ca.crt" \
	--tls-cert-file "$work/garbage.crt" --tls-private-key-file "$pki/replica.key"

# await_code WANT CURL-ARGS...: poll (20 s) until curl answers the HTTP status WANT.
await_code() {
	local want=$1 end=$((SECONDS + 20)) got
	shift
	while :; do
		got=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 5 "$@") || got=000
		[ "$got" = "$want" ] && return 0
		[ $SECONDS -lt $end ] || fail "curl $*: $got, expected $want ($(cat "$work/body" 2>/dev/null))"
		sleep 0.1
	done
}

# stop_replica: SIGTERM, and a clean exit within 10 s.
stop_replica() {
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid" || fail "stsd exited $? on SIGTERM"
	pid=""
}

# ---- --insecure-http on loopback: plain HTTP, anonymous health, a bearer token for the rest ----
raft=127.0.0.1:$(port)
api=127.0.0.1:$(port)
log=$work/insecure.log
"$stsd" --id 5 --raft-address "$raft" --api-address "$api" --data-dir "$work/insecure" \
	--bootstrap "5=$raft" --election-timeout 300 --insecure-http --token-auth-file "$pki/tokens.csv" \
	>"$log" 2>&1 &
pid=$!
await_code 200 "http://$api/healthz"
await_code 200 "http://$api/api/v1/namespaces" -H "Authorization: Bearer $token"
await_code 401 "http://$api/api/v1/namespaces"
[ "$(jq -r .reason "$work/body")" = Unauthorized ] || fail "insecure 401 body: $(cat "$work/body")"
await_code 401 "http://$api/api/v1/namespaces" -H "Authorization: Bearer wrong-$token"
await_code 401 "http://$api/metrics"
# TLS is not spoken there.
if curl -s --max-time 5 -k "https://$api/healthz" >/dev/null 2>&1; then
	fail "an --insecure-http listener completed a TLS handshake"
fi
stop_replica

# ---- A single replica over TLS from the config file ----
raft=127.0.0.1:$(port)
api=127.0.0.1:$(port)
log=$work/log
cat >"$work/stsd.yaml" <<YAML
id: 7
raft-address: $raft
api-address: 127.0.0.1:1
data-dir: $work/data
bootstrap: ["7=$raft"]
election-timeout: 300
tls-cert-file: $pki/replica.crt
tls-private-key-file: $pki/replica.key
client-ca-file: $pki/ca.crt
token-auth-file: $pki/tokens.csv
YAML
# The flag overrides the file's api-address.
"$stsd" --config "$work/stsd.yaml" --api-address "$api" >"$log" 2>&1 &
pid=$!
await_code 200 --cacert "$pki/ca.crt" "https://$api/readyz"
[ "$(curl -s "${admin[@]}" "https://$api/debug/raft" | jq -r '.id,.role' | tr '\n' ' ')" = "7 leader " ] ||
	fail "debug/raft: $(curl -s "${admin[@]}" "https://$api/debug/raft")"
# Plain HTTP to the TLS port is no request.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$api/api/v1/namespaces") || true
[ "$code" != 200 ] || fail "plain HTTP to the TLS port answered 200"
cms=api/v1/namespaces/default/configmaps
code=$(curl -s -o /dev/null -w '%{http_code}' "${admin[@]}" -X POST -H 'Content-Type: application/json' \
	-d '{"metadata":{"name":"one"}}' "https://$api/$cms")
[ "$code" = 201 ] || fail "create on a single replica: $code"
await_code 401 --cacert "$pki/ca.crt" "https://$api/$cms"
await_code 200 --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" "https://$api/$cms"

# ---- SIGHUP: a new certificate for new handshakes, open connections go on ----
# serial: the serial of the certificate the replica presents to a new handshake ("" if none).
serial() {
	openssl s_client -connect "$api" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null || true
}
# await_serial WANT: poll (20 s) until new handshakes present WANT.
await_serial() {
	local end=$((SECONDS + 20)) got
	while :; do
		got=$(serial)
		[ "$got" = "$1" ] && return 0
		[ $SECONDS -lt $end ] || fail "handshakes present '$got', expected '$1'"
		sleep 0.1
	done
}
old=$(openssl x509 -noout -serial -in "$pki/replica.crt")
await_serial "$old"
curl -sN "${admin[@]}" --max-time 60 "https://$api/$cms?watch=true&resourceVersion=0" \
	>"$work/watch.out" 2>&1 &
watcher=$!
"$stsctl" pki issue --dir "$pki" --out "$pki/replica" --server --client --cn stsd-replica-7 \
	--org system:stsd-replicas --san 127.0.0.1,localhost --force >/dev/null
new=$(openssl x509 -noout -serial -in "$pki/replica.crt")
[ "$new" != "$old" ] || fail "the re-issued certificate has the old serial $old"
kill -HUP "$pid"
await_serial "$new"
grep -q "event=reloaded" "$log" || fail "no event=reloaded in the log"
kill -0 "$pid" || fail "stsd died on SIGHUP"
code=$(curl -s -o /dev/null -w '%{http_code}' "${admin[@]}" -X POST -H 'Content-Type: application/json' \
	-d '{"metadata":{"name":"after-reload"}}' "https://$api/$cms")
[ "$code" = 201 ] || fail "create after the reload: $code"
# The watch opened before the reload sees the write made after it.
end=$((SECONDS + 20))
until grep -q '"name":"after-reload"' "$work/watch.out"; do
	[ $SECONDS -lt $end ] || fail "the watch opened before SIGHUP missed a later write: $(cat "$work/watch.out")"
	sleep 0.1
done
kill "$watcher" 2>/dev/null || true
wait "$watcher" 2>/dev/null || true
watcher=""

# A broken certificate on SIGHUP is refused: the loaded one stays.
echo "not a certificate" >"$pki/replica.crt"
kill -HUP "$pid"
end=$((SECONDS + 20))
until grep -q "event=reload_failed" "$log"; do
	[ $SECONDS -lt $end ] || fail "no event=reload_failed after SIGHUP with a broken certificate"
	sleep 0.1
done
grep "event=reload_failed" "$log" | grep -qF "$pki/replica.crt" ||
	fail "reload_failed does not name the file: $(grep event=reload_failed "$log")"
[ "$(serial)" = "$new" ] || fail "after a failed reload handshakes present '$(serial)', expected $new"
await_code 200 "${admin[@]}" "https://$api/$cms/after-reload"

stop_replica
grep -q "event=stopped id=7" "$log" || fail "no clean stop in the log"
for l in "$work"/insecure.log "$log"; do
	grep -q "ERROR: AddressSanitizer\|runtime error" "$l" && fail "sanitizer report in $l"
done
echo "stsd_cli.sh: ok"
