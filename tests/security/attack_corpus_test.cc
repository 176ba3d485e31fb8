// The attack corpus (issue 9): what a dishonest member, a stranger on the network or a local
// system may send, against real processes on loopback. Each case asserts the exact gRPC status
// (UNAVAILABLE for a TLS handshake refusal) AND that nothing reached the provider's backend AND
// that the provider's message log recorded nothing as released.
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/files.h"
#include "common/identifiers.h"
#include "common/ledger_receipt.h"
#include "common/typed_signature.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/live_federation.h"
#include "tools/renkeictl/pki.h"

namespace renkei::testing {
namespace {

using municipal::v1::GetResidentRequest;

std::string Payload(const std::string& code) {
  GetResidentRequest request;
  request.set_resident_code(code);
  return request.SerializeAsString();
}

// A signing certificate of the consumer member valid from `not_before_days` for `days` days.
TestCredentials SigningCertificate(const TestFederation& pki, int not_before_days, int days) {
  PrivateKey key = PrivateKey::GenerateP256();
  CertificateRequest request;
  request.kind = CertificateKind::kSigning;
  request.common_name = TestFederation::kConsumerMember;
  request.not_before_days = not_before_days;
  request.validity_days = days;
  return {*IssueCertificate(request, key, &pki.ca.certificate, pki.ca.key), key};
}

// The federation every case attacks, started once. Besides the usual parties it registers,
// for the consumer member, an expired, a not-yet-valid, a revoked and a foreign-CA signing
// certificate, so that each fails for its own reason.
struct Corpus {
  Corpus()
      : federation("attack_corpus", [] {
          LiveFederationOptions options;
          options.monitoring = true;
          return options;
        }()),
        expired(SigningCertificate(federation.pki, -30, 10)),
        not_yet_valid(SigningCertificate(federation.pki, 10, 30)),
        revoked(SigningCertificate(federation.pki, 0, 30)),
        foreign(federation.pki.IssueSigning(TestFederation::kConsumerMember, federation.rogue_ca)) {
    v1::GlobalConfiguration& configuration = federation.pki.configuration;
    for (v1::Member& member : *configuration.mutable_members()) {
      if (member.id() != TestFederation::kConsumerMember) continue;
      for (const TestCredentials* extra : {&expired, &not_yet_valid, &revoked, &foreign}) {
        member.add_signing_certificate_sha256(extra->certificate.fingerprint());
      }
    }
    configuration.add_revoked_certificate_sha256(revoked.certificate.fingerprint());
    started = federation.Start();
  }

  SigningIdentity Signer(const TestCredentials& credentials) const {
    return {federation.pki.consumer_signer.member, credentials.certificate, credentials.key};
  }

  // A request as the consumer's server builds it, after `edit` changed its header; signed
  // by `signer` as `type`.
  v1::ExchangeRequest Request(const std::function<void(v1::RequestHeader&)>& edit = nullptr,
                              const SigningIdentity* signer = nullptr,
                              SignedType type = SignedType::kRequestHeader,
                              const std::string& payload = Payload("131016-0001")) const {
    v1::ExchangeRequest crafted =
        federation.CraftRequest(federation.pki.consumer_signer, kAllowance, payload);
    v1::RequestHeader header;
    header.ParseFromString(crafted.request().header());
    if (edit) edit(header);
    *crafted.mutable_request() = *SignHeader(type, header.SerializeAsString(),
                                             signer ? *signer : federation.pki.consumer_signer);
    return crafted;
  }

  grpc::Status Peer(const v1::ExchangeRequest& request, const TestCredentials* tls = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ExchangeResponse response;
    return federation.ProviderPeerAs(tls ? *tls : federation.pki.consumer_server)
        ->Exchange(&context, request, &response);
  }

  // GetResident through the consumer's local endpoint as `client`, naming `subsystem`, with
  // `metadata` added (beyond the usual renkei-* keys, which `skip` leaves out).
  grpc::Status Local(const TestCredentials& client, const std::string& subsystem,
                     const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, subsystem, kTestBackend, "131016-0001");
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    GetResidentRequest request;
    request.set_resident_code("131016-0001");
    municipal::v1::GetResidentResponse response;
    return federation.LocalRegistry(client)->GetResident(&context, request, &response);
  }

  // GetResident through the consumer's local endpoint as the child-allowance client, sent by
  // a raw HTTP/2 client (tests/raw_h2_client.py) with the usual renkei-* headers, each of
  // `headers` replacing the one of its name (or added; "-name" removes it): any bytes, which
  // gRPC's libraries would refuse to send. A reset stream comes back as INTERNAL
  // "RST_STREAM <code>".
  grpc::Status RawLocal(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string* message_id = nullptr) {
    const std::string d = federation.directory + "/";
    if (!WriteFileAtomically(d + "raw-client.pem", federation.allowance_client.certificate.Pem(),
                             0644).ok() ||
        !WriteFileAtomically(d + "raw-client.key", federation.allowance_client.key.Pem(), 0600)
             .ok()) {
      return grpc::Status(grpc::StatusCode::UNKNOWN, "could not write the client's key");
    }
    std::vector<std::pair<std::string, std::string>> sent = {
        {"renkei-client", kAllowance},
        {"renkei-service", kTestBackend},
        {"renkei-subject", "131016-0001"},
        {"renkei-purpose", "integration-test"}};
    for (const auto& [name, value] : headers) {
      const bool remove = absl::StartsWith(name, "-");
      const std::string key = remove ? name.substr(1) : name;
      auto same = std::find_if(sent.begin(), sent.end(),
                               [&key](const auto& header) { return header.first == key; });
      if (remove) {
        if (same != sent.end()) sent.erase(same);
      } else if (same != sent.end()) {
        same->second = value;
      } else {
        sent.push_back({name, value});
      }
    }
    std::vector<std::string> args = {Runfile("tests/raw_h2_client.py"),
                                      "--address",
                                      absl::StrCat("127.0.0.1:", federation.consumer_local_port),
                                      "--ca",
                                      federation.local_ca_file,
                                      "--cert",
                                      d + "raw-client.pem",
                                      "--key",
                                      d + "raw-client.key"};
    for (const auto& [name, value] : sent) {
      args.push_back("--header");
      args.push_back(absl::StrCat(name, "=", absl::BytesToHexString(value)));
    }
    static int calls = 0;
    const std::string output = absl::StrCat(d, "raw-client-", ++calls, ".out");
    Process client("/usr/bin/python3", args, output);
    client.Wait(60);
    auto printed = ReadFile(output);
    if (!printed.ok()) return grpc::Status(grpc::StatusCode::UNKNOWN, "no output");
    std::string line = printed->substr(0, printed->find('\n'));
    auto field = [&line](const std::string& name) -> std::optional<std::string> {
      // The client prints one flat JSON object; values are numbers, strings or null.
      size_t at = line.find("\"" + name + "\": ");
      if (at == std::string::npos) return std::nullopt;
      at += name.size() + 4;
      if (line.compare(at, 4, "null") == 0) return std::nullopt;
      if (line[at] == '"') return line.substr(at + 1, line.find('"', at + 1) - at - 1);
      return line.substr(at, line.find_first_of(",}", at) - at);
    };
    if (message_id != nullptr) *message_id = field("message_id").value_or("");
    if (auto reset = field("reset")) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "RST_STREAM " + *reset);
    }
    auto code = field("grpc_status");
    if (!code) return grpc::Status(grpc::StatusCode::UNKNOWN, "no grpc-status: " + *printed);
    return grpc::Status(static_cast<grpc::StatusCode>(std::stoi(*code)),
                        field("grpc_message").value_or(""));
  }

  // What the provider's server has recorded: message-log entries (from its /metrics).
  int64_t ProviderEntries() {
    httplib::Client client("127.0.0.1", federation.provider_monitoring_port);
    auto response = client.Get("/metrics");
    if (!response) return -1;
    for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
      if (absl::ConsumePrefix(&line, "renkei_security_server_message_log_entries ")) {
        return static_cast<int64_t>(std::stod(std::string(line)));
      }
    }
    return -1;
  }

  LiveFederation federation;
  TestCredentials expired, not_yet_valid, revoked;
  TestCredentials foreign;  // registered, but issued by a CA the federation does not trust
  bool started = false;
};

Corpus* corpus = nullptr;

struct Attack;
void PrintTo(const Attack& attack, std::ostream* out);

struct Attack {
  std::string name;
  grpc::StatusCode expected;
  std::function<grpc::Status(Corpus&)> attack;
  // Done first, outside the measurement: the legitimate exchange a replay copies.
  std::function<void(Corpus&)> prepare = nullptr;
};

void PrintTo(const Attack& attack, std::ostream* out) { *out << attack.name; }

class AttackCorpus : public ::testing::TestWithParam<Attack> {
 protected:
  static void SetUpTestSuite() {
    corpus = new Corpus();
    if (!corpus->started) {
      delete corpus;
      corpus = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete corpus;
    corpus = nullptr;
  }
};

TEST_P(AttackCorpus, IsRefusedAndNothingIsForwardedOrRecorded) {
  ASSERT_NE(corpus, nullptr) << "the federation did not start";
  const Attack& attack = GetParam();
  if (attack.prepare) attack.prepare(*corpus);
  const int backend_calls = corpus->federation.BackendCalls();
  const int64_t entries = corpus->ProviderEntries();
  ASSERT_GE(entries, 0) << "provider metrics unreadable";
  grpc::Status status = attack.attack(*corpus);
  EXPECT_EQ(status.error_code(), attack.expected) << status.error_message();
  RecordProperty("refusal", status.error_message());  // in test.xml, for reading the corpus
  EXPECT_EQ(corpus->federation.BackendCalls(), backend_calls) << "forwarded to the backend";
  EXPECT_EQ(corpus->ProviderEntries(), entries) << "recorded as released";
}

using Code = grpc::StatusCode;
using Header = v1::RequestHeader;

std::vector<Attack> PeerAttacks() {
  std::vector<Attack> attacks = {
      // Signatures and their types.
      {"ForgedSignature", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.mutable_request()->set_signature(RandomBytes(70));
         return c.Peer(request);
       }},
      {"HeaderTamperedAfterSigning", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.mutable_request()->mutable_header()->back() ^= 1;
         return c.Peer(request);
       }},
      {"PayloadTampered", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.set_payload(Payload("131016-0005"));
         return c.Peer(request);
       }},
      {"ValidSignatureOfAnotherMemberClaimingTheClient", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         SigningIdentity claimed = c.federation.pki.provider_signer;
         claimed.member = c.federation.pki.consumer_signer.member;
         return c.Peer(c.Request(nullptr, &claimed));
       }},
      {"ClientOfAnotherMember", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(
             [](Header& h) { *h.mutable_client() = *ParseSubsystemId("JP/GOV/MOJ/family-register"); }));
       }},
      {"ResponseHeaderReplayedAsRequest", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(nullptr, nullptr, SignedType::kResponseHeader));
       }},
      {"RecordBatchReplayedAsRequest", Code::UNAUTHENTICATED,
       [](Corpus& c) { return c.Peer(c.Request(nullptr, nullptr, SignedType::kRecordBatch)); }},
      {"ConfigurationSignatureReplayedAsRequest", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(nullptr, nullptr, SignedType::kConfiguration));
       }},
      {"ReceiptSignatureReplayedAsRequest", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(nullptr, nullptr, SignedType::kLedgerReceipt));
       }},
      {"TreeHeadSignatureReplayedAsRequest", Code::UNAUTHENTICATED,
       [](Corpus& c) { return c.Peer(c.Request(nullptr, nullptr, SignedType::kTreeHead)); }},
      {"UnknownSignatureAlgorithm", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.mutable_request()->set_algorithm(static_cast<v1::SignatureAlgorithm>(9));
         return c.Peer(request);
       }},
      {"MalformedSignerCertificate", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.mutable_request()->set_signer_certificate("not DER");
         return c.Peer(request);
       }},
      {"SignerCertificateFromAForeignCa", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         SigningIdentity signer = c.Signer(c.foreign);
         return c.Peer(c.Request(nullptr, &signer));
       }},
      {"ExpiredSigningCertificate", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         SigningIdentity signer = c.Signer(c.expired);
         return c.Peer(c.Request(nullptr, &signer));
       }},
      {"NotYetValidSigningCertificate", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         SigningIdentity signer = c.Signer(c.not_yet_valid);
         return c.Peer(c.Request(nullptr, &signer));
       }},
      {"RevokedSigningCertificate", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         SigningIdentity signer = c.Signer(c.revoked);
         return c.Peer(c.Request(nullptr, &signer));
       }},
      {"TruncatedSignature", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         request.mutable_request()->mutable_signature()->resize(10);
         return c.Peer(request);
       }},
      {"EmptyEnvelope", Code::UNAUTHENTICATED,
       [](Corpus& c) { return c.Peer(v1::ExchangeRequest()); }},
      {"SignedGarbageAsHeader", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         v1::ExchangeRequest request = c.Request();
         *request.mutable_request() = *SignHeader(SignedType::kRequestHeader, "\xff\xff\xff garbage",
                                                  c.federation.pki.consumer_signer);
         return c.Peer(request);
       }},
      // Time.
      {"StaleTimestamp", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(
             [](Header& h) { *h.mutable_created_at() = ToTimestamp(absl::Now() - absl::Minutes(5)); }));
       }},
      {"FutureTimestamp", Code::UNAUTHENTICATED,
       [](Corpus& c) {
         return c.Peer(c.Request(
             [](Header& h) { *h.mutable_created_at() = ToTimestamp(absl::Now() + absl::Minutes(5)); }));
       }},
      // Sizes and shapes of what the record will hold.
      {"OversizedPayload", Code::RESOURCE_EXHAUSTED,
       [](Corpus& c) {
         return c.Peer(c.Request(nullptr, nullptr, SignedType::kRequestHeader,
                                 Payload(std::string(300 * 1024, '1'))));
       }},
      {"NoSubjects", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.clear_subjects(); })); }},
      {"TooManySubjects", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) {
           for (int i = 0; i < 100; ++i) h.add_subjects(absl::StrCat("131016-", i));
         }));
       }},
      {"SubjectWithControlCharacters", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) { h.set_subjects(0, "131016-0001\r\nX: y"); }));
       }},
      {"SubjectTooLong", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) { h.set_subjects(0, std::string(300, '1')); }));
       }},
      {"EmptyPurpose", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.clear_purpose(); })); }},
      {"NonAsciiPurpose", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.set_purpose("目的"); })); }},
      {"UserWithEscape", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.set_user("\x1b[2Jofficial"); })); }},
      {"MessageIdNotHex", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.set_message_id("not-an-id"); })); }},
      {"MessageIdUppercase", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) { h.set_message_id(std::string(32, 'A')); }));
       }},
      {"MessageIdOfHundredKilobytes", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) { h.set_message_id(std::string(100 * 1024, 'a')); }));
       }},
      // Identifiers.
      {"UnknownClientSubsystem", Code::PERMISSION_DENIED,
       [](Corpus& c) {
         return c.Peer(c.Request(
             [](Header& h) { *h.mutable_client() = *ParseSubsystemId("JP/GOV/MHLW/unknown"); }));
       }},
      {"UnknownServiceSubsystem", Code::NOT_FOUND,
       [](Corpus& c) {
         return c.Peer(c.Request(
             [](Header& h) { *h.mutable_service() = *ParseSubsystemId("JP/MUNI/131016/nothing"); }));
       }},
      {"ServiceProvidedElsewhere", Code::NOT_FOUND,
       [](Corpus& c) {
         return c.Peer(c.Request([](Header& h) {
           *h.mutable_service() = *ParseSubsystemId("JP/GOV/MOJ/family-register");
         }));
       }},
      {"NotAMethodName", Code::INVALID_ARGUMENT,
       [](Corpus& c) { return c.Peer(c.Request([](Header& h) { h.set_method("GetResident"); })); }},
      // TLS identity of the calling server.
      {"SelfSignedTlsCertificate", Code::UNAVAILABLE,
       [](Corpus& c) {
         TestCredentials self_signed = c.federation.pki.MakeCa(TestFederation::kConsumerServer);
         return c.Peer(c.Request(), &self_signed);
       }},
      {"ForeignCaTlsCertificate", Code::UNAVAILABLE,
       [](Corpus& c) { return c.Peer(c.Request(), &c.federation.rogue_auth); }},
      {"UnregisteredServerTlsCertificate", Code::UNAVAILABLE,
       [](Corpus& c) { return c.Peer(c.Request(), &c.federation.unregistered_auth); }},
      {"ServerImpersonatingAnotherMember", Code::PERMISSION_DENIED,
       [](Corpus& c) { return c.Peer(c.Request(), &c.federation.moj_auth); }},
  };
  // Replays, of an exchange answered just before.
  auto replay = std::make_shared<v1::ExchangeRequest>();
  attacks.push_back({"ReplaySameIdSameBytes", Code::ALREADY_EXISTS,
                     [replay](Corpus& c) { return c.Peer(*replay); },
                     [replay](Corpus& c) {
                       *replay = c.Request();
                       EXPECT_TRUE(c.Peer(*replay).ok());
                     }});
  auto original = std::make_shared<v1::RequestHeader>();
  attacks.push_back({"ReplaySameIdOtherBytes", Code::ALREADY_EXISTS,
                     [original](Corpus& c) {
                       return c.Peer(c.Request([original](Header& h) {
                         h.set_message_id(original->message_id());
                         h.set_purpose("another purpose");
                       }));
                     },
                     [original](Corpus& c) {
                       v1::ExchangeRequest first = c.Request();
                       original->ParseFromString(first.request().header());
                       EXPECT_TRUE(c.Peer(first).ok());
                     }});
  return attacks;
}

// Method names against a grant of exactly one method (pension → test-backend GetResident).
std::vector<Attack> MethodPathAttacks() {
  // Names that are not "/package.Service/Method" are malformed (INVALID_ARGUMENT); well-formed
  // names other than the granted one are not granted (PERMISSION_DENIED). None is normalised.
  struct Trick {
    const char* name;
    const char* method;
    Code expected;
  };
  const Trick tricks[] = {
      {"MethodWithDotDot", "/renkei.municipal.v1.ResidentRegistry/../ResidentRegistry/GetResident",
       Code::INVALID_ARGUMENT},
      {"MethodWithDuplicateSlash", "//renkei.municipal.v1.ResidentRegistry/GetResident",
       Code::INVALID_ARGUMENT},
      {"MethodPercentEncoded", "/renkei.municipal.v1.ResidentRegistry%2FGetResident",
       Code::INVALID_ARGUMENT},
      {"MethodWithTrailingSlash", "/renkei.municipal.v1.ResidentRegistry/GetResident/",
       Code::INVALID_ARGUMENT},
      {"MethodInOtherCase", "/renkei.municipal.v1.residentregistry/getresident",
       Code::PERMISSION_DENIED},
      {"MethodWithQuery", "/renkei.municipal.v1.ResidentRegistry/GetResident?all=1",
       Code::PERMISSION_DENIED},
      {"MethodWithSuffix", "/renkei.municipal.v1.ResidentRegistry/GetResidentAll",
       Code::PERMISSION_DENIED},
  };
  std::vector<Attack> attacks;
  for (const Trick& trick : tricks) {
    const std::string method = trick.method;
    attacks.push_back({trick.name, trick.expected, [method](Corpus& c) {
                         SigningIdentity signer = c.federation.pki.consumer_signer;
                         return c.Peer(c.Request(
                             [method](Header& h) {
                               *h.mutable_client() = *ParseSubsystemId(kPension);
                               h.set_method(method);
                             },
                             &signer));
                       }});
  }
  return attacks;
}

// Local systems calling their own security server.
std::vector<Attack> LocalAttacks() {
  return {
      {"LocalClientSpoofingAnotherSubsystem", Code::PERMISSION_DENIED,
       [](Corpus& c) { return c.Local(c.federation.pension_client, kAllowance); }},
      {"LocalClientWithUnregisteredCertificate", Code::PERMISSION_DENIED,
       [](Corpus& c) { return c.Local(c.federation.stranger_client, kAllowance); }},
      {"LocalClientWithForeignCertificate", Code::UNAVAILABLE,
       [](Corpus& c) { return c.Local(c.federation.rogue_auth, kAllowance); }},
      {"LocalOversizedUser", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Local(c.federation.allowance_client, kAllowance,
                        {{"renkei-user", std::string(300, 'u')}});
       }},
      {"LocalSecondPurpose", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.Local(c.federation.allowance_client, kAllowance, {{"renkei-purpose", "other"}});
       }},
      {"LocalTooManySubjects", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         std::vector<std::pair<std::string, std::string>> subjects;
         for (int i = 0; i < 100; ++i) subjects.push_back({"renkei-subject", absl::StrCat(i)});
         return c.Local(c.federation.allowance_client, kAllowance, subjects);
       }},
      {"LocalUnknownServiceSubsystem", Code::NOT_FOUND,
       [](Corpus& c) {
         grpc::ClientContext context;
         LiveFederation::AddRenkeiMetadata(context, kAllowance, "JP/MUNI/131016/nothing",
                                           "131016-0001");
         GetResidentRequest request;
         municipal::v1::GetResidentResponse response;
         return c.federation.LocalRegistry(c.federation.allowance_client)
             ->GetResident(&context, request, &response);
       }},
  };
}

// renkei-* values only an attacker's own HTTP/2 client sends.
std::vector<Attack> RawHttp2Attacks() {
  auto raw = [](std::string name, std::string value) {
    return [name, value](Corpus& c) { return c.RawLocal({{name, value}}); };
  };
  using namespace std::string_literals;
  return {
      {"RawNulInUser", Code::INVALID_ARGUMENT, raw("renkei-user", "official\0-0042"s)},
      {"RawEscInPurpose", Code::INVALID_ARGUMENT, raw("renkei-purpose", "\x1b[2Jpurpose")},
      {"RawCrLfInPurpose", Code::INVALID_ARGUMENT,
       raw("renkei-purpose", "a\r\nrenkei-client: JP/GOV/MOJ/family-register")},
      {"RawDelInUser", Code::INVALID_ARGUMENT, raw("renkei-user", "user\x7f")},
      {"RawInvalidUtf8Subject", Code::INVALID_ARGUMENT, raw("renkei-subject", "131016-\xff" "0001")},
      {"RawLatin1Purpose", Code::INVALID_ARGUMENT, raw("renkei-purpose", "caf\xe9")},
      {"RawNulInClient", Code::INVALID_ARGUMENT,
       raw("renkei-client", std::string(kAllowance) + "\0" + "JP/GOV/MOJ/family-register"s)},
      {"RawNulInService", Code::INVALID_ARGUMENT,
       raw("renkei-service", std::string(kTestBackend) + "\0"s)},
      // HTTP/2 field names are lower case; no upper-case one is folded into a renkei-* key.
      {"RawUpperCaseHeaderName", Code::INVALID_ARGUMENT,
       [](Corpus& c) {
         return c.RawLocal({{"-renkei-purpose", ""}, {"Renkei-Purpose", "integration-test"}});
       }},
  };
}

std::vector<Attack> All() {
  std::vector<Attack> all = PeerAttacks();
  for (auto* more : {&MethodPathAttacks, &LocalAttacks, &RawHttp2Attacks}) {
    for (Attack& attack : more()) all.push_back(std::move(attack));
  }
  return all;
}

// The raw client itself works: with clean values it gets its answer.
TEST_F(AttackCorpus, TheRawHttp2ClientWithCleanValuesIsAnswered) {
  ASSERT_NE(corpus, nullptr) << "the federation did not start";
  std::string message_id;
  grpc::Status status = corpus->RawLocal({{"renkei-user", "official-0042"}}, &message_id);
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(message_id.size(), 32u);
}

INSTANTIATE_TEST_SUITE_P(Cases, AttackCorpus, ::testing::ValuesIn(All()),
                         [](const ::testing::TestParamInfo<Attack>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace renkei::testing
