#!/usr/bin/env bash
# The one-machine demo federation: the broker, a federation CA, two agencies' security
# servers following the broker's signed configuration, the resident registry of 千代田区
# (JP/MUNI/131016) and the child-allowance system of 厚生労働省 (JP/GOV/MHLW), real exchanges
# between them (gRPC, and one JSON call with curl), refused calls, a resident's verified access
# history, and the logs.
#
# usage: deploy/demo/run.sh [--keep-running]
#   Builds with Bazel, writes everything under .demo/ in the repository, and uses 127.0.0.1
#   ports 7001/7002 (broker distribution/admin), 7080 (resident portal), 7101 (registry),
#   7110/7111 (Chiyoda security server local/peer), 7200/7201 (MHLW's), 7202 (MHLW's JSON
#   entry), and 7009/7119/7209 for /metrics and /healthz (deploy/prometheus/prometheus.yml
#   scrapes exactly these).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KEEP_RUNNING=${1:-}

bazel build -c opt //tools/renkeictl //security_server:renkei-security-server \
  //broker:renkei-broker //deploy/demo:resident-registry //deploy/demo:child-allowance
BIN=$ROOT/bazel-bin
CTL=$BIN/tools/renkeictl/renkeictl

DEMO=$ROOT/.demo
rm -rf "$DEMO"
mkdir -p "$DEMO/pki" "$DEMO/broker" "$DEMO/chiyoda" "$DEMO/mhlw" "$DEMO/residents" "$DEMO/logs"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1; see $DEMO/logs" >&2
  exit 1
}

step "PKI (ECDSA P-256; keys mode 0600): federation CA, operators' CA, broker, agencies"
$CTL pki create-ca --name "Renkei Demo Federation CA" --out "$DEMO/pki/federation-ca"
$CTL pki create-ca --name "Renkei Demo Operators CA" --out "$DEMO/pki/operator-ca"
$CTL pki issue-tls --ca "$DEMO/pki/operator-ca" --name "operator yamada" --out "$DEMO/pki/operator"
$CTL pki issue-tls --ca "$DEMO/pki/operator-ca" --name "broker admin endpoint" \
  --dns localhost --ip 127.0.0.1 --out "$DEMO/broker/admin-tls"
$CTL pki issue-config-signing --ca "$DEMO/pki/federation-ca" --out "$DEMO/broker/config-signing"
# The broker's own TLS certificate: security servers, renkeictl and residents' tools reach it
# only over TLS, and the anchor pins exactly this certificate.
$CTL pki issue-tls --ca "$DEMO/pki/federation-ca" --name "renkei broker" \
  --dns localhost --ip 127.0.0.1 --out "$DEMO/broker/tls"
$CTL pki issue-auth --ca "$DEMO/pki/federation-ca" --server-id JP/MUNI/131016/ss1 --out "$DEMO/chiyoda/auth"
$CTL pki issue-signing --ca "$DEMO/pki/federation-ca" --member JP/MUNI/131016 --out "$DEMO/chiyoda/signing"
$CTL pki issue-auth --ca "$DEMO/pki/federation-ca" --server-id JP/GOV/MHLW/ss1 --out "$DEMO/mhlw/auth"
$CTL pki issue-signing --ca "$DEMO/pki/federation-ca" --member JP/GOV/MHLW --out "$DEMO/mhlw/signing"
$CTL pki create-pepper --out "$DEMO/pki/pepper"
$CTL pki create-resident-key --out "$DEMO/residents/saito-ichiro"

step "Starting the broker"
cat > "$DEMO/broker/broker.textproto" <<CONF
instance: "JP"
data_directory: "data"
distribution_listen_address: "127.0.0.1:7001"
tls_certificate_file: "tls.pem"
tls_key_file: "tls.key"
admin_listen_address: "127.0.0.1:7002"
admin_tls_certificate_file: "admin-tls.pem"
admin_tls_key_file: "admin-tls.key"
operator_ca_file: "../pki/operator-ca.pem"
operators { name: "yamada" certificate_sha256: "$($CTL pki fingerprint --cert "$DEMO/pki/operator.pem")" }
configuration_signing_certificate_file: "config-signing.pem"
configuration_signing_key_file: "config-signing.key"
configuration_validity_seconds: 600
limits { max_message_bytes: 4194304 max_clock_skew_seconds: 60 }
anchor_file: "anchor.textproto"
ledger_directory: "ledger"
pseudonym_pepper_file: "../pki/pepper"
tree_head_interval_seconds: 1
portal_listen_address: "127.0.0.1:7080"
portal_plaintext_loopback_only: true
monitoring_listen_address: "127.0.0.1:7009"
CONF
"$BIN/broker/renkei-broker" --config "$DEMO/broker/broker.textproto" 2>"$DEMO/logs/broker.log" &
PIDS+=($!)
wait_port 7001
wait_port 7002

step "Registering the agencies with renkeictl registry (operator certificate, mutual TLS)"
reg() {
  echo "\$ renkeictl registry $1 ${*:2}" | sed "s|$DEMO/||g"
  $CTL registry "$@" --broker 127.0.0.1:7002 --operator "$DEMO/pki/operator" \
    --broker-ca "$DEMO/pki/operator-ca.pem"
}
reg add-ca --cert "$DEMO/pki/federation-ca.pem"
reg add-member --id JP/MUNI/131016 --name 千代田区
reg add-subsystem --id JP/MUNI/131016/resident-registry
reg add-signing-cert --member JP/MUNI/131016 --cert "$DEMO/chiyoda/signing.pem"
reg put-server --id JP/MUNI/131016/ss1 --address 127.0.0.1:7111 --auth-cert "$DEMO/chiyoda/auth.pem" \
  --provides JP/MUNI/131016/resident-registry
reg add-member --id JP/GOV/MHLW --name 厚生労働省
reg add-subsystem --id JP/GOV/MHLW/child-allowance
reg add-subsystem --id JP/GOV/MHLW/pension
reg add-signing-cert --member JP/GOV/MHLW --cert "$DEMO/mhlw/signing.pem"
reg put-server --id JP/GOV/MHLW/ss1 --address 127.0.0.1:7201 --auth-cert "$DEMO/mhlw/auth.pem"
# 齋藤 一郎 enrols the public key of his card, to read his own access history later.
reg enroll-resident --resident-id 131016-0001 --public-key "$DEMO/residents/saito-ichiro.pub.pem"

for agency in chiyoda mhlw; do cp "$DEMO/broker/anchor.textproto" "$DEMO/$agency/anchor.textproto"; done
cat > "$DEMO/chiyoda/security-server.textproto" <<CONF
server_id: "JP/MUNI/131016/ss1"
configuration_anchor_file: "anchor.textproto"
configuration_refresh_seconds: 5
local { listen_address: "127.0.0.1:7110" plaintext_loopback_only: true }
peer {
  listen_address: "127.0.0.1:7111"
  authentication_certificate_file: "auth.pem"
  authentication_key_file: "auth.key"
}
signing_keys { member: "JP/MUNI/131016" certificate_file: "signing.pem" key_file: "signing.key" }
provided_services {
  subsystem: "JP/MUNI/131016/resident-registry"
  backend_address: "127.0.0.1:7101"
  methods: "/renkei.municipal.v1.ResidentRegistry/GetResident"
  methods: "/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate"
}
# The child-allowance system may read resident records and copies of them (住民票の写し, up
# to 1 MiB: what renkei-bench --payload measures); the pension system may not.
access_rights {
  client: "JP/GOV/MHLW/child-allowance"
  service: "JP/MUNI/131016/resident-registry"
  method: "/renkei.municipal.v1.ResidentRegistry/GetResident"
}
access_rights {
  client: "JP/GOV/MHLW/child-allowance"
  service: "JP/MUNI/131016/resident-registry"
  method: "/renkei.municipal.v1.ResidentRegistry/GetResidenceCertificate"
}
message_log { directory: "message-log" }
pseudonym_pepper_file: "../pki/pepper"
monitoring_listen_address: "127.0.0.1:7119"
CONF
cat > "$DEMO/mhlw/security-server.textproto" <<CONF
server_id: "JP/GOV/MHLW/ss1"
configuration_anchor_file: "anchor.textproto"
configuration_refresh_seconds: 5
local {
  listen_address: "127.0.0.1:7200"
  rest_listen_address: "127.0.0.1:7202"
  plaintext_loopback_only: true
}
peer {
  listen_address: "127.0.0.1:7201"
  authentication_certificate_file: "auth.pem"
  authentication_key_file: "auth.key"
}
signing_keys { member: "JP/GOV/MHLW" certificate_file: "signing.pem" key_file: "signing.key" }
local_clients { subsystem: "JP/GOV/MHLW/child-allowance" }
local_clients { subsystem: "JP/GOV/MHLW/pension" }
message_log { directory: "message-log" store_bodies: true }
monitoring_listen_address: "127.0.0.1:7209"
CONF

step "Starting the resident registry and both security servers (from the broker's anchor)"
"$BIN/deploy/demo/resident-registry" --listen 127.0.0.1:7101 2>"$DEMO/logs/registry.log" &
PIDS+=($!)
"$BIN/security_server/renkei-security-server" --config "$DEMO/chiyoda/security-server.textproto" \
  2>"$DEMO/logs/chiyoda-ss.log" &
PIDS+=($!)
"$BIN/security_server/renkei-security-server" --config "$DEMO/mhlw/security-server.textproto" \
  2>"$DEMO/logs/mhlw-ss.log" &
PIDS+=($!)
for port in 7101 7110 7111 7200 7201 7202; do wait_port "$port"; done
grep -h '"component":"configuration"' "$DEMO/logs/chiyoda-ss.log" "$DEMO/logs/mhlw-ss.log" || true

CLIENT=$BIN/deploy/demo/child-allowance
step "Exchanges: the child-allowance system reads applicants' records from 千代田区"
for applicant in 131016-0001 131016-0005 131016-0007; do
  echo "\$ child-allowance --applicant $applicant --user official-0042"
  "$CLIENT" --security_server 127.0.0.1:7200 --applicant "$applicant" --user official-0042
done

step "The same from a system that speaks JSON: curl to MHLW's JSON entry (:7202)"
# The same exchange as the gRPC calls above (signed protobuf between the servers, the same
# record in the ledger); only the local hop is HTTP/1.1 with JSON.
cat <<'SHOW'
$ curl -i http://127.0.0.1:7202/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident \
    -H 'Renkei-Client: JP/GOV/MHLW/child-allowance' -H 'Renkei-Subject: 131016-0001' \
    -H 'Renkei-Purpose: child-allowance-act/art7/eligibility' -H 'Renkei-User: official-0042' \
    -H 'Content-Type: application/json' -d '{"residentCode": "131016-0001"}'
SHOW
curl --silent --show-error --fail-with-body --include \
  http://127.0.0.1:7202/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident \
  -H 'Renkei-Client: JP/GOV/MHLW/child-allowance' -H 'Renkei-Subject: 131016-0001' \
  -H 'Renkei-Purpose: child-allowance-act/art7/eligibility' -H 'Renkei-User: official-0042' \
  -H 'Content-Type: application/json' -d '{"residentCode": "131016-0001"}'
echo

step "Refused: an unknown resident (the registry's own NOT_FOUND, signed and relayed)"
"$CLIENT" --security_server 127.0.0.1:7200 --applicant 131016-9999 || true

step "Refused: the pension system has no access right to the resident registry"
"$CLIENT" --security_server 127.0.0.1:7200 --applicant 131016-0001 --client JP/GOV/MHLW/pension || true

step "The resident's view: 齋藤 一郎 signs in with his key and verifies who used his data"
# His list has the child-allowance system twice on the same day: the gRPC call and the JSON
# call leave the same record but for the message id and time.
sleep 2  # the provider's outbox ships within 200 ms; the broker signs tree heads every second
echo "\$ renkeictl history --resident-id 131016-0001 --key residents/saito-ichiro.key"
$CTL history --broker 127.0.0.1:7001 --anchor "$DEMO/broker/anchor.textproto" \
  --resident-id 131016-0001 --key "$DEMO/residents/saito-ichiro.key"
echo "\$ renkeictl audit verify --state audit-state"
$CTL audit verify --broker 127.0.0.1:7001 --anchor "$DEMO/broker/anchor.textproto" --state "$DEMO/audit-state"

step "The broker's admin log (who changed the registry, and when)"
reg log --limit 5

step "What operators see: health and metrics (Prometheus text format)"
for port in 7009 7119 7209; do
  printf '127.0.0.1:%s/healthz  %s\n' "$port" "$(curl -s "http://127.0.0.1:$port/healthz" 2>/dev/null || echo unreachable)"
done
curl -s http://127.0.0.1:7119/metrics 2>/dev/null | grep -E '^renkei_security_server_(exchanges_total|outbox_records|configuration_version)' || true

step "What the security servers logged (JSON lines on stderr)"
grep -h '"component":"\(peer\|local\)"' "$DEMO/logs/chiyoda-ss.log" "$DEMO/logs/mhlw-ss.log" || true

if [ "$KEEP_RUNNING" = "--keep-running" ]; then
  step "Federation running; Ctrl-C stops it"
  wait
fi
step "Stopping (SIGTERM: servers drain and exit)"
