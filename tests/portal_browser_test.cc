// The resident portal in a real browser: Playwright drives Debian's Chromium
// (tests/browser/portal_test.mjs) through sign-in, the records and the verified marks, the
// consistency of the tree head with one seen before, the key fingerprint, and records changed
// in transit.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

TEST(PortalBrowser, ResidentSignsInAndSeesVerifiedRecords) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "install chromium (deploy/setup-debian.sh)";
  // node_modules is installed beside the script in the source tree (deploy/setup-debian.sh).
  const std::string script = std::filesystem::canonical(Runfile("tests/browser/portal_test.mjs"));
  ASSERT_TRUE(std::filesystem::exists(std::filesystem::path(script).parent_path() /
                                      "node_modules/playwright-core"))
      << "run npm ci in tests/browser (deploy/setup-debian.sh does)";

  LiveFederationOptions options;
  options.use_broker = true;
  options.portal = true;
  LiveFederation federation("portal_browser_test", options);
  ASSERT_TRUE(federation.Start());
  PrivateKey key = PrivateKey::GenerateP256();
  ASSERT_TRUE(federation.EnrollResident("131016-0005", key).ok());
  auto exchange = [&] {
    grpc::ClientContext context;
    LiveFederation::AddRenkeiMetadata(context, kAllowance, kRegistry, "131016-0005");
    municipal::v1::GetResidentRequest request;
    request.set_resident_code("131016-0005");
    municipal::v1::GetResidentResponse response;
    return federation.LocalRegistry(federation.allowance_client)
        ->GetResident(&context, request, &response)
        .ok();
  };
  // Until `count` records are in a signed tree head, as the resident API reports.
  auto all_in_a_tree_head = [&](int count) {
    return LiveFederation::Eventually([&] {
      auto token = federation.SignIn("131016-0005", key);
      if (!token.ok()) return false;
      grpc::ClientContext context;
      v1::ListRecordsRequest request;
      request.set_session_token(*token);
      request.set_page_size(100);
      v1::ListRecordsResponse page;
      return federation.Residents()->ListRecords(&context, request, &page).ok() &&
             page.records_size() == count && page.pending() == 0;
    });
  };
  constexpr int kSeenExchanges = 3;
  constexpr int kExchanges = 23;  // more than one page of 20
  for (int i = 0; i < kSeenExchanges; ++i) ASSERT_TRUE(exchange());
  ASSERT_TRUE(all_in_a_tree_head(kSeenExchanges));
  // The tree head the browser is made to have seen: the portal must prove that the later one,
  // which the records are proven against, extends it.
  v1::SignedTreeHead seen;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(
        federation.Residents()->GetTreeHead(&context, v1::GetTreeHeadRequest(), &seen).ok());
  }
  for (int i = kSeenExchanges; i < kExchanges; ++i) ASSERT_TRUE(exchange());
  ASSERT_TRUE(all_in_a_tree_head(kExchanges));

  const std::string d = federation.directory + "/";
  ASSERT_TRUE(WriteFileAtomically(d + "resident.key", key.Pem(), 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "other.key", PrivateKey::GenerateP256().Pem(), 0600).ok());
  Process node("/usr/bin/node",
               {script, absl::StrCat("http://127.0.0.1:", federation.portal_port, "/"),
                "131016-0005", d + "resident.key", d + "other.key", std::to_string(kExchanges),
                std::to_string(seen.tree_size()), absl::Base64Escape(seen.root_hash()),
                federation.configuration_signer.certificate.fingerprint()},
               d + "playwright.log");
  int status = node.Wait(180);
  std::ifstream log(d + "playwright.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  std::cout << text;
  EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
}

}  // namespace
}  // namespace renkei::testing
