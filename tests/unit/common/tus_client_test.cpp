// The tus client's pure parts: header values, upload state, Location
// resolution, the resume key, backoff; and the resume store on real files.
#include "valise/common/tus_client.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace valise::common;
using namespace std::chrono_literals;

namespace {

http_response response_with(std::vector<http_header> headers) {
  http_response r;
  r.status = 204;
  r.headers = std::move(headers);
  return r;
}

TEST(tus_metadata, keys_with_standard_padded_base64_values) {
  EXPECT_EQ(tus::encode_metadata({}), "");
  EXPECT_EQ(tus::encode_metadata({{"filename", "bundle.age"}, {"ticket", "T-1"}}),
            "filename YnVuZGxlLmFnZQ==,ticket VC0x");
  EXPECT_EQ(tus::encode_metadata({{"empty", ""}}), "empty ");
}

TEST(tus_sizes, plain_decimal_only) {
  EXPECT_EQ(tus::parse_size("0"), 0u);
  EXPECT_EQ(tus::parse_size("67108864"), 67108864u);
  EXPECT_EQ(tus::parse_size("18446744073709551615"), std::nullopt);  // 20 digits
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "0x10", "1e6", "12a"}) {
    EXPECT_EQ(tus::parse_size(bad), std::nullopt) << bad;
  }
}

TEST(tus_upload_state, from_head_and_patch_headers) {
  auto partial =
      tus::parse_upload_state(response_with({{"upload-offset", "100"}, {"Upload-Length", "300"}}));
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->offset, 100u);
  EXPECT_EQ(partial->length, 300u);
  EXPECT_FALSE(partial->complete());

  auto done = tus::parse_upload_state(response_with({{"Upload-Offset", "300"},
                                                     {"Upload-Length", "300"},
                                                     {"Valise-Bundle-Id", "b_1"},
                                                     {"Valise-Bundle-Sha256", "ab12"}}));
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->complete());
  EXPECT_EQ(done->bundle_id, "b_1");
  EXPECT_EQ(done->bundle_sha256, "ab12");

  auto deferred = tus::parse_upload_state(response_with({{"Upload-Offset", "5"}}));
  ASSERT_TRUE(deferred);
  EXPECT_FALSE(deferred->length);
  EXPECT_FALSE(deferred->complete());
}

TEST(tus_upload_state, missing_or_impossible_offsets_are_bad_responses) {
  for (auto headers :
       std::vector<std::vector<http_header>>{{},
                                             {{"Upload-Offset", "x"}},
                                             {{"Upload-Offset", "-1"}},
                                             {{"Upload-Offset", "301"}, {"Upload-Length", "300"}},
                                             {{"Upload-Offset", "1"}, {"Upload-Length", "many"}}}) {
    auto state = tus::parse_upload_state(response_with(headers));
    ASSERT_FALSE(state);
    EXPECT_EQ(state.error(), tus_errc::bad_response);
  }
}

TEST(tus_location, resolved_against_the_endpoint) {
  const std::string endpoint = "https://h.example:8443/api/v1/uploads";
  EXPECT_EQ(tus::resolve_location(endpoint, "/api/v1/uploads/u1").value(),
            "https://h.example:8443/api/v1/uploads/u1");
  EXPECT_EQ(tus::resolve_location(endpoint, "uploads/u2").value(),
            "https://h.example:8443/api/v1/uploads/u2");
  EXPECT_EQ(tus::resolve_location(endpoint, "https://other.example/x").value(),
            "https://other.example/x");  // refused later by https_client (other origin)
  EXPECT_FALSE(tus::resolve_location(endpoint, ""));
  EXPECT_FALSE(tus::resolve_location("not a url", "/x"));
}

TEST(tus_resume_key, stable_hex_and_sensitive_to_every_field) {
  const tus::upload_identity id{.endpoint = "https://h:1/api/v1/uploads",
                                .path = "/tmp/a.age",
                                .size = 10,
                                .mtime_ns = 1234,
                                .metadata = "filename YS5hZ2U="};
  const auto key = tus::resume_key(id);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(tus::resume_key(id), key);

  auto other = id;
  other.endpoint = "https://h:2/api/v1/uploads";
  EXPECT_NE(tus::resume_key(other), key);
  other = id;
  other.path = "/tmp/b.age";
  EXPECT_NE(tus::resume_key(other), key);
  other = id;
  other.size = 11;
  EXPECT_NE(tus::resume_key(other), key);
  other = id;
  other.mtime_ns = 1235;
  EXPECT_NE(tus::resume_key(other), key);
  other = id;
  other.metadata += ",ticket VC0x";
  EXPECT_NE(tus::resume_key(other), key);
  // Fields are delimited: moving a character from one to the next changes the key.
  other = id;
  other.endpoint += "/";
  other.path = other.path.substr(1);
  EXPECT_NE(tus::resume_key(other), key);
}

TEST(tus_backoff, doubles_up_to_the_cap_with_bounded_jitter) {
  EXPECT_EQ(tus::backoff_delay(1, 1000ms, 30000ms, 0.0), 1000ms);
  EXPECT_EQ(tus::backoff_delay(2, 1000ms, 30000ms, 0.0), 2000ms);
  EXPECT_EQ(tus::backoff_delay(5, 1000ms, 30000ms, 0.0), 16000ms);
  EXPECT_EQ(tus::backoff_delay(6, 1000ms, 30000ms, 0.0), 30000ms);
  EXPECT_EQ(tus::backoff_delay(200, 1000ms, 30000ms, 0.0), 30000ms);
  EXPECT_EQ(tus::backoff_delay(1, 1000ms, 30000ms, 0.999), 1249ms);
  EXPECT_LE(tus::backoff_delay(200, 1000ms, 30000ms, 1.0), 37500ms);
}

TEST(tus_transient, network_failures_and_retryable_statuses_only) {
  for (auto e : {http_errc::timeout, http_errc::connection_closed, http_errc::connection_refused,
                 http_errc::unreachable}) {
    EXPECT_TRUE(tus::is_transient(make_error_code(e)));
  }
  for (unsigned s : {408u, 423u, 429u, 500u, 502u, 503u, 504u}) {
    EXPECT_TRUE(tus::is_transient(make_status_error(s))) << s;
  }
  for (auto e : {http_errc::certificate_untrusted, http_errc::certificate_name_mismatch,
                 http_errc::invalid_url, http_errc::protocol_error}) {
    EXPECT_FALSE(tus::is_transient(make_error_code(e)));
  }
  for (unsigned s : {400u, 401u, 403u, 404u, 409u, 410u, 413u, 415u, 460u, 507u}) {
    EXPECT_FALSE(tus::is_transient(make_status_error(s))) << s;
  }
  EXPECT_FALSE(tus::is_transient(std::make_error_code(std::errc::io_error)));
  EXPECT_FALSE(tus::is_transient(make_error_code(tus_errc::checksum_mismatch)));
}

class resume_store_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("valise-resume-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  const std::string key_ = std::string(64, 'a');
  const tus::upload_identity id_{.endpoint = "https://h:1/api/v1/uploads",
                                 .path = "/tmp/a.age",
                                 .size = 10,
                                 .mtime_ns = 1,
                                 .metadata = ""};
};

TEST_F(resume_store_test, saves_loads_and_forgets_in_a_private_directory) {
  resume_store store(dir_ / "uploads");
  EXPECT_EQ(store.load(key_), std::nullopt);
  ASSERT_TRUE(store.save(key_, "https://h:1/api/v1/uploads/u1", id_));
  EXPECT_EQ(store.load(key_), "https://h:1/api/v1/uploads/u1");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "uploads").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_ / "uploads" / (key_ + ".json")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  ASSERT_TRUE(store.save(key_, "https://h:1/api/v1/uploads/u2", id_));
  EXPECT_EQ(store.load(key_), "https://h:1/api/v1/uploads/u2");
  store.remove(key_);
  EXPECT_EQ(store.load(key_), std::nullopt);
}

TEST_F(resume_store_test, damaged_or_foreign_files_are_ignored) {
  resume_store store(dir_);
  fs::create_directories(dir_);
  std::ofstream(dir_ / (key_ + ".json")) << "{not json";
  EXPECT_EQ(store.load(key_), std::nullopt);
  std::ofstream(dir_ / (key_ + ".json")) << R"({"upload_url": 5})";
  EXPECT_EQ(store.load(key_), std::nullopt);
  // Keys are hex digests: nothing else can name a file (no "../").
  EXPECT_FALSE(store.save("../escape", "https://h:1/x", id_));
  EXPECT_EQ(store.load("../escape"), std::nullopt);
}

TEST_F(resume_store_test, prune_forgets_old_uploads_only) {
  resume_store store(dir_);
  const std::string old_key(64, 'b');
  ASSERT_TRUE(store.save(key_, "https://h:1/new", id_));
  ASSERT_TRUE(store.save(old_key, "https://h:1/old", id_));
  fs::last_write_time(dir_ / (old_key + ".json"),
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 40));
  std::ofstream(dir_ / "unrelated.txt") << "kept";
  store.prune(std::chrono::hours(24 * 30));
  EXPECT_EQ(store.load(key_), "https://h:1/new");
  EXPECT_EQ(store.load(old_key), std::nullopt);
  EXPECT_TRUE(fs::exists(dir_ / "unrelated.txt"));
}

}  // namespace
