// resident-registry: the sample municipality's resident registry service (a provider
// backend). It knows nothing of Renkei: its security server calls it with plain gRPC.
#include <cstddef>
#include <iostream>
#include <map>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/termination.h"
#include "deploy/demo/resident_fixture.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "municipal/v1/resident_registry.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7101", "Address to serve on.");

namespace {

using renkei::municipal::v1::GetResidenceCertificateRequest;
using renkei::municipal::v1::GetResidentRequest;
using renkei::municipal::v1::GetResidentResponse;
using renkei::municipal::v1::ResidenceCertificate;
using renkei::municipal::v1::Resident;

// Sizes of the issued copies: what renkei-bench measures as 1 KiB, 64 KiB and 1 MiB exchanges.
constexpr size_t kTextBytes = 1 << 10;
constexpr size_t kScanLowBytes = 64 << 10;
constexpr size_t kScanHighBytes = 1 << 20;

std::string JapaneseDate(const renkei::municipal::v1::Date& date) {
  return absl::StrFormat("%d年%d月%d日", date.year(), date.month(), date.day());
}

const char* RelationshipLabel(renkei::municipal::v1::Relationship relationship) {
  switch (relationship) {
    case renkei::municipal::v1::HEAD: return "世帯主";
    case renkei::municipal::v1::SPOUSE: return "妻・夫";
    case renkei::municipal::v1::CHILD: return "子";
    case renkei::municipal::v1::PARENT: return "父・母";
    default: return "その他";
  }
}

// The record as the text of a 住民票の写し: the resident, the household, the certification,
// then "以下余白" (the rest left blank) and ASCII spaces up to kTextBytes, so that every
// resident's copy has the same size. Deterministic; valid UTF-8.
std::string TextCopy(const Resident& r) {
  const auto& a = r.address();
  std::string head_of_household;
  for (const auto& member : r.household()) {
    if (member.relationship() == renkei::municipal::v1::HEAD) {
      head_of_household = member.name_kanji();
    }
  }
  std::string text = absl::StrCat(
      "住民票の写し\n", a.prefecture(), a.municipality(), " (地方公共団体コード ",
      a.local_government_code(), ")\n\n",
      "符号: ", r.resident_code(), "\n",
      "氏名: ", r.family_name_kanji(), " ", r.given_name_kanji(), "\n",
      "フリガナ: ", r.family_name_kana(), " ", r.given_name_kana(), "\n",
      "生年月日: ", JapaneseDate(r.birth_date()), "\n",
      "住所: 〒", a.postal_code(), " ", a.prefecture(), a.municipality(), a.street(),
      a.building().empty() ? "" : " ", a.building(), "\n",
      "世帯番号: ", r.household_id(), "\n",
      "世帯主: ", head_of_household, "\n\n世帯員:\n");
  for (const auto& member : r.household()) {
    absl::StrAppend(&text, "  ", RelationshipLabel(member.relationship()), " ",
                    member.name_kanji(), " (", member.name_kana(), ") ",
                    JapaneseDate(member.birth_date()), "生 ", member.resident_code(), "\n");
  }
  absl::StrAppend(&text, "\nこの写しは、住民票の原本と相違ないことを証明する。\n", a.municipality(),
                  "長\n以下余白\n");
  if (text.size() + 1 < kTextBytes) text.append(kTextBytes - 1 - text.size(), ' ');
  text.push_back('\n');
  return text;
}

// A "scan" of the printed copy: a binary PGM (P5) grayscale image of exactly `bytes` bytes,
// `width` pixels wide, its pixels a fixed pattern seeded by the resident code. The header's
// comment line is padded so that header plus pixels come out exact.
std::string ScanCopy(const Resident& r, const char* resolution, size_t bytes, size_t width) {
  constexpr size_t kHeaderRoom = 128;  // at least the header below, with its comment
  const size_t height = (bytes - kHeaderRoom) / width;
  std::string comment =
      absl::StrCat("# residence certificate ", r.resident_code(), " ", resolution);
  const std::string dimensions = absl::StrCat("\n", width, " ", height, "\n255\n");
  const size_t header_bytes = bytes - width * height;
  const size_t unpadded = 3 + comment.size() + dimensions.size();  // "P5\n" + comment + rest
  if (unpadded < header_bytes) comment.append(header_bytes - unpadded, ' ');
  std::string image = absl::StrCat("P5\n", comment, dimensions);
  unsigned seed = 0;
  for (unsigned char c : r.resident_code()) seed = seed * 31 + c;
  image.reserve(bytes);
  for (size_t y = 0; y < height; ++y) {
    for (size_t x = 0; x < width; ++x) {
      // Light paper with darker bands where lines of print would be.
      const bool print = (y / 8) % 3 == 1 && ((x + seed) / 5) % 7 != 0;
      image.push_back(static_cast<char>(print ? 40 + ((x * 7 + y * 13 + seed) & 63)
                                              : 230 + ((x ^ y ^ seed) & 15)));
    }
  }
  return image;
}

ResidenceCertificate Copy(const Resident& r, std::string media_type, std::string document) {
  ResidenceCertificate copy;
  copy.set_resident_code(r.resident_code());
  copy.set_media_type(std::move(media_type));
  copy.set_document(std::move(document));
  return copy;
}

// Every rendering of one resident's copy, made once at startup (about 1.1 MiB a resident), so
// that a call costs the backend no more than copying the document out.
struct Copies {
  explicit Copies(const Resident& r)
      : text(Copy(r, "text/plain; charset=utf-8", TextCopy(r))),
        scan_low(Copy(r, "image/x-portable-graymap", ScanCopy(r, "SCAN_LOW", kScanLowBytes, 256))),
        scan_high(Copy(r, "image/x-portable-graymap",
                       ScanCopy(r, "SCAN_HIGH", kScanHighBytes, 1024))) {}
  ResidenceCertificate text, scan_low, scan_high;
};

std::map<std::string, Copies> AllCopies(const std::map<std::string, Resident>& residents) {
  std::map<std::string, Copies> copies;
  for (const auto& [code, resident] : residents) copies.emplace(code, Copies(resident));
  return copies;
}

class ResidentRegistryService final
    : public renkei::municipal::v1::ResidentRegistry::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetResident(grpc::CallbackServerContext* context,
                                        const GetResidentRequest* request,
                                        GetResidentResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    auto it = residents_.find(request->resident_code());
    if (it == residents_.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   "no resident with code " + request->resident_code()));
      return reactor;
    }
    *response->mutable_resident() = it->second;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetResidenceCertificate(
      grpc::CallbackServerContext* context, const GetResidenceCertificateRequest* request,
      ResidenceCertificate* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    ResidenceCertificate Copies::*rendering = nullptr;
    switch (request->rendering()) {
      case GetResidenceCertificateRequest::TEXT: rendering = &Copies::text; break;
      case GetResidenceCertificateRequest::SCAN_LOW: rendering = &Copies::scan_low; break;
      case GetResidenceCertificateRequest::SCAN_HIGH: rendering = &Copies::scan_high; break;
      default: break;
    }
    if (rendering == nullptr) {
      reactor->Finish(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("rendering ", static_cast<int>(request->rendering()),
                       " is not one of TEXT (1), SCAN_LOW (2), SCAN_HIGH (3)")));
      return reactor;
    }
    auto it = copies_.find(request->resident_code());
    if (it == copies_.end()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   "no resident with code " + request->resident_code()));
      return reactor;
    }
    *response = it->second.*rendering;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::map<std::string, Resident> residents_ = renkei::demo::ChiyodaResidents();
  // Declared after residents_, from which it is built.
  const std::map<std::string, Copies> copies_ = AllCopies(residents_);
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Sample resident registry of 千代田区 (131016).\n"
                               "usage: resident-registry --listen HOST:PORT");
  absl::ParseCommandLine(argc, argv);
  const sigset_t signals = renkei::BlockTerminationSignals();

  ResidentRegistryService service;
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "resident-registry: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  std::cerr << "resident-registry: serving on " << absl::GetFlag(FLAGS_listen) << "\n";
  renkei::WaitForTerminationSignal(signals);
  server->Shutdown();
  return 0;
}
