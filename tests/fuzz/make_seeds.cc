// Writes the committed seed corpora of the fuzz targets (tests/fuzz/corpus/) from real
// objects: a signed request as a consumer's server sends it, a record batch and receipt as
// the ledger exchanges them, a configuration as an operator writes it. Run by hand:
//   bazel run //tests/fuzz:make_seeds -- $PWD/tests/fuzz/corpus
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/envelope.h"
#include "common/identifiers.h"
#include "common/ledger_receipt.h"
#include "common/signed_configuration.h"
#include "google/protobuf/text_format.h"
#include "renkei/v1/peer.pb.h"
#include "security_server/test_federation.h"

namespace renkei {
namespace {

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

int Main(const std::string& root) {
  TestFederation pki;
  v1::RequestHeader header;
  header.set_message_id(NewMessageId());
  *header.mutable_created_at() = ToTimestamp(absl::Now());
  *header.mutable_client() = *ParseSubsystemId(TestFederation::kClient);
  *header.mutable_service() = *ParseSubsystemId(TestFederation::kService);
  header.set_method("/renkei.municipal.v1.ResidentRegistry/GetResident");
  header.add_subjects("131016-0001");
  header.set_purpose("child-allowance-act/art7/eligibility");
  header.set_payload_sha256(Sha256("payload"));
  v1::ExchangeRequest request;
  *request.mutable_request() =
      *SignHeader(SignedType::kRequestHeader, header.SerializeAsString(), pki.consumer_signer);
  request.set_payload("payload");
  Write(root + "/envelope/signed_request", request.SerializeAsString());

  v1::AccessRecord record;
  record.set_message_id(header.message_id());
  *record.mutable_time() = header.created_at();
  record.set_client(TestFederation::kClient);
  record.set_service(TestFederation::kService);
  record.set_method(header.method());
  record.set_purpose(header.purpose());
  record.add_subject_pseudonyms(std::string(32, 'p'));
  record.set_recorded_by("JP/MUNI/131016/ss1");
  v1::RecordBatch batch;
  v1::ShippedRecord* shipped = batch.add_records();
  shipped->set_record(record.SerializeAsString());
  *shipped->mutable_request() = request.request();
  Write(root + "/ledger_records/access_record", record.SerializeAsString());
  Write(root + "/ledger_records/record_batch", batch.SerializeAsString());
  v1::LedgerReceipt receipt;
  receipt.set_recorded_by(record.recorded_by());
  receipt.set_message_id(record.message_id());
  receipt.set_record_sha256(Sha256(record.SerializeAsString()));
  Write(root + "/ledger_records/receipt",
        SignLedgerReceipt(receipt, pki.provider_signer.key)->SerializeAsString());

  std::string text;
  google::protobuf::TextFormat::PrintToString(pki.configuration, &text);
  Write(root + "/configuration/global.textproto", text);
  Write(root + "/configuration/signed",
        SignConfiguration(pki.configuration, pki.provider_signer.key)->SerializeAsString());

  Write(root + "/identifiers/member", "JP/MUNI/131016");
  Write(root + "/identifiers/subsystem", "JP/GOV/MHLW/child-allowance");
  Write(root + "/identifiers/server", "JP/MUNI/131016/ss1");
  Write(root + "/resident/challenge",
        "renkei-sign-in-v1:" + ToHex(std::string(56, '\x01')));
  Write(root + "/resident/session", ToHex(std::string(32, '\x02')));
  return 0;
}

}  // namespace
}  // namespace renkei

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds CORPUS_ROOT\n";
    return 1;
  }
  return renkei::Main(argv[1]);
}
