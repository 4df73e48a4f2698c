// The contract every Store implementation must keep, as one value-parameterized suite.
//
// A backend is instantiated by giving the suite a StoreBackend (see sqlite_store_test.cpp):
//   INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest, ::testing::Values(postgres_backend()),
//                            backend_name);
// Each test gets a fresh, empty database and a factory that opens Stores on it; opening a
// second Store on the same database is how the tests stand for a restart or a second
// process.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"
#include "store/store.h"

namespace glidepath::store::testing {

// Each call opens another Store on the same database.
using StoreFactory = std::function<core::Result<std::unique_ptr<Store>>()>;

struct StoreBackend {
  std::string name;  // the instantiation's name: "Sqlite"
  // Makes an empty database for one test, using `scratch_dir` (a fresh directory the
  // fixture removes afterwards) for any files, and returns a factory for it.
  std::function<core::Result<StoreFactory>(const std::filesystem::path& scratch_dir)> prepare;
};

std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info);
void PrintTo(const StoreBackend& backend, std::ostream* out);  // for test names in failures

// A fresh directory under the system temporary directory, removed on destruction.
class ScratchDirectory {
 public:
  ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  ~ScratchDirectory();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class StoreContractTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Another Store on this test's database; fails the test if it cannot be opened.
  std::unique_ptr<Store> open_another();

  std::unique_ptr<ScratchDirectory> scratch_;
  StoreFactory factory_;
  std::unique_ptr<Store> store_;
};

// --- Values for tests ---

// 2026-01-01T00:00:00Z plus `seconds`.
core::TimePoint at(int64_t seconds);

// A pending canary deployment of `service` from v1 to v2, with its `created` event, and a
// plan built by hand: 10% → pause 5m → 100%.
deploy::Deployment make_deployment(const std::string& id, const std::string& service,
                                   core::TimePoint started);

// A deployment with every field set away from its default, so a lossy round trip shows.
deploy::Deployment make_rich_deployment(const std::string& id, const std::string& service,
                                        core::TimePoint started);

// An API key whose hash is derived from `seed` (64 hex digits, unique per seed).
access::ApiKeyRecord make_api_key(const std::string& id, const std::string& consumer, int seed,
                                  core::TimePoint created);

access::UsageBucket make_bucket(const std::string& consumer, const std::string& service,
                                const std::string& operation, const std::string& status_class,
                                int64_t minute, uint64_t count, core::TimePoint first_seen,
                                core::TimePoint last_seen);

// A window whose counts, bytes and latency histogram (several buckets, one past the
// layout's end when `seed` is odd) all derive from `seed`, so windows made with different
// seeds differ in every field.
metrics::MetricWindow make_window(const std::string& service, const std::string& version,
                                  int64_t second, const std::string& gateway, int seed);

}  // namespace glidepath::store::testing
