#!/usr/bin/env bash
# The one-machine demo federation: a federation CA, two agencies' security servers, the
# resident registry of 千代田区 (JP/MUNI/131016) and the child-allowance system of 厚生労働省
# (JP/GOV/MHLW), real exchanges between them, one refused call, and the message logs.
#
# usage: deploy/demo/run.sh [--keep-running]
#   Builds with Bazel, writes everything under .demo/ in the repository, uses 127.0.0.1 ports
#   7101 (registry), 7110/7111 (Chiyoda security server local/peer), 7200/7201 (MHLW's).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KEEP_RUNNING=${1:-}

bazel build -c opt //tools/renkeictl //security_server:renkei-security-server \
  //deploy/demo:resident-registry //deploy/demo:child-allowance
BIN=$ROOT/bazel-bin
CTL=$BIN/tools/renkeictl/renkeictl

DEMO=$ROOT/.demo
rm -rf "$DEMO"
mkdir -p "$DEMO/pki" "$DEMO/chiyoda" "$DEMO/mhlw" "$DEMO/logs"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Federation PKI (ECDSA P-256; keys mode 0600)"
$CTL pki create-ca --name "Renkei Demo Federation CA" --out "$DEMO/pki/federation-ca"
$CTL pki issue-auth --ca "$DEMO/pki/federation-ca" --server-id JP/MUNI/131016/ss1 --out "$DEMO/chiyoda/auth"
$CTL pki issue-signing --ca "$DEMO/pki/federation-ca" --member JP/MUNI/131016 --out "$DEMO/chiyoda/signing"
$CTL pki issue-auth --ca "$DEMO/pki/federation-ca" --server-id JP/GOV/MHLW/ss1 --out "$DEMO/mhlw/auth"
$CTL pki issue-signing --ca "$DEMO/pki/federation-ca" --member JP/GOV/MHLW --out "$DEMO/mhlw/signing"
fp() { $CTL pki fingerprint --cert "$1"; }
# A PEM file as one protobuf text-format string literal.
pem_literal() { printf '"'; awk '{printf "%s\\n", $0}' "$1"; printf '"'; }

step "Global configuration (read from a file in this release; the broker will sign and publish it)"
cat > "$DEMO/global.textproto" <<CONF
instance: "JP"
version: 1
trusted_ca_pem: $(pem_literal "$DEMO/pki/federation-ca.pem")
members {
  id: "JP/MUNI/131016"
  name: "千代田区"
  subsystems: "resident-registry"
  signing_certificate_sha256: "$(fp "$DEMO/chiyoda/signing.pem")"
}
members {
  id: "JP/GOV/MHLW"
  name: "厚生労働省"
  subsystems: "child-allowance"
  subsystems: "pension"
  signing_certificate_sha256: "$(fp "$DEMO/mhlw/signing.pem")"
}
security_servers {
  id: "JP/MUNI/131016/ss1"
  addresses: "127.0.0.1:7111"
  authentication_certificate_sha256: "$(fp "$DEMO/chiyoda/auth.pem")"
  provides: "JP/MUNI/131016/resident-registry"
}
security_servers {
  id: "JP/GOV/MHLW/ss1"
  addresses: "127.0.0.1:7201"
  authentication_certificate_sha256: "$(fp "$DEMO/mhlw/auth.pem")"
}
limits { max_message_bytes: 4194304 max_clock_skew_seconds: 60 }
CONF
sed -n '/^members/,$p' "$DEMO/global.textproto"

cat > "$DEMO/chiyoda/security-server.textproto" <<CONF
server_id: "JP/MUNI/131016/ss1"
global_configuration_file: "../global.textproto"
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
}
# The child-allowance system may read resident records; the pension system may not.
access_rights {
  client: "JP/GOV/MHLW/child-allowance"
  service: "JP/MUNI/131016/resident-registry"
  method: "/renkei.municipal.v1.ResidentRegistry/GetResident"
}
message_log { directory: "message-log" }
CONF

cat > "$DEMO/mhlw/security-server.textproto" <<CONF
server_id: "JP/GOV/MHLW/ss1"
global_configuration_file: "../global.textproto"
local { listen_address: "127.0.0.1:7200" plaintext_loopback_only: true }
peer {
  listen_address: "127.0.0.1:7201"
  authentication_certificate_file: "auth.pem"
  authentication_key_file: "auth.key"
}
signing_keys { member: "JP/GOV/MHLW" certificate_file: "signing.pem" key_file: "signing.key" }
local_clients { subsystem: "JP/GOV/MHLW/child-allowance" }
local_clients { subsystem: "JP/GOV/MHLW/pension" }
message_log { directory: "message-log" store_bodies: true }
CONF

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1; see $DEMO/logs" >&2
  exit 1
}

step "Starting the resident registry and both security servers"
"$BIN/deploy/demo/resident-registry" --listen 127.0.0.1:7101 2>"$DEMO/logs/registry.log" &
PIDS+=($!)
"$BIN/security_server/renkei-security-server" --config "$DEMO/chiyoda/security-server.textproto" \
  2>"$DEMO/logs/chiyoda-ss.log" &
PIDS+=($!)
"$BIN/security_server/renkei-security-server" --config "$DEMO/mhlw/security-server.textproto" \
  2>"$DEMO/logs/mhlw-ss.log" &
PIDS+=($!)
for port in 7101 7110 7111 7200 7201; do wait_port "$port"; done
echo "registry 127.0.0.1:7101, JP/MUNI/131016/ss1 local :7110 peer :7111, JP/GOV/MHLW/ss1 local :7200 peer :7201"

CLIENT=$BIN/deploy/demo/child-allowance
step "Exchanges: the child-allowance system reads applicants' records from 千代田区"
for applicant in 131016-0001 131016-0005 131016-0007; do
  echo "\$ child-allowance --applicant $applicant --user official-0042"
  "$CLIENT" --security_server 127.0.0.1:7200 --applicant "$applicant" --user official-0042
done

step "Refused: an unknown resident (the registry's own NOT_FOUND, signed and relayed)"
"$CLIENT" --security_server 127.0.0.1:7200 --applicant 131016-9999 || true

step "Refused: the pension system has no access right to the resident registry"
"$CLIENT" --security_server 127.0.0.1:7200 --applicant 131016-0001 --client JP/GOV/MHLW/pension || true

step "What the security servers logged (JSON lines on stderr)"
grep -h '"component":"\(peer\|local\)"' "$DEMO/logs/chiyoda-ss.log" "$DEMO/logs/mhlw-ss.log" || true

if [ "$KEEP_RUNNING" = "--keep-running" ]; then
  step "Federation running; Ctrl-C stops it"
  wait
fi
step "Stopping (SIGTERM: servers drain and exit)"
