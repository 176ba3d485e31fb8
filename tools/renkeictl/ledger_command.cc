#include "tools/renkeictl/ledger_command.h"

#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "audit/merkle.h"
#include "audit/tree_head.h"
#include "common/certificates.h"
#include "common/files.h"
#include "common/terminal_text.h"
#include "common/transport_security.h"
#include "common/text_proto.h"
#include "grpcpp/grpcpp.h"
#include "renkei/v1/config.pb.h"
#include "renkei/v1/ledger.grpc.pb.h"
#include "tools/renkeictl/command_line.h"

namespace renkei {
namespace {

constexpr char kHistoryUsage[] = R"(usage: renkeictl history --broker HOST:PORT --anchor FILE --resident-id ID --key FILE
                         [--agency MEMBER] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
Signs in to the broker as the resident (signing its challenge with --key), lists every access
record of the resident, newest first, and verifies each one: the tree head's signature against
the anchor's certificate and the record's inclusion proof against that tree head. Exits 0
only when everything verifies.
  --broker       the broker's distribution address
  --anchor       configuration anchor (holds the certificate that signs tree heads)
  --resident-id  the resident's id
  --key          the resident's private key (renkeictl pki create-resident-key)
  --agency       only records of this member, e.g. JP/GOV/MHLW
  --from, --to   only records in this period (UTC dates, inclusive))";

constexpr char kAuditUsage[] = R"(usage: renkeictl audit verify --broker HOST:PORT --anchor FILE [--state FILE]
Fetches the ledger's current signed tree head and verifies its signature against the anchor.
With --state, also proves that the ledger only grew since the tree head saved there
(consistency proof), then saves the new one. Exits 0 only when everything verifies.)";

int Fail(const std::string& what, const std::string& message) {
  std::cerr << "renkeictl " << what << ": " << message << "\n";
  return 1;
}

// The broker as the anchor describes it: the certificate that signs tree heads, and a
// connection over TLS to the certificate the anchor pins.
struct Broker {
  std::unique_ptr<Certificate> signer;
  std::unique_ptr<v1::ResidentAccess::Stub> stub;
};

absl::StatusOr<Broker> ConnectAsAnchorSays(const std::string& anchor_path,
                                           const std::string& address) {
  v1::ConfigurationAnchor anchor;
  absl::Status status = LoadTextProtoFile(anchor_path, &anchor);
  if (!status.ok()) return status;
  auto certificate = Certificate::FromPem(anchor.configuration_signing_certificate_pem());
  if (!certificate.ok()) return certificate.status();
  auto credentials = BrokerChannelCredentials(anchor, address, nullptr);
  if (!credentials.ok()) return credentials.status();
  Broker broker;
  broker.signer = std::make_unique<Certificate>(*std::move(certificate));
  broker.stub = v1::ResidentAccess::NewStub(grpc::CreateChannel(address, *credentials));
  return broker;
}

void Deadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(t.seconds()),
                          absl::UTCTimeZone());
}

absl::StatusOr<google::protobuf::Timestamp> ParseDay(const std::string& text, bool end_of_day) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("not a date (YYYY-MM-DD): ", text));
  }
  if (end_of_day) time += absl::Hours(24) - absl::Milliseconds(1);
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(absl::ToUnixSeconds(time));
  timestamp.set_nanos(static_cast<int32_t>((absl::ToUnixMillis(time) % 1000) * 1000000));
  return timestamp;
}

int History(Flags& flags) {
  auto broker = ConnectAsAnchorSays(flags["anchor"], flags["broker"]);
  if (!broker.ok()) return Fail("history", std::string(broker.status().message()));
  const Certificate* signer = broker->signer.get();
  v1::ResidentAccess::Stub* stub = broker->stub.get();
  auto key = PrivateKey::FromPemFile(flags["key"]);
  if (!key.ok()) return Fail("history", std::string(key.status().message()));

  v1::ChallengeRequest challenge_request;
  challenge_request.set_resident_id(flags["resident-id"]);
  v1::ChallengeResponse challenge;
  grpc::ClientContext challenge_context;
  Deadline(challenge_context);
  grpc::Status status = stub->Challenge(&challenge_context, challenge_request, &challenge);
  if (!status.ok()) return Fail("history", status.error_message());
  auto signature = key->Sign(challenge.challenge());
  if (!signature.ok()) return Fail("history", std::string(signature.status().message()));
  v1::SignInRequest sign_in;
  sign_in.set_resident_id(flags["resident-id"]);
  sign_in.set_challenge(challenge.challenge());
  sign_in.set_signature(*signature);
  v1::SignInResponse session;
  grpc::ClientContext sign_in_context;
  Deadline(sign_in_context);
  status = stub->SignIn(&sign_in_context, sign_in, &session);
  if (!status.ok()) return Fail("history", status.error_message());

  v1::ListRecordsRequest request;
  request.set_session_token(session.session_token());
  request.set_page_size(100);
  if (flags.count("agency")) request.set_client_member(flags["agency"]);
  for (const char* bound : {"from", "to"}) {
    if (!flags.count(bound)) continue;
    auto day = ParseDay(flags[bound], std::string(bound) == "to");
    if (!day.ok()) return Fail("history", std::string(day.status().message()));
    *(std::string(bound) == "from" ? request.mutable_from() : request.mutable_to()) = *day;
  }
  int records = 0, verified = 0, pending = 0;
  do {
    v1::ListRecordsResponse page;
    grpc::ClientContext context;
    Deadline(context);
    status = stub->ListRecords(&context, request, &page);
    if (!status.ok()) return Fail("history", status.error_message());
    const v1::SignedTreeHead& head = page.tree_head();
    bool head_ok = audit::VerifyTreeHead(head, *signer).ok();
    for (const v1::ProvenRecord& proven : page.records()) {
      std::vector<std::string> proof(proven.inclusion_proof().begin(), proven.inclusion_proof().end());
      v1::AccessRecord entry_record;
      bool ok = head_ok && entry_record.ParseFromString(proven.entry()) &&
                audit::VerifyInclusion(audit::LeafHash(proven.entry()), proven.leaf_index(),
                                       head.tree_size(), proof, head.root_hash())
                    .ok();
      ++records;
      verified += ok ? 1 : 0;
      if (!ok) {
        // Nothing of a record that does not verify is shown: it could say anything.
        std::cout << "✗ a record that does not verify against the tree head (leaf "
                  << proven.leaf_index() << ")\n";
        continue;
      }
      // Only what the verified entry bytes say, never the server's separate copy.
      const v1::AccessRecord& r = entry_record;
      // Every string of a record was chosen by whoever sent the request: escape it, or a
      // purpose could clear the screen or forge a "✓" line.
      std::cout << (ok ? "✓ " : "✗ ") << FormatTime(r.time()) << "  "
                << EscapeForTerminal(r.client()) << " → " << EscapeForTerminal(r.service())
                << EscapeForTerminal(r.method()) << "  purpose=" << EscapeForTerminal(r.purpose())
                << (r.user().empty() ? "" : "  user=" + EscapeForTerminal(r.user()))
                << "  outcome=" << r.outcome() << "  leaf=" << proven.leaf_index() << "\n";
    }
    pending += page.pending();
    std::cout.flush();
    request.set_page_token(page.next_page_token());
    if (page.next_page_token().empty()) {
      std::cout << records << " records, " << verified << " verified against tree head of size "
                << head.tree_size() << (head_ok ? " (signature ok)" : " (SIGNATURE INVALID)");
      if (pending > 0) std::cout << "; " << pending << " newer, awaiting the next tree head";
      std::cout << "\n";
    }
  } while (!request.page_token().empty());
  return verified == records ? 0 : 1;
}

int AuditVerify(Flags& flags) {
  auto broker = ConnectAsAnchorSays(flags["anchor"], flags["broker"]);
  if (!broker.ok()) return Fail("audit", std::string(broker.status().message()));
  const Certificate* signer = broker->signer.get();
  v1::ResidentAccess::Stub* stub = broker->stub.get();
  v1::SignedTreeHead head;
  grpc::ClientContext context;
  Deadline(context);
  grpc::Status status = stub->GetTreeHead(&context, v1::GetTreeHeadRequest(), &head);
  if (!status.ok()) return Fail("audit", status.error_message());
  absl::Status signature = audit::VerifyTreeHead(head, *signer);
  if (!signature.ok()) return Fail("audit", std::string(signature.message()));
  std::cout << "tree head: size " << head.tree_size() << ", root "
            << absl::BytesToHexString(head.root_hash())
            << ", signed " << absl::FormatTime(absl::FromUnixMillis(head.timestamp_ms()), absl::UTCTimeZone())
            << ": signature ok\n";
  if (!flags.count("state")) return 0;
  auto saved = ReadFile(flags["state"]);
  if (saved.ok()) {
    v1::SignedTreeHead previous;
    if (!previous.ParseFromString(*saved) || !audit::VerifyTreeHead(previous, *signer).ok()) {
      return Fail("audit", "the saved tree head in " + flags["state"] + " is invalid");
    }
    v1::ConsistencyProofRequest request;
    request.set_from_size(previous.tree_size());
    request.set_to_size(head.tree_size());
    v1::ConsistencyProofResponse proof;
    grpc::ClientContext proof_context;
    Deadline(proof_context);
    status = stub->GetConsistencyProof(&proof_context, request, &proof);
    if (!status.ok()) return Fail("audit", status.error_message());
    absl::Status consistent = audit::VerifyConsistency(
        previous.tree_size(), head.tree_size(), previous.root_hash(), head.root_hash(),
        std::vector<std::string>(proof.proof().begin(), proof.proof().end()));
    if (!consistent.ok()) {
      return Fail("audit", absl::StrCat("the ledger is NOT an extension of the saved tree head of size ",
                                        previous.tree_size(), ": ", consistent.message()));
    }
    std::cout << "consistent with the saved tree head of size " << previous.tree_size()
              << ": the ledger only grew\n";
  }
  absl::Status written = WriteFileAtomically(flags["state"], head.SerializeAsString(), 0644);
  if (!written.ok()) return Fail("audit", std::string(written.message()));
  return 0;
}

}  // namespace

int RunHistoryCommand(const std::vector<std::string>& args) {
  CommandSpec spec{kHistoryUsage, {"broker", "anchor", "resident-id", "key"}, {"agency", "from", "to"}};
  Flags flags;
  if (auto exit_code = ParseFlags("renkeictl history", spec, args, flags)) return *exit_code;
  return History(flags);
}

int RunAuditCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, CommandSpec> commands = {
      {"verify", {kAuditUsage, {"broker", "anchor"}, {"state"}}}};
  return RunGroup("audit", kAuditUsage, commands, args,
                  [](const std::string&, Flags& flags) { return AuditVerify(flags); });
}

}  // namespace renkei
