// The tus handler as request/response tables per method, over a real store in
// a temporary directory.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <map>

#include "api/upload_service.hpp"
#include "ticket_store_fixture.hpp"
#include "tus/tus_headers.hpp"

namespace valise::server::tus {
namespace {

constexpr std::string_view age_header = "age-encryption.org/v1\n-> X25519 abc\n";
constexpr unix_time now = 1'800'000'000;

using header_list = std::vector<std::pair<std::string, std::string>>;

request_head make_head(http::verb method, const header_list& headers) {
  request_head head;
  head.method(method);
  head.target("/api/v1/uploads");
  head.version(11);
  for (const auto& [k, v] : headers) head.set(k, v);
  return head;
}

struct reply {
  unsigned status = 0;
  response res;
  std::string header(const std::string& name) const { return std::string(res[name]); }
};

// Runs an outcome to its response, streaming `body` through a receiver.
reply complete(outcome o, std::string_view body) {
  if (auto* res = std::get_if<response>(&o)) return {res->result_int(), std::move(*res)};
  auto& receiver = std::get<std::unique_ptr<body_receiver>>(o);
  std::size_t at = 0;
  while (at < body.size()) {  // in uneven pieces, as a socket delivers them
    std::size_t n = std::min<std::size_t>(7 + at % 13, body.size() - at);
    auto stop = receiver->write({reinterpret_cast<const std::uint8_t*>(body.data() + at), n});
    if (stop) return {stop->result_int(), std::move(*stop)};
    at += n;
  }
  // finish() completes on the receiver's worker thread: awaited as the
  // connection does.
  boost::asio::io_context io;
  response res;
  boost::asio::co_spawn(io, receiver->finish(), [&](std::exception_ptr e, response r) {
    if (e) std::rethrow_exception(e);
    res = std::move(r);
  });
  io.run();
  return {res.result_int(), std::move(res)};
}

class TusService : public fixtures::ticket_store_test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_store(now));
    ASSERT_TRUE(
        db_->create_ticket(technician_, {.ref = "T-2", .title = "other", .created_at = now}));
    auto link = db_->create_link(technician_, "T-1", {.expires_at = now + 3600, .max_bytes = 1000});
    ASSERT_TRUE(link);
    auto link_actor = db_->authenticate(link->secret, now);
    ASSERT_TRUE(link_actor);
    link_ = *link_actor;
    tus_.emplace(
        *db_, uploads::limits{.max_upload_bytes = 500, .expires_after = std::chrono::seconds(3600)},
        stats_);
  }
  void TearDown() override {
    tus_.reset();
    close_store();
  }

  // Creates an upload of `length` bytes with the link; returns its id.
  std::string create(std::uint64_t length) {
    auto r = complete(
        tus_->create(make_head(http::verb::post, {{"Tus-Resumable", "1.0.0"},
                                                  {"Upload-Length", std::to_string(length)},
                                                  {"Upload-Metadata", "filename bG9ncy5hZ2U="}}),
                     link_, now),
        "");
    EXPECT_EQ(r.status, 201u) << r.res.body();
    auto location = r.header("Location");
    return location.substr(location.rfind('/') + 1);
  }

  // A creation of `length` bytes carrying `body` (creation-with-upload).
  reply create_with_upload(upload_service& service, std::uint64_t length, std::string_view body) {
    return complete(service.create(make_head(http::verb::post,
                                             {{"Tus-Resumable", "1.0.0"},
                                              {"Upload-Length", std::to_string(length)},
                                              {"Content-Type", "application/offset+octet-stream"},
                                              {"Content-Length", std::to_string(body.size())}}),
                                   link_, now),
                    body);
  }

  reply patch(const std::string& id, const header_list& headers, std::string_view body,
              const actor* who = nullptr) {
    return complete(tus_->patch(make_head(http::verb::patch, headers), who ? *who : link_, id, now),
                    body);
  }

  reply head(const std::string& id, const actor* who = nullptr) {
    auto res = tus_->head(make_head(http::verb::head, {{"Tus-Resumable", "1.0.0"}}),
                          who ? *who : link_, id, now);
    return {res.result_int(), std::move(res)};
  }

  static header_list patch_headers(std::uint64_t offset, header_list extra = {}) {
    header_list h{{"Tus-Resumable", "1.0.0"},
                  {"Content-Type", "application/offset+octet-stream"},
                  {"Upload-Offset", std::to_string(offset)}};
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  }

  actor link_;
  metrics stats_;
  std::optional<upload_service> tus_;
};

TEST_F(TusService, OptionsAdvertisesVersionExtensionsAndLimits) {
  auto res = tus_->options();
  EXPECT_EQ(res.result_int(), 204u);
  EXPECT_EQ(res["Tus-Version"], "1.0.0");
  EXPECT_EQ(res["Tus-Extension"], extensions);
  EXPECT_EQ(res["Tus-Max-Size"], "500");
  EXPECT_EQ(res["Tus-Checksum-Algorithm"], "sha1,sha256");
}

TEST_F(TusService, PostTable) {
  struct row {
    const char* name;
    header_list headers;
    const actor* who;
    unsigned status;
  };
  const header_list base{{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "100"}};
  auto with = [&](header_list extra) {
    header_list h = base;
    h.insert(h.end(), extra.begin(), extra.end());
    return h;
  };
  std::vector<row> rows{
      {"link upload", base, &link_, 201},
      {"link, deferred length",
       {{"Tus-Resumable", "1.0.0"}, {"Upload-Defer-Length", "1"}},
       &link_,
       201},
      {"technician, deferred length",
       {{"Tus-Resumable", "1.0.0"},
        {"Upload-Defer-Length", "1"},
        {"Upload-Metadata", "ticket VC0x"}},
       &technician_,
       201},
      {"no tus version", {{"Upload-Length", "100"}}, &link_, 412},
      {"old tus version", {{"Tus-Resumable", "0.2.2"}, {"Upload-Length", "100"}}, &link_, 412},
      {"no length", {{"Tus-Resumable", "1.0.0"}}, &link_, 400},
      {"both lengths", with({{"Upload-Defer-Length", "1"}}), &link_, 400},
      {"negative length", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "-5"}}, &link_, 400},
      {"over max size", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "501"}}, &link_, 413},
      {"too small for age", {{"Tus-Resumable", "1.0.0"}, {"Upload-Length", "3"}}, &link_, 415},
      {"bad metadata", with({{"Upload-Metadata", "filename %%%"}}), &link_, 400},
      {"link names its own ticket", with({{"Upload-Metadata", "ticket VC0x"}}), &link_, 201},
      {"link names another ticket", with({{"Upload-Metadata", "ticket VC0y"}}), &link_, 403},
      {"technician without ticket", base, &technician_, 400},
      {"technician with ticket", with({{"Upload-Metadata", "ticket VC0y"}}), &technician_, 201},
      {"technician, unknown ticket", with({{"Upload-Metadata", "ticket VC05"}}), &technician_, 404},
      {"body of the wrong type", with({{"Content-Type", "text/plain"}, {"Content-Length", "5"}}),
       &link_, 415},
  };
  for (const auto& r : rows) {
    auto got = complete(tus_->create(make_head(http::verb::post, r.headers), *r.who, now), "");
    EXPECT_EQ(got.status, r.status) << r.name << ": " << got.res.body();
    EXPECT_EQ(got.header("Tus-Resumable"), "1.0.0") << r.name;
    if (r.status == 201) {
      EXPECT_EQ(got.header("Location").rfind("/api/v1/uploads/upl_", 0), 0u) << r.name;
      EXPECT_FALSE(got.header("Upload-Expires").empty()) << r.name;
    }
    if (r.status == 412) {
      EXPECT_EQ(got.header("Tus-Version"), "1.0.0") << r.name;
    }
  }
}

TEST_F(TusService, PostOverTheLinksBudgetIs413) {
  create(400);
  create(400);
  auto got = complete(tus_->create(make_head(http::verb::post, {{"Tus-Resumable", "1.0.0"},
                                                                {"Upload-Length", "400"}}),
                                   link_, now),
                      "");
  EXPECT_EQ(got.status, 413u) << got.res.body();
}

TEST_F(TusService, CreationWithUploadStoresTheFirstBytes) {
  std::string body(age_header);
  auto got = create_with_upload(*tus_, 100, body);
  EXPECT_EQ(got.status, 201u) << got.res.body();
  EXPECT_EQ(got.header("Upload-Offset"), std::to_string(body.size()));
}

// The cluster's lock out of reach (the database down) when a creation
// carries bytes: the upload exists, so its Location goes back, at offset 0,
// with nothing read (it used to dereference the missing lease and crash).
TEST_F(TusService, CreationWithUploadWithoutItsClusterLockReadsNothing) {
  struct unreachable_locks final : upload_locks {
    bool try_lock(const std::string&) override { return false; }
    bool held(const std::string&) override { return false; }
    void unlock(const std::string&) override {}
  } locks;
  upload_service cut_off(
      *db_, uploads::limits{.max_upload_bytes = 500, .expires_after = std::chrono::seconds(3600)},
      stats_, &locks);
  auto got = create_with_upload(cut_off, 100, age_header);
  EXPECT_EQ(got.status, 201u) << got.res.body();
  EXPECT_EQ(got.header("Upload-Offset"), "0");
  auto location = got.header("Location");
  ASSERT_FALSE(location.empty());
  EXPECT_EQ(head(location.substr(location.rfind('/') + 1)).header("Upload-Offset"), "0");
}

// A cluster lock that a test can take away (the database ended its
// session) and give to another process.
struct losable_locks final : upload_locks {
  bool lost = false;
  bool elsewhere = false;  // another process took it meanwhile
  int taken = 0;
  bool try_lock(const std::string&) override {
    if (elsewhere) return false;
    lost = false;
    ++taken;
    return true;
  }
  bool held(const std::string&) override { return !lost; }
  void unlock(const std::string&) override {}
};

// An upload of 100 bytes on a node of a cluster, its first 40 sent; then
// the rest, the cluster's lock lost while it streams (its database session
// ended).
class ClusteredTusService : public TusService {
 protected:
  void SetUp() override {
    TusService::SetUp();
    clustered_.emplace(
        *db_, uploads::limits{.max_upload_bytes = 500, .expires_after = std::chrono::seconds(3600)},
        stats_, &locks_);
    content_.resize(100, 'z');
    id_ = create(content_.size());
    auto first = send(0, 40);
    ASSERT_EQ(first.status, 204u) << first.res.body();
  }
  void TearDown() override {
    clustered_.reset();
    TusService::TearDown();
  }
  reply send(std::uint64_t offset, std::size_t n = std::string::npos) {
    return complete(
        clustered_->patch(make_head(http::verb::patch, patch_headers(offset)), link_, id_, now),
        std::string_view(content_).substr(offset, n));
  }
  reply send_the_rest_losing_the_lock(bool to_another_node) {
    auto streaming =
        clustered_->patch(make_head(http::verb::patch, patch_headers(40)), link_, id_, now);
    locks_.lost = true;  // while the body arrives
    locks_.elsewhere = to_another_node;
    return complete(std::move(streaming), std::string_view(content_).substr(40));
  }
  std::string content_sha256() const {
    digest check(EVP_sha256());
    check.update({reinterpret_cast<const std::uint8_t*>(content_.data()), content_.size()});
    return check.final_hex();
  }

  losable_locks locks_;
  std::optional<upload_service> clustered_;
  std::string content_{age_header};
  std::string id_;
};

TEST_F(ClusteredTusService, APatchWhoseLockWentToAnotherNodeCompletesNothing) {
  auto refused = send_the_rest_losing_the_lock(true);
  EXPECT_EQ(refused.status, 423u) << refused.res.body();
  EXPECT_TRUE(refused.header("Valise-Bundle-Id").empty());
  auto h = head(id_);
  EXPECT_EQ(h.header("Upload-Offset"), "100");  // the file is left as it is
  EXPECT_TRUE(h.header("Valise-Bundle-Id").empty());
  // The other node lets go; the next PATCH, at the end, completes it with
  // the hash caught up from the file.
  locks_.elsewhere = false;
  auto done = send(100);
  ASSERT_EQ(done.status, 204u) << done.res.body();
  EXPECT_EQ(done.header("Valise-Bundle-Sha256"), content_sha256());
}

TEST_F(ClusteredTusService, APatchWhoseLockNobodyTookTakesItBackAndCompletes) {
  auto done = send_the_rest_losing_the_lock(false);
  ASSERT_EQ(done.status, 204u) << done.res.body();
  EXPECT_EQ(locks_.taken, 3);  // each PATCH's lease, and once again
  EXPECT_EQ(done.header("Valise-Bundle-Sha256"), content_sha256());
}

TEST_F(TusService, PatchTable) {
  struct row {
    const char* name;
    header_list headers;
    std::string body;
    unsigned status;
    std::string offset_after;  // from HEAD
  };
  std::string chunk(age_header);
  std::vector<row> rows{
      {"no tus version",
       {{"Content-Type", "application/offset+octet-stream"}, {"Upload-Offset", "0"}},
       chunk,
       412,
       "0"},
      {"wrong content type",
       {{"Tus-Resumable", "1.0.0"}, {"Content-Type", "text/plain"}, {"Upload-Offset", "0"}},
       chunk,
       415,
       "0"},
      {"no offset",
       {{"Tus-Resumable", "1.0.0"}, {"Content-Type", "application/offset+octet-stream"}},
       chunk,
       400,
       "0"},
      {"wrong offset", patch_headers(5), chunk, 409, "0"},
      {"first bytes", patch_headers(0), chunk, 204, std::to_string(chunk.size())},
      {"stale offset", patch_headers(0), chunk, 409, std::to_string(chunk.size())},
      {"unknown checksum", patch_headers(chunk.size(), {{"Upload-Checksum", "md5 AAAA"}}), "x", 400,
       std::to_string(chunk.size())},
      {"checksum mismatch drops the bytes",
       patch_headers(chunk.size(), {{"Upload-Checksum", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="}}),
       "abc", 460, std::to_string(chunk.size())},
      {"matching checksum",
       patch_headers(chunk.size(), {{"Upload-Checksum", "sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0="}}),
       "abc", 204, std::to_string(chunk.size() + 3)},
      {"past the length", patch_headers(chunk.size() + 3), std::string(200, 'x'), 413, ""},
  };
  auto id = create(100);
  for (const auto& r : rows) {
    auto got = patch(id, r.headers, r.body);
    EXPECT_EQ(got.status, r.status) << r.name << ": " << got.res.body();
    if (!r.offset_after.empty()) {
      auto h = head(id);
      EXPECT_EQ(h.header("Upload-Offset"), r.offset_after) << r.name;
    }
  }
  EXPECT_EQ(patch("upl_nonexistent", patch_headers(0), chunk).status, 404u);
}

TEST_F(TusService, PlaintextIsRefusedAtTheFirstByteAndDeleted) {
  auto id = create(100);
  auto got = patch(id, patch_headers(0), "Password=hunter2 and other plaintext");
  EXPECT_EQ(got.status, 415u);
  EXPECT_NE(got.res.body().find("not_age_encrypted"), std::string::npos);
  EXPECT_EQ(head(id).status, 410u);
  EXPECT_EQ(stats_.uploads_refused.load(), 1u);
  // Not even the first byte stayed on disk.
  for (auto& entry : std::filesystem::recursive_directory_iterator(dir_))
    if (entry.is_regular_file() && entry.path().parent_path().filename() == "uploads")
      ADD_FAILURE() << "left behind: " << entry.path();
}

TEST_F(TusService, ThePrefixCheckSpansPatches) {
  auto id = create(100);
  EXPECT_EQ(patch(id, patch_headers(0), "age-enc").status, 204u);
  EXPECT_EQ(patch(id, patch_headers(7), "ryption.org/v2\n").status, 415u);
}

TEST_F(TusService, CompletionMakesABundleAndHeadReportsIt) {
  std::string content(age_header);
  content.resize(100, 'z');
  auto id = create(content.size());
  EXPECT_EQ(patch(id, patch_headers(0), content.substr(0, 40)).status, 204u);
  auto done = patch(id, patch_headers(40), content.substr(40));
  ASSERT_EQ(done.status, 204u) << done.res.body();
  EXPECT_EQ(done.header("Upload-Offset"), "100");
  auto bundle_id = done.header("Valise-Bundle-Id");
  ASSERT_FALSE(bundle_id.empty());
  auto bundle = db_->get_bundle(bundle_id);
  ASSERT_TRUE(bundle);
  EXPECT_EQ(bundle->size, 100u);
  EXPECT_EQ(bundle->filename, "logs.age");
  EXPECT_EQ(bundle->ticket_ref, "T-1");
  EXPECT_EQ(bundle->sha256, done.header("Valise-Bundle-Sha256"));
  digest check(EVP_sha256());
  check.update({reinterpret_cast<const std::uint8_t*>(content.data()), content.size()});
  EXPECT_EQ(bundle->sha256, check.final_hex());
  auto h = head(id);
  EXPECT_EQ(h.status, 200u);
  EXPECT_EQ(h.header("Upload-Offset"), "100");
  EXPECT_EQ(h.header("Valise-Bundle-Id"), bundle_id);
}

TEST_F(TusService, DeferredLengthIsSetByALaterPatch) {
  auto got =
      complete(tus_->create(make_head(http::verb::post, {{"Tus-Resumable", "1.0.0"},
                                                         {"Upload-Defer-Length", "1"},
                                                         {"Upload-Metadata", "ticket VC0x"}}),
                            technician_, now),
               "");
  ASSERT_EQ(got.status, 201u);
  auto id = got.header("Location").substr(got.header("Location").rfind('/') + 1);
  EXPECT_EQ(head(id, &technician_).header("Upload-Defer-Length"), "1");
  std::string content(age_header);
  auto done = patch(id, patch_headers(0, {{"Upload-Length", std::to_string(content.size())}}),
                    content, &technician_);
  EXPECT_EQ(done.status, 204u) << done.res.body();
  EXPECT_FALSE(done.header("Valise-Bundle-Id").empty());
}

TEST_F(TusService, AnInterruptedPatchKeepsItsBytes) {
  auto id = create(100);
  {
    auto o = tus_->patch(make_head(http::verb::patch, patch_headers(0)), link_, id, now);
    auto& receiver = std::get<std::unique_ptr<body_receiver>>(o);
    std::string part(age_header);
    EXPECT_FALSE(
        receiver->write({reinterpret_cast<const std::uint8_t*>(part.data()), part.size()}));
    // The connection drops: the receiver goes away without finish().
  }
  EXPECT_EQ(head(id).header("Upload-Offset"), std::to_string(age_header.size()));
}

TEST_F(TusService, OnePatchAtATime) {
  auto id = create(100);
  auto first = tus_->patch(make_head(http::verb::patch, patch_headers(0)), link_, id, now);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<body_receiver>>(first));
  EXPECT_EQ(patch(id, patch_headers(0), "age").status, 423u);
}

TEST_F(TusService, UploadsOfAnotherLinkDoNotExistForIt) {
  auto id = create(100);
  auto other = db_->create_link(technician_, "T-1", {.expires_at = now + 3600, .max_bytes = 1000});
  ASSERT_TRUE(other);
  auto other_actor = db_->authenticate(other->secret, now);
  ASSERT_TRUE(other_actor);
  EXPECT_EQ(head(id, &*other_actor).status, 404u);
  EXPECT_EQ(patch(id, patch_headers(0), std::string(age_header), &*other_actor).status, 404u);
  EXPECT_EQ(head(id, &technician_).status, 200u);  // technicians see every upload
}

TEST_F(TusService, TerminationDeletesTheUpload) {
  auto id = create(100);
  EXPECT_EQ(patch(id, patch_headers(0), std::string(age_header)).status, 204u);
  auto res =
      tus_->terminate(make_head(http::verb::delete_, {{"Tus-Resumable", "1.0.0"}}), link_, id);
  EXPECT_EQ(res.result_int(), 204u);
  EXPECT_EQ(head(id).status, 404u);
}

}  // namespace
}  // namespace valise::server::tus
