// Every document of the peer conformance corpus (../shared/conformance/oasdiff, oasdiff's
// own test data) loads. The diff over it is tested where the diff lives.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "contract/loader.h"

namespace glidepath::contract {
namespace {

TEST(ContractConformance, EveryOasdiffDocumentLoads) {
  const std::filesystem::path corpus = GLIDEPATH_OASDIFF_CORPUS;
  if (!std::filesystem::is_directory(corpus)) {
    GTEST_SKIP() << "no conformance corpus at " << corpus;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (!entry.is_directory()) continue;
    for (const char* name : {"base.yaml", "revision.yaml"}) {
      if (std::filesystem::exists(entry.path() / name)) files.push_back(entry.path() / name);
    }
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 82U);
  for (const auto& file : files) {
    auto document = load_document_file(file);
    EXPECT_TRUE(document.ok()) << file << ": " << (document.ok() ? "" : document.error().message);
    if (document.ok()) {
      EXPECT_FALSE(document->operations.empty()) << file;
    }
  }
}

}  // namespace
}  // namespace glidepath::contract
