// Interoperability: the Python gRPC client (tests/python_client.py, Debian's python3-grpcio)
// calls the resident registry through a live federation.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "gtest/gtest.h"
#include "tests/live_federation.h"

namespace renkei::testing {
namespace {

TEST(PythonClient, CallsTheResidentRegistryThroughTheSecurityServer) {
  LiveFederation federation("python_client_test");
  ASSERT_TRUE(federation.Start());
  const std::string d = federation.directory + "/";
  ASSERT_TRUE(WriteFileAtomically(d + "py-client.pem", federation.allowance_client.certificate.Pem(), 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "py-client.key", federation.allowance_client.key.Pem(), 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "py-other.pem", federation.pension_client.certificate.Pem(), 0644).ok());
  ASSERT_TRUE(WriteFileAtomically(d + "py-other.key", federation.pension_client.key.Pem(), 0600).ok());

  const std::string stubs = ScratchDirectory("python_stubs");
  const std::string schemas = Runfile("schemas");
  Process protoc("/usr/bin/protoc",
                 {"-I" + schemas, "--python_out=" + stubs,
                  schemas + "/municipal/v1/resident_registry.proto"},
                 d + "protoc.log");
  int status = protoc.Wait(60);
  ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "protoc failed, see " << d << "protoc.log";

  const std::string output = d + "python.log";
  Process python("/usr/bin/python3",
                 {Runfile("tests/python_client.py"), "--address",
                  absl::StrCat("127.0.0.1:", federation.consumer_local_port), "--stubs", stubs,
                  "--ca", federation.local_ca_file, "--cert", d + "py-client.pem", "--key",
                  d + "py-client.key", "--other-cert", d + "py-other.pem", "--other-key",
                  d + "py-other.key"},
                 output);
  status = python.Wait(120);
  std::ifstream log(output);
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << text;
  EXPECT_NE(text.find("ok   family name 齋藤 byte-exact"), std::string::npos) << text;
  std::cout << text;
}

}  // namespace
}  // namespace renkei::testing
