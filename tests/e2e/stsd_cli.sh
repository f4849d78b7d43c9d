#!/bin/bash
# stsd_cli.sh — stsd's command line and config file: --help and --version, clear errors (exit 2)
# for bad flags, a YAML config file whose values flags override, and a single-replica cluster
# started from it that answers and stops cleanly on SIGTERM.
# Usage: stsd_cli.sh STSD
set -euo pipefail

stsd=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/stsd-cli.XXXXXX")
pid=""
finish() {
	rc=$?
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	[ $rc -ne 0 ] && tail -n 20 "$work/log" 2>/dev/null
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
	out=$("$stsd" "$@" 2>&1) || rc=$?
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
raft=127.0.0.1:$(port)
api=127.0.0.1:$(port)
cat >"$work/stsd.yaml" <<YAML
id: 7
raft-address: $raft
api-address: 127.0.0.1:1
data-dir: $work/data
bootstrap: ["7=$raft"]
election-timeout: 300
YAML
# The flag overrides the file's api-address.
"$stsd" --config "$work/stsd.yaml" --api-address "$api" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -sf "http://$api/readyz" >/dev/null && break
	sleep 0.1
done
curl -sf "http://$api/readyz" >/dev/null || fail "single replica from the config file never got ready"
[ "$(curl -s "http://$api/debug/raft" | jq -r '.id,.role' | tr '\n' ' ')" = "7 leader " ] ||
	fail "debug/raft: $(curl -s "http://$api/debug/raft")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-d '{"metadata":{"name":"one"}}' "http://$api/api/v1/namespaces/default/configmaps")
[ "$code" = 201 ] || fail "create on a single replica: $code"
kill -TERM "$pid"
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
wait "$pid" || fail "stsd exited $? on SIGTERM"
pid=""
grep -q "event=stopped id=7" "$work/log" || fail "no clean stop in the log"
grep -q "ERROR: AddressSanitizer\|runtime error" "$work/log" && fail "sanitizer report in the log"
echo "stsd_cli.sh: ok"
