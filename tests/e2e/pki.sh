#!/bin/bash
# pki.sh — `stsctl pki init|issue` as a user runs it: the files it writes, read back by GnuTLS's
# certtool and OpenSSL (subject, SANs, key usages), verified against the CA with `openssl verify`,
# and its refusals (bad flags, a serving certificate without SANs, overwriting without --force).
# Usage: pki.sh STSCTL
set -euo pipefail

stsctl=$(realpath "$1") # absolute: the script changes directory
name=pki.sh
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null && command -v certtool >/dev/null || {
	echo "$name: openssl or certtool (gnutls-bin) missing: skipped"
	exit 77
}
ca=$work/ca

# expect_exit CODE WANT ARGS...: stsctl ARGS exits CODE and prints WANT.
expect_exit() {
	local want_rc=$1 want=$2 out rc=0
	shift 2
	out=$("$stsctl" "$@" 2>&1) || rc=$?
	[ "$rc" = "$want_rc" ] || fail "stsctl $*: exit $rc, expected $want_rc: $out"
	grep -qF -- "$want" <<<"$out" || fail "stsctl $*: printed '$out', expected '$want'"
}

# has FILE WANT...: certtool's and openssl's text of the certificate FILE contain every WANT.
has() {
	local file=$1 text
	shift
	text=$(certtool -i --infile "$file"; openssl x509 -noout -text -in "$file")
	for want in "$@"; do
		grep -qF -- "$want" <<<"$text" || fail "$file lacks '$want'"
	done
}

# The key file holds the private half of the certificate's public key.
same_key() {
	[ "$(openssl x509 -noout -pubkey -in "$1.crt")" = "$(openssl pkey -pubout -in "$1.key")" ] ||
		fail "$1.key does not match $1.crt"
}

expect_exit 0 "Usage: stsctl pki" pki --help
expect_exit 0 "--not-after RFC3339" pki issue --help
expect_exit 0 "pki init|issue" --help
expect_exit 2 "unknown option '--bogus'" pki init --dir "$ca" --bogus
expect_exit 2 "unknown command 'sign'" pki sign --dir "$ca"
expect_exit 2 "--dir DIR is required" pki init
expect_exit 2 "bad --key" pki init --dir "$ca" --key dsa
[ ! -e "$ca" ] || fail "a refused init created $ca"

# The CA.
expect_exit 0 "wrote $ca/ca.crt and $ca/ca.key" pki init --dir "$ca" --cn test-ca
[ "$(stat -c %a "$ca/ca.key")" = 600 ] || fail "ca.key mode $(stat -c %a "$ca/ca.key")"
[ "$(stat -c %a "$ca")" = 700 ] || fail "CA directory mode $(stat -c %a "$ca")"
has "$ca/ca.crt" "Subject: CN=test-ca" "Certificate Authority (CA): TRUE" "Certificate signing." \
	"CA:TRUE" "Certificate Sign, CRL Sign" "SECP256R1" "ECDSA-SHA256"
expect_exit 1 "already exists" pki init --dir "$ca"

# A serving certificate, with a relative --out.
mkdir "$work/certs"
cd "$work/certs"
expect_exit 0 "wrote web-0.crt and web-0.key" pki issue --dir "$ca" --out web-0 --server \
	--cn web-0 --san localhost,127.0.0.1 --san ::1 --san web-0.stsd.default.svc
has web-0.crt "DNSname: localhost" "IPAddress: 127.0.0.1" "IPAddress: ::1" \
	"DNSname: web-0.stsd.default.svc" "TLS WWW Server" "Certificate Authority (CA): FALSE" \
	"Digital signature." "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" \
	"TLS Web Server Authentication" "Issuer: CN=test-ca"
certtool -i --infile web-0.crt | grep -q "TLS WWW Client" && fail "web-0.crt has clientAuth"
[ "$(stat -c %a web-0.key)" = 600 ] || fail "web-0.key mode $(stat -c %a web-0.key)"
same_key web-0
openssl verify -CAfile "$ca/ca.crt" -purpose sslserver web-0.crt >/dev/null ||
	fail "openssl verify web-0.crt"
if openssl verify -CAfile "$ca/ca.crt" -purpose sslclient web-0.crt >/dev/null 2>&1; then
	fail "a serving certificate passes as a client certificate"
fi

# A client certificate: CN the user, O the groups (':' inside, repeated and comma lists).
expect_exit 0 "wrote $work/certs/admin.crt" pki issue --dir "$ca" --out "$work/certs/admin" \
	--client --cn admin --org system:masters,devs --org system:nodes --days 30
subject=$(openssl x509 -noout -subject -nameopt RFC2253 -in admin.crt)
[ "$subject" = "subject=O=system:nodes,O=devs,O=system:masters,CN=admin" ] ||
	fail "admin.crt subject '$subject'"
has admin.crt "TLS WWW Client" "TLS Web Client Authentication"
openssl verify -CAfile "$ca/ca.crt" -purpose sslclient admin.crt >/dev/null ||
	fail "openssl verify admin.crt"
same_key admin

# Both usages and RSA.
expect_exit 0 "server+client, RSA 2048" pki issue --dir "$ca" --out both --server --client \
	--cn r1 --san 10.0.0.1 --key rsa
has both.crt "TLS WWW Server" "TLS WWW Client" "Key encipherment." "RSA"
openssl verify -CAfile "$ca/ca.crt" both.crt >/dev/null || fail "openssl verify both.crt"

# Never over an existing key without --force; with it, a new key.
before=$(cat admin.key)
expect_exit 1 "admin.key already exists" pki issue --dir "$ca" --out admin --client --cn x
[ "$(cat admin.key)" = "$before" ] || fail "admin.key changed without --force"
expect_exit 0 "wrote admin.crt" pki issue --dir "$ca" --out admin --client --cn x --force
[ "$(cat admin.key)" != "$before" ] || fail "admin.key not replaced with --force"
same_key admin

# Expired, and signed by another CA: both fail verification.
expect_exit 0 "2020-01-02T00:00:00Z" pki issue --dir "$ca" --out old --client --cn old \
	--not-before 2020-01-01T00:00:00Z --not-after 2020-01-02T01:00:00+01:00
out=$(openssl verify -CAfile "$ca/ca.crt" old.crt 2>&1) && fail "expired old.crt verifies"
grep -q "expired" <<<"$out" || fail "old.crt: '$out'"
expect_exit 0 "wrote" pki init --dir "$work/other"
expect_exit 0 "wrote" pki issue --dir "$work/other" --out foreign --server --cn f --san f
if openssl verify -CAfile "$ca/ca.crt" foreign.crt >/dev/null 2>&1; then
	fail "a certificate of another CA verifies"
fi

# Refusals write nothing.
expect_exit 2 "--server needs at least one --san" pki issue --dir "$ca" --out x --server --cn x
expect_exit 2 "give --server, --client or both" pki issue --dir "$ca" --out x --cn x
expect_exit 2 "--cn CN is required" pki issue --dir "$ca" --out x --client
expect_exit 2 "--out PREFIX is required" pki issue --dir "$ca" --client --cn x
expect_exit 2 "bad SAN 'a b'" pki issue --dir "$ca" --out x --server --cn x --san 'a b'
expect_exit 2 "empty name in --org" pki issue --dir "$ca" --out x --client --cn x --org a,
expect_exit 2 "bad --not-after" pki issue --dir "$ca" --out x --client --cn x --not-after 2020
expect_exit 2 "bad --days" pki issue --dir "$ca" --out x --client --cn x --days 0
expect_exit 2 "option --days needs a value" pki issue --dir "$ca" --out x --client --cn x --days
expect_exit 1 "no-such-ca/ca.crt" pki issue --dir "$work/no-such-ca" --out x --client --cn x
[ -z "$(ls x.* 2>/dev/null)" ] || fail "a refused issue wrote $(ls x.*)"
[ -z "$(ls "$work/certs" | grep tmp)" ] || fail "temporary files left: $(ls "$work/certs")"
echo "$name: ok"
