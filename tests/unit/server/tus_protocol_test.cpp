// The tus module alone, over an in-memory store and hooks of the test's: it
// works with any upload_store (what a second backend implements), consults
// the hooks before it creates or terminates, and words every refusal
// through the responder it is given.
#include "tus/tus_protocol.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace valise::server::tus {
namespace {

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view magic = "GOOD";  // what the test's content check wants

// Which threads read upload files back.
struct read_log {
  std::mutex mutex;
  std::vector<std::thread::id> readers;
};

struct memory_file final : upload_bytes {
  explicit memory_file(std::string& bytes, std::uint64_t room, read_log* reads = nullptr)
      : bytes_(bytes), room_(room), reads_(reads) {}
  std::uint64_t size() const override { return bytes_.size(); }
  result<void> append(crypto::bytes data) override {
    bytes_.append(reinterpret_cast<const char*>(data.data()), data.size());
    return {};
  }
  result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const override {
    if (reads_) {
      std::lock_guard lock(reads_->mutex);
      reads_->readers.push_back(std::this_thread::get_id());
    }
    auto n = std::min<std::size_t>(out.size(), bytes_.size() - offset);
    std::memcpy(out.data(), bytes_.data() + offset, n);
    return n;
  }
  result<void> append_file(const upload_bytes& other) override {
    bytes_ += static_cast<const memory_file&>(other).bytes_;
    return {};
  }
  result<void> truncate(std::uint64_t size) override {
    bytes_.resize(size);
    return {};
  }
  void start_writeback(std::uint64_t, std::uint64_t) override {}
  result<void> check_room(std::uint64_t n) const override {
    if (bytes_.size() + n > room_) return std::make_error_code(std::errc::no_space_on_device);
    return {};
  }
  std::string& bytes_;
  std::uint64_t room_;
  read_log* reads_;
};

struct stored {
  upload_view info;
  std::string bytes;
  std::string scratch;
  std::string finished_with;  // the SHA-256 finish() got
  bool refused = false;
  std::uint64_t budget = 0;  // 0: not metered
  std::uint64_t held = 0;
};

struct memory_store final : upload_store, upload_hooks {
  std::map<std::string, stored> uploads;
  std::uint64_t room = 1 << 20;
  std::optional<failure> refuse_creation;
  std::optional<failure> refuse_termination;
  std::uint64_t metered_budget = 0;  // new uploads without a length get it
  std::vector<std::string> seen_tickets;
  read_log reads;

  struct handle final : upload, metered_upload {
    handle(memory_store& s, stored& u) : store_(s), u_(u) {}
    const upload_view& info() const override { return u_.info; }
    result<std::unique_ptr<upload_bytes>> open() override {
      return std::unique_ptr<upload_bytes>(
          std::make_unique<memory_file>(u_.bytes, store_.room, &store_.reads));
    }
    result<std::unique_ptr<upload_bytes>> open_scratch() override {
      u_.scratch.clear();
      return std::unique_ptr<upload_bytes>(std::make_unique<memory_file>(u_.scratch, store_.room));
    }
    result<void> declare_length(std::uint64_t length) override {
      u_.info.length = length;
      return {};
    }
    result<upload_view> finish(const std::string& sha256) override {
      u_.finished_with = sha256;
      u_.info.status = upload_status::completed;
      u_.info.offset = u_.bytes.size();
      u_.info.completion = {{"Result-Id", "r-" + u_.info.id}};
      return u_.info;
    }
    void refuse(const std::string&) override {
      u_.refused = true;
      u_.info.status = upload_status::refused;
    }
    result<void> terminate() override {
      store_.uploads.erase(u_.info.id);
      return {};
    }
    metered_upload* metered() override { return u_.budget ? this : nullptr; }
    result<std::uint64_t> hold(std::uint64_t want) override {
      u_.held = std::min(want, u_.budget);
      return u_.held;
    }
    std::uint64_t floor() const override { return 1; }
    memory_store& store_;
    stored& u_;
  };

  checked<std::unique_ptr<upload>> create(const new_upload& u, const creation_plan&) override {
    std::string id = "u" + std::to_string(uploads.size() + 1);
    auto& s = uploads[id];
    s.info = {.id = id, .length = u.length, .metadata = u.metadata_text, .expires_at = u.now + 60};
    if (!u.length) s.budget = metered_budget;
    return std::unique_ptr<upload>(std::make_unique<handle>(*this, s));
  }
  checked<std::unique_ptr<upload>> get(const std::string& id) override {
    auto it = uploads.find(id);
    if (it == uploads.end()) return refused(error::not_found, "no upload " + id);
    return std::unique_ptr<upload>(std::make_unique<handle>(*this, it->second));
  }
  checked<size_limit> size_limit_for_caller() override { return size_limit{1000, "the test's"}; }
  checked<creation_plan> pre_create(const new_upload& u) override {
    if (refuse_creation) return *refuse_creation;
    seen_tickets.push_back(find(u.fields, "ticket").value_or(""));
    return creation_plan{};
  }
  checked<void> pre_terminate(const upload_view&) override {
    if (refuse_termination) return *refuse_termination;
    return {};
  }
};

struct magic_check final : content_check {
  std::size_t min_length() const override { return magic.size(); }
  std::size_t prefix_length() const override { return magic.size(); }
  verdict check(std::string_view first) const override {
    if (first.size() < magic.size())
      return magic.starts_with(first) ? verdict::undecided : verdict::refused;
    return first.starts_with(magic) ? verdict::accepted : verdict::refused;
  }
  // The application's own refusal, which tus passes on.
  failure too_short() const override { return {.code = not_good, .message = "too short"}; }
  failure refused() const override { return {.code = not_good, .message = "not GOOD"}; }
  std::error_code not_good = std::make_error_code(std::errc::illegal_byte_sequence);
  std::string refusal_reason() const override { return "not GOOD"; }
};

struct counting final : upload_observer {
  int started_ = 0, completed_ = 0, refused_ = 0;
  std::uint64_t bytes = 0;
  void started() override { ++started_; }
  void received(std::uint64_t n) override { bytes += n; }
  void completed() override { ++completed_; }
  void refused() override { ++refused_; }
};

// The responder: tus's code number, or the application's code's message,
// in a header, the message as the body, so that tests see what tus passed
// on.
response respond(const failure& f) {
  response res{static_cast<http::status>(418), 11};
  if (f.code.category() == error_category())
    res.set("X-Code", std::to_string(f.code.value()));
  else
    res.set("X-Refusal", f.code.message());
  res.body() = f.message;
  return res;
}

request_head make_head(http::verb method,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  request_head head;
  head.method(method);
  head.version(11);
  for (const auto& [k, v] : headers) head.set(k, v);
  return head;
}

response complete(answer a, std::string_view body) {
  if (auto* res = std::get_if<response>(&a)) return std::move(*res);
  auto& sink = std::get<std::unique_ptr<body_sink>>(a);
  for (char c : body) {  // one byte at a time: the content check sees every split
    auto space = sink->buffer();
    space[0] = static_cast<std::uint8_t>(c);
    if (auto stop = sink->commit(1)) return std::move(*stop);
  }
  boost::asio::io_context io;
  response res;
  boost::asio::co_spawn(io, sink->finish(), [&](std::exception_ptr e, response r) {
    if (e) std::rethrow_exception(e);
    res = std::move(r);
  });
  io.run();
  return res;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

class TusProtocol : public ::testing::Test {
 protected:
  memory_store store_;
  magic_check check_;
  counting seen_;
  protocol tus_{{.max_size = 1000, .base_path = "/up"}, respond, &check_, &seen_};
  caller who() { return {store_, store_}; }

  response create(std::vector<std::pair<std::string, std::string>> headers,
                  std::string_view body = {}) {
    headers.insert(headers.begin(), {"Tus-Resumable", "1.0.0"});
    return complete(tus_.create(make_head(http::verb::post, headers), who(), now), body);
  }
  response patch(const std::string& id, std::uint64_t offset, std::string_view body,
                 std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.insert(extra.begin(), {{"Tus-Resumable", "1.0.0"},
                                 {"Content-Type", "application/offset+octet-stream"},
                                 {"Upload-Offset", std::to_string(offset)}});
    return complete(tus_.patch(make_head(http::verb::patch, extra), who(), id, now), body);
  }
};

TEST_F(TusProtocol, CreatesPatchesAndFinishesOverAnyStore) {
  auto made = create({{"Upload-Length", "8"}, {"Upload-Metadata", "ticket VC0x"}});
  ASSERT_EQ(made.result_int(), 201u) << made.body();
  EXPECT_EQ(made[http::field::location], "/up/u1");
  EXPECT_EQ(store_.seen_tickets, std::vector<std::string>{"T-1"});  // the hook saw the metadata
  EXPECT_EQ(patch("u1", 0, "GOOD").result_int(), 204u);
  auto done = patch("u1", 4, "data");
  ASSERT_EQ(done.result_int(), 204u) << done.body();
  EXPECT_EQ(done["Upload-Offset"], "8");
  EXPECT_EQ(done["Result-Id"], "r-u1");  // the store's completion headers
  EXPECT_EQ(store_.uploads["u1"].finished_with, sha256_hex("GOODdata"));
  auto head =
      tus_.head(make_head(http::verb::head, {{"Tus-Resumable", "1.0.0"}}), who(), "u1", now);
  EXPECT_EQ(head["Result-Id"], "r-u1");
  EXPECT_EQ(seen_.started_, 1);
  EXPECT_EQ(seen_.completed_, 1);
  EXPECT_EQ(seen_.bytes, 8u);
}

// Bytes another node appended since this node's last PATCH: the running
// hash catches up with them on the upload's worker, before the body's first
// byte, and ready() (which the connection awaits before reading the body)
// ends once it has: the io thread reads no file.
TEST_F(TusProtocol, TheHashCatchesUpOnTheWorkerBeforeTheBody) {
  ASSERT_EQ(create({{"Upload-Length", "12"}}).result_int(), 201u);
  ASSERT_EQ(patch("u1", 0, "GOOD").result_int(), 204u);
  store_.uploads["u1"].bytes += "more";  // the other node's PATCH
  store_.reads.readers.clear();
  auto a =
      tus_.patch(make_head(http::verb::patch, {{"Tus-Resumable", "1.0.0"},
                                               {"Content-Type", "application/offset+octet-stream"},
                                               {"Upload-Offset", "8"}}),
                 who(), "u1", now);
  auto* sink = std::get_if<std::unique_ptr<body_sink>>(&a);
  ASSERT_TRUE(sink);
  EXPECT_TRUE(store_.reads.readers.empty());  // nothing read on this thread
  boost::asio::io_context io;
  boost::asio::co_spawn(io, (*sink)->ready(), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  {
    std::lock_guard lock(store_.reads.mutex);
    ASSERT_FALSE(store_.reads.readers.empty());  // caught up by the time ready() ended
    for (auto id : store_.reads.readers) EXPECT_NE(id, std::this_thread::get_id());
  }
  auto done = complete(std::move(a), "data");
  ASSERT_EQ(done.result_int(), 204u) << done.body();
  EXPECT_EQ(store_.uploads["u1"].finished_with, sha256_hex("GOODmoredata"));
}

TEST_F(TusProtocol, RefusalsGoThroughTheResponderWithTusResumable) {
  store_.refuse_creation = failure{.code = std::make_error_code(std::errc::permission_denied),
                                   .message = "not yours",
                                   .headers = {{"X-Extra", "1"}}};
  auto res = create({{"Upload-Length", "8"}});
  EXPECT_EQ(res.result_int(), 418u);
  EXPECT_EQ(res.body(), "not yours");
  EXPECT_FALSE(res["X-Refusal"].empty());
  EXPECT_EQ(res["Tus-Resumable"], "1.0.0");
  EXPECT_EQ(res["X-Extra"], "1");
  EXPECT_TRUE(store_.uploads.empty());

  auto version = complete(
      tus_.create(make_head(http::verb::post, {{"Tus-Resumable", "0.2"}}), who(), now), "");
  EXPECT_EQ(version["X-Code"], std::to_string(static_cast<int>(error::version)));
  EXPECT_EQ(version["Tus-Version"], "1.0.0");
  auto big = create({{"Upload-Length", "1001"}});
  EXPECT_EQ(big["X-Code"], std::to_string(static_cast<int>(error::too_large)));
  EXPECT_EQ(big.body(), "Upload-Length is over the test's of 1000 bytes");
}

TEST_F(TusProtocol, TheContentCheckRefusesAndTheObserverHears) {
  ASSERT_EQ(create({{"Upload-Length", "8"}}).result_int(), 201u);
  auto res = patch("u1", 0, "GOBAD!!!");
  EXPECT_EQ(res["X-Refusal"], std::make_error_code(std::errc::illegal_byte_sequence).message());
  EXPECT_TRUE(store_.uploads["u1"].refused);
  EXPECT_EQ(seen_.refused_, 1);
  auto short_one = create({{"Upload-Length", "3"}});
  EXPECT_EQ(short_one.body(), "too short");
}

TEST_F(TusProtocol, AMeteredUploadStopsAtItsBudget) {
  store_.metered_budget = 6;
  ASSERT_EQ(create({{"Upload-Defer-Length", "1"}}).result_int(), 201u);
  auto res = patch("u1", 0, "GOODmore");
  EXPECT_EQ(res["X-Code"], std::to_string(static_cast<int>(error::budget_exceeded)));
  EXPECT_EQ(res["Upload-Offset"], "6");  // the bytes that fit are kept
  EXPECT_EQ(store_.uploads["u1"].bytes, "GOODmo");
}

TEST_F(TusProtocol, StorageAtItsReserveIsStorageFull) {
  store_.room = 5;
  ASSERT_EQ(create({{"Upload-Length", "8"}}).result_int(), 201u);
  auto res = patch("u1", 0, "GOODdata");
  EXPECT_EQ(res["X-Code"], std::to_string(static_cast<int>(error::storage_full)));
  EXPECT_FALSE(res["Upload-Offset"].empty());
}

TEST_F(TusProtocol, TerminationAsksTheHookFirst) {
  ASSERT_EQ(create({{"Upload-Length", "8"}}).result_int(), 201u);
  auto head = make_head(http::verb::delete_, {{"Tus-Resumable", "1.0.0"}});
  store_.refuse_termination = refused(error::forbidden, "keep it");
  EXPECT_EQ(tus_.terminate(head, who(), "u1").body(), "keep it");
  EXPECT_EQ(store_.uploads.count("u1"), 1u);
  store_.refuse_termination.reset();
  EXPECT_EQ(tus_.terminate(head, who(), "u1").result_int(), 204u);
  EXPECT_EQ(store_.uploads.count("u1"), 0u);
  EXPECT_EQ(tus_.terminate(head, who(), "u1")["X-Code"],
            std::to_string(static_cast<int>(error::not_found)));
}

}  // namespace
}  // namespace valise::server::tus
