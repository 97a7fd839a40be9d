#include "tus/tus_protocol.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <limits>

#include "tus/tus_headers.hpp"
#include "tus/write_behind.hpp"

namespace valise::server::tus {
namespace {

// How often a receiving upload asks the kernel to start writing to disk.
constexpr std::uint64_t writeback_step = 8u << 20;
// The unit of hashing and writing on the worker (write_behind).
constexpr std::size_t piece_bytes = 256u << 10;
// What the hash's catch-up reads at a time.
constexpr std::size_t catch_up_bytes = 1u << 20;
// How far ahead of its bytes a metered deferred-length upload charges its
// budget while a PATCH streams: one charge per step, not per read; what is
// not used goes back when the PATCH ends.
constexpr std::uint64_t charge_step = 8u << 20;

response tus_response(http::status status) {
  auto res = empty_response(status);
  res.set("Tus-Resumable", version);
  res.set(http::field::cache_control, "no-store");
  return res;
}

// Whether the request carries a body: a non-zero Content-Length, or chunked.
bool has_body(const request_head& head) {
  auto length = head[http::field::content_length];
  if (!length.empty()) return length != "0";
  return head[http::field::transfer_encoding].find("chunked") != boost::beast::string_view::npos;
}

std::optional<std::uint64_t> content_length(const request_head& head) {
  auto length = head[http::field::content_length];
  if (length.empty()) return std::nullopt;
  return parse_size({length.data(), length.size()});
}

std::string header_text(const request_head& head, std::string_view name) {
  auto v = head[boost::beast::string_view(name.data(), name.size())];
  return {v.data(), v.size()};
}

failure over_limit(const size_limit& cap) {
  return refused(error::too_large,
                 fmt::format("Upload-Length is over {} of {} bytes", cap.what, cap.bytes));
}

// The store's error `ec` about upload `id`.
failure store_failure(std::error_code ec, const std::string& id) {
  return {.code = ec, .subject = "upload " + id};
}

void set_progress_headers(response& res, const upload_view& u) {
  res.set("Upload-Offset", std::to_string(u.offset));
  if (u.status == upload_status::receiving) res.set("Upload-Expires", http_date(u.expires_at));
  if (u.status == upload_status::completed)
    for (const auto& [name, value] : u.completion) res.set(name, value);
}

}  // namespace

// Streams one request body into a partial upload, checking on the way that
// its first bytes pass the content check, that it stays within
// Upload-Length and above the storage's reserve, and (with Upload-Checksum)
// that it arrived intact. A checksummed body goes to a scratch file,
// appended to the upload once its digest matched: all or nothing, even
// across a crash. A plain body goes straight into the upload.
class upload_receiver final : public body_sink {
 public:
  // `prefix`: the upload's first bytes so far, or nullopt once they passed
  // the content check (or there is none). `scratch`: with `expected` only.
  // `charged`: for a metered upload, the part of its budget it holds (its
  // bytes so far); nullopt for any other upload.
  upload_receiver(protocol& svc, std::unique_ptr<upload> u, upload_registry::lease lease,
                  std::unique_ptr<upload_bytes> file, std::unique_ptr<upload_bytes> scratch,
                  std::optional<checksum> expected, std::uint64_t max_body, bool creating,
                  std::optional<std::string> prefix, std::optional<std::uint64_t> charged)
      : svc_(svc),
        upload_(std::move(u)),
        info_(upload_->info()),
        lease_(std::move(lease)),
        file_(std::move(file)),
        scratch_(std::move(scratch)),
        expected_(std::move(expected)),
        rollback_(lease_->sha256),
        start_(file_->size()),
        limit_(file_->size() + max_body),
        creating_(creating),
        prefix_(prefix.value_or("")),
        prefix_checked_(!prefix || svc_.check_->check(*prefix) == content_check::verdict::accepted),
        accepted_(start_),
        written_back_(start_),
        charging_(charged.has_value()),
        charged_(charged.value_or(0)) {
    if (expected_)
      chunk_.emplace(expected_->algorithm == checksum_algorithm::sha1 ? EVP_sha1() : EVP_sha256());
    // First on the worker, so before the body's first piece is hashed.
    writer_.post([this] {
      catch_up();
      caught_up_.store(true, std::memory_order_release);
    });
  }

  ~upload_receiver() override {
    // The connection broke mid-body: keep the bytes (tus lets the client
    // resume from them), unless the client asked for all-or-nothing.
    (void)writer_.drain();
    if (!done_ && expected_) roll_back();
    settle_charge();
  }

  std::uint64_t max_body() const override { return limit_ - start_; }

  // Until the hash caught up (catch_up()), which may read a whole file: the
  // connection awaits this before it reads the body, so its io thread
  // neither reads the file nor blocks in buffer() while the worker does.
  boost::asio::awaitable<void> ready() override { co_await until(caught_up_); }

  crypto::mutable_bytes buffer() override { return writer_.acquire(); }

  std::optional<response> commit(std::size_t n) override {
    if (done_ || n == 0) return std::nullopt;
    auto space = writer_.acquire();  // what buffer() gave
    crypto::bytes data = space.first(std::min(n, space.size()));
    if (data.size() > limit_ - accepted_) {
      return stop(svc_.reply(error::too_large, "the body goes past Upload-Length"));
    }
    // A metered upload takes its bytes from its budget before they are
    // written; the bytes that fit are kept, then 413.
    bool budget_spent = false;
    if (charging_ && data.size() > room_charged()) {
      auto held = upload_->metered()->hold(std::min(limit_, accepted_ + data.size() + charge_step));
      if (!held) return fail(held.error());
      charged_ = *held;
      if (data.size() > room_charged()) {
        data = data.first(room_charged());
        budget_spent = true;
      }
    }
    if (!prefix_checked_) {
      const std::size_t want = svc_.check_->prefix_length();
      std::size_t take = std::min(data.size(), want - std::min(want, prefix_.size()));
      prefix_.append(reinterpret_cast<const char*>(data.data()), take);
      switch (svc_.check_->check(prefix_)) {
        case content_check::verdict::accepted:
          prefix_checked_ = true;
          break;
        case content_check::verdict::undecided:
          break;
        case content_check::verdict::refused:
          return refuse();
      }
    }
    if (auto w = writer_.submit(data.size()); !w) return fail(w.error());
    accepted_ += data.size();
    svc_.observer_->received(data.size());
    if (budget_spent) return over_budget();
    return std::nullopt;
  }

  // On the worker, after the pieces queued: the merge copies the whole body
  // and completion fsyncs the upload, each as long as the disk takes, while
  // the io thread serves other connections.
  boost::asio::awaitable<response> finish() override {
    done_ = true;
    writer_.post([this] {
      answer_ = conclude();
      concluded_.store(true, std::memory_order_release);
    });
    co_await until(concluded_);
    co_return std::move(*answer_);
  }

 private:
  // Until a job on the worker set `done`. Awaited by a timer, not a handler
  // the worker would post: a server stopping meanwhile destroys this
  // coroutine with its io_context, and the receiver's destructor then waits
  // for the worker, instead of the worker posting to a destroyed context.
  static boost::asio::awaitable<void> until(const std::atomic<bool>& done) {
    namespace asio = boost::asio;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (auto wait = std::chrono::milliseconds(1); !done.load(std::memory_order_acquire);
         wait = std::min(2 * wait, std::chrono::milliseconds(20))) {
      timer.expires_after(wait);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }

  // On the worker, first: the running hash catches up with the bytes
  // stored: all of them after a restart, those another node of the cluster
  // appended since this one's last PATCH (routine behind a round-robin
  // proxy). Bytes below a PATCH's start never change (a PATCH only cuts
  // back to where it started), so the bytes hashed so far are still the
  // file's first `hashed` bytes; a file shorter than that is hashed anew.
  // A failed read leaves the hash to the next PATCH (hashed 0) and fails
  // this one (unread_).
  void catch_up() {
    if (lease_->hashed > start_) {
      lease_->sha256.reset();
      lease_->hashed = 0;
    }
    auto read = hash_file_until(start_);
    if (!read || lease_->hashed < start_) {
      unread_ = read ? std::make_error_code(std::errc::io_error) : read.error();
      lease_->sha256.reset();
      lease_->hashed = 0;
    }
    rollback_ = lease_->sha256;
    rollback_hashed_ = lease_->hashed;
  }

  response conclude() {
    if (unread_) return fail(unread_);
    if (auto w = writer_.drain(); !w) return fail(w.error());
    if (expected_ && chunk_->final() != expected_->digest) {
      roll_back();
      return svc_.reply(error::checksum_mismatch,
                        "Upload-Checksum does not match the bytes received; they were dropped");
    }
    // Once a PATCH ends, before its bytes count: another node may have taken
    // the upload meanwhile if this one's cluster lock went with a database
    // session (docs/cluster.md).
    if (!lease_.held() && !reclaimed()) return lock_lost();
    if (scratch_) {
      // Until the scratch file is dropped the body is on disk twice.
      if (auto room = file_->check_room(scratch_->size()); !room) return fail(room.error());
      merging_ = true;
      if (auto merged = file_->append_file(*scratch_); !merged) return fail(merged.error());
      lease_->hashed = file_->size();
      file_->start_writeback(start_, file_->size());
    }
    info_.offset = file_->size();
    settle_charge();
    if (info_.length && info_.offset == *info_.length) {
      if (!prefix_checked_) return refuse();  // ended before the check could pass
      // Again: the merge above may have taken seconds.
      if (!lease_.held() && !reclaimed()) return lock_lost();
      auto done = upload_->finish(lease_->sha256.final_hex());
      if (!done) return svc_.reply(store_failure(done.error(), info_.id));
      lease_.forget();
      svc_.observer_->completed();
      info_.status = upload_status::completed;
      info_.completion = std::move(done->completion);
    }
    auto res = tus_response(creating_ ? http::status::created : http::status::no_content);
    if (creating_) res.set(http::field::location, svc_.config_.base_path + "/" + info_.id);
    set_progress_headers(res, info_);
    return res;
  }

  // On the worker thread (write_behind): stores and hashes one piece.
  result<void> absorb(crypto::bytes data) {
    if (unread_) return unread_;  // the hash could not catch up: nothing is stored
    // A checksummed body is copied into the upload once it matched: it will
    // need its size again, so stop as soon as that cannot fit.
    const std::uint64_t need = scratch_ ? scratch_->size() + 2 * data.size() : data.size();
    if (auto room = file_->check_room(need); !room) return room;
    upload_bytes& out = scratch_ ? *scratch_ : *file_;
    auto before = out.size();
    if (auto w = out.append(data); !w) {
      (void)out.truncate(before);
      return w;
    }
    lease_->sha256.update(data);  // restored by roll_back if the checksum fails
    if (chunk_) chunk_->update(data);
    if (scratch_) return {};
    lease_->hashed = file_->size();
    if (file_->size() - written_back_ >= writeback_step) {
      file_->start_writeback(written_back_, file_->size());
      written_back_ = file_->size();
    }
    return {};
  }

  // The upload's cluster lock went with a database session while this
  // PATCH streamed: if nobody took it meanwhile, this node takes it again,
  // but another node may have written the file in between, so the running
  // hash is computed anew from the whole file, and the PATCH counts only if
  // the file ends where this one left it. A checksummed body is not
  // reclaimed: it never reached the file, and the client sends it again.
  bool reclaimed() {
    if (scratch_ || !lease_.retake()) return false;
    lease_->sha256.reset();
    lease_->hashed = 0;
    return hash_file_until(std::numeric_limits<std::uint64_t>::max()) &&
           lease_->hashed == accepted_;
  }

  // The running hash reads on in the file from `hashed`, up to `end` or
  // the file's end if that comes first.
  result<void> hash_file_until(std::uint64_t end) {
    std::vector<std::uint8_t> buffer(lease_->hashed < end ? catch_up_bytes : 0);
    while (lease_->hashed < end) {
      auto n = file_->read_at(lease_->hashed, buffer);
      if (!n) return n.error();
      if (*n == 0) break;
      lease_->sha256.update({buffer.data(), *n});
      lease_->hashed += *n;
    }
    return {};
  }

  // The lock is another node's now (or nobody can tell): nothing is
  // completed, and the running hash is dropped, to be caught up from the
  // file by the next PATCH under a lock held. The file is left alone: its
  // bytes are the other node's to judge. 423, as for any upload another
  // node holds: tus-js-client (hence Uppy) and valise's own client retry it.
  response lock_lost() {
    if (scratch_) (void)scratch_->truncate(0);  // a checksummed body never reached the file
    settle_charge();
    lease_.forget();
    return svc_.reply(error::locked,
                      "upload " + info_.id +
                          ": this server lost its claim on it while the body arrived (its "
                          "database session ended); the bytes do not complete it",
                      "ask HEAD for Upload-Offset and send the rest again");
  }

  // A write failed: the bytes of a plain PATCH stay, a checksummed one's go.
  response fail(std::error_code ec) {
    (void)writer_.drain();
    if (expected_) roll_back();
    done_ = true;
    if (unread_) return svc_.reply(error::internal, "could not read upload " + info_.id);
    if (ec != std::errc::no_space_on_device) return svc_.reply(store_failure(ec, info_.id));
    auto f = refused(error::storage_full,
                     fmt::format("the server is low on disk space: upload {} stopped at byte {}",
                                 info_.id, file_->size()),
                     "resume from Upload-Offset later; the server's operator frees space or lowers "
                     "uploads.min_free_bytes");
    f.headers = {{"Upload-Offset", std::to_string(file_->size())}};
    return svc_.reply(f);
  }

  response stop(response res) {
    halt();
    return res;
  }

  // Stops taking bytes: those queued are written, a checksummed body's
  // dropped.
  void halt() {
    (void)writer_.drain();
    if (expected_) roll_back();
    done_ = true;
  }

  response over_budget() {
    halt();
    settle_charge();
    auto f = refused(
        error::budget_exceeded,
        fmt::format("the upload link's byte budget is spent: upload {} stopped at byte {}",
                    info_.id, file_->size()),
        "the bytes up to Upload-Offset are kept; ask the technician for a link with a larger "
        "budget");
    f.headers = {{"Upload-Offset", std::to_string(file_->size())}};
    return svc_.reply(f);
  }

  // Bytes charged to the budget and not yet received.
  std::uint64_t room_charged() const { return charged_ > accepted_ ? charged_ - accepted_ : 0; }

  // Gives back what was charged ahead of the bytes stored (the upload keeps
  // what it held from its creation). After writer_ drained.
  void settle_charge() {
    if (!charging_) return;
    const std::uint64_t keep = std::max<std::uint64_t>(file_->size(), upload_->metered()->floor());
    if (charged_ == keep) return;
    if (auto held = upload_->metered()->hold(keep)) charged_ = *held;
  }

  response refuse() {
    done_ = true;
    (void)writer_.drain();
    upload_->refuse(svc_.check_->refusal_reason());
    lease_.forget();
    svc_.observer_->refused();
    return svc_.reply(svc_.check_->refused());
  }

  // After writer_ drained.
  void roll_back() {
    // Only a merge begun wrote to the file: otherwise its bytes past start_
    // may be another node's (a lock lost), not this PATCH's.
    if (merging_) (void)file_->truncate(start_);
    if (scratch_) (void)scratch_->truncate(0);
    accepted_ = start_;
    written_back_ = std::min(written_back_, start_);
    lease_->sha256 = rollback_;
    lease_->hashed = rollback_hashed_;
  }

  protocol& svc_;
  std::unique_ptr<upload> upload_;
  upload_view info_;
  upload_registry::lease lease_;
  std::unique_ptr<upload_bytes> file_;
  std::unique_ptr<upload_bytes> scratch_;
  std::optional<checksum> expected_;
  std::optional<digest> chunk_;
  // The hash at start_, once caught up (catch_up(), on the worker; read on
  // the io thread only after writer_ drained).
  digest rollback_;
  std::uint64_t rollback_hashed_ = 0;
  std::error_code unread_;  // catch_up() could not read the file
  bool merging_ = false;    // a checksummed body is being copied into the file
  std::atomic<bool> caught_up_ = false;
  std::uint64_t start_;
  std::uint64_t limit_;
  bool creating_;
  std::string prefix_;
  bool prefix_checked_ = false;
  bool done_ = false;
  std::uint64_t accepted_;      // bytes handed to writer_, whether written yet or not
  std::uint64_t written_back_;  // file offset up to which writeback was started
  bool charging_;               // a metered deferred-length upload
  std::uint64_t charged_;       // of the budget, what the upload holds
  // conclude()'s answer, written on the worker (members: they outlive the
  // coroutine awaiting them, whose frame a stopping server may destroy first)
  std::optional<response> answer_;
  std::atomic<bool> concluded_ = false;
  // Last: its worker uses the members above and is joined first.
  write_behind writer_{[this](crypto::bytes data) { return absorb(data); }, piece_bytes};
};

protocol::protocol(protocol_config config, failure_responder respond, const content_check* check,
                   upload_observer* observer)
    : config_(std::move(config)),
      respond_(std::move(respond)),
      check_(check),
      observer_(observer ? observer : &silent_),
      registry_(config_.locks) {}

response protocol::reply(const failure& f) const {
  auto res = respond_(f);
  res.set("Tus-Resumable", version);
  for (const auto& [name, value] : f.headers) res.set(name, value);
  return res;
}

response protocol::reply(error code, std::string message, std::string hint) const {
  return reply(refused(code, std::move(message), std::move(hint)));
}

response protocol::options() const {
  auto res = tus_response(http::status::no_content);
  res.set("Tus-Version", version);
  res.set("Tus-Extension", extensions);
  res.set("Tus-Max-Size", std::to_string(config_.max_size));
  res.set("Tus-Checksum-Algorithm", checksum_algorithms);
  return res;
}

namespace {

std::optional<failure> check_version(const request_head& head) {
  if (head["Tus-Resumable"] == version) return std::nullopt;
  auto f = refused(error::version, "Tus-Resumable must be 1.0.0, got \"" +
                                       std::string(head["Tus-Resumable"]) + "\"");
  f.headers = {{"Tus-Version", std::string(version)}};
  return f;
}

}  // namespace

answer protocol::create(const request_head& head, caller who, std::int64_t now) {
  if (auto bad = check_version(head)) return reply(*bad);
  auto length_text = header_text(head, "Upload-Length");
  auto defer_text = header_text(head, "Upload-Defer-Length");
  new_upload u{.now = now};
  if (!length_text.empty() && !defer_text.empty())
    return reply(error::bad_request, "send Upload-Length or Upload-Defer-Length, not both");
  auto cap = who.hooks.size_limit_for_caller();
  if (!cap) return reply(cap.error());
  u.max_bytes = cap->bytes;
  if (!length_text.empty()) {
    u.length = parse_size(length_text);
    if (!u.length) return reply(error::bad_request, "Upload-Length is not a size");
    if (*u.length > cap->bytes) return reply(over_limit(*cap));
    if (check_ && *u.length < check_->min_length()) return reply(check_->too_short());
  } else if (defer_text != "1") {
    return reply(error::bad_request, "send Upload-Length, or Upload-Defer-Length: 1");
  }
  u.metadata_text = header_text(head, "Upload-Metadata");
  auto meta = parse_metadata(u.metadata_text);
  if (!meta) return reply(error::bad_request, "Upload-Metadata is malformed");
  u.fields = std::move(*meta);
  auto plan = who.hooks.pre_create(u);
  if (!plan) return reply(plan.error());
  bool body = has_body(head);
  if (body && head[http::field::content_type] != offset_content_type)
    return reply(error::wrong_content_type,
                 "creation-with-upload needs Content-Type: application/offset+octet-stream");
  // Held while the new upload replaces them: none may be written meanwhile.
  std::vector<upload_registry::lease> replaced;
  for (const auto& id : plan->replaces) {
    auto lease = registry_.acquire(id);
    if (!lease)
      return reply(error::locked,
                   "upload " + id + " for " + plan->replaced_for +
                       " is still being written; a new upload replaces it once that stops");
    replaced.push_back(std::move(lease));
  }
  auto created = who.store.create(u, *plan);
  if (!created) return reply(created.error());
  for (auto& gone : replaced) gone.forget();
  observer_->started();
  auto& made = *created;
  if (body) {
    // Nobody else knows this upload yet, but the cluster's lock on it may be
    // out of reach (the database): then its Location goes back with nothing
    // read, and the client sends the bytes by PATCH from offset 0.
    if (auto lease = registry_.acquire(made->info().id))
      return receive(head, std::move(made), std::move(lease), 0, cap->bytes, true);
  }
  auto res = tus_response(http::status::created);
  res.set(http::field::location, config_.base_path + "/" + made->info().id);
  res.set("Upload-Expires", http_date(made->info().expires_at));
  if (body) res.set("Upload-Offset", "0");
  return res;
}

std::variant<std::unique_ptr<upload>, response> protocol::find_upload(caller who,
                                                                      const std::string& id,
                                                                      std::int64_t now) {
  auto u = who.store.get(id);
  if (!u) return reply(u.error());
  const auto& info = (*u)->info();
  if (info.status == upload_status::refused)
    return reply(error::gone, "upload " + id + " was refused");
  if (info.status == upload_status::receiving && info.expires_at <= now)
    return reply(error::gone, "upload " + id + " expired");
  return std::move(*u);
}

response protocol::head(const request_head& head, caller who, const std::string& id,
                        std::int64_t now) {
  if (auto bad = check_version(head)) return reply(*bad);
  auto found = find_upload(who, id, now);
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  const auto& u = std::get<std::unique_ptr<upload>>(found)->info();
  auto res = tus_response(http::status::ok);
  if (u.length)
    res.set("Upload-Length", std::to_string(*u.length));
  else
    res.set("Upload-Defer-Length", "1");
  if (!u.metadata.empty()) res.set("Upload-Metadata", u.metadata);
  set_progress_headers(res, u);
  return res;
}

answer protocol::patch(const request_head& head, caller who, const std::string& id,
                       std::int64_t now) {
  if (auto bad = check_version(head)) return reply(*bad);
  if (head[http::field::content_type] != offset_content_type)
    return reply(error::wrong_content_type,
                 "PATCH needs Content-Type: application/offset+octet-stream");
  auto offset = parse_size(header_text(head, "Upload-Offset"));
  if (!offset) return reply(error::bad_request, "Upload-Offset is missing or not a size");
  auto found = find_upload(who, id, now);
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto u = std::move(std::get<std::unique_ptr<upload>>(found));
  if (u->info().status == upload_status::completed) {
    if (*offset == u->info().length.value_or(0) && !has_body(head)) {
      auto res = tus_response(http::status::no_content);
      set_progress_headers(res, u->info());
      return res;
    }
    return reply(error::offset_mismatch, "upload " + id + " is already complete");
  }
  // Held from here: a length must not be set under a PATCH still streaming.
  auto lease = registry_.acquire(id);
  if (!lease) return reply(error::locked, "upload " + id + " is busy");
  std::optional<std::uint64_t> length = u->info().length;
  auto length_text = header_text(head, "Upload-Length");
  if (!length_text.empty()) {
    auto declared = parse_size(length_text);
    if (!declared) return reply(error::bad_request, "Upload-Length is not a size");
    if (length && *length != *declared)
      return reply(error::bad_request, "Upload-Length cannot change once set");
    if (!length) {
      if (*declared < u->info().offset)
        return reply(
            error::bad_request,
            fmt::format("Upload-Length {} is less than the {} bytes this upload already has",
                        *declared, u->info().offset),
            "send the whole file's size as Upload-Length");
      auto cap = who.hooks.size_limit_for_caller();
      if (!cap) return reply(cap.error());
      if (*declared > cap->bytes) return reply(over_limit(*cap));
      if (auto set = u->declare_length(*declared); !set)
        return reply(store_failure(set.error(), id));
      length = declared;
    }
  }
  std::uint64_t cap = length.value_or(0);
  if (!length) {  // deferred: the body stops at the caller's limit
    auto found_cap = who.hooks.size_limit_for_caller();
    if (!found_cap) return reply(found_cap.error());
    cap = found_cap->bytes;
  }
  return receive(head, std::move(u), std::move(lease), *offset, cap, false);
}

answer protocol::receive(const request_head& head, std::unique_ptr<upload> u,
                         upload_registry::lease lease, std::uint64_t offset, std::uint64_t cap,
                         bool creating) {
  const upload_view& info = u->info();
  auto file = u->open();
  if (!file) return reply(error::internal, "could not open upload " + info.id);
  const std::uint64_t size = (*file)->size();
  if (size != offset) {
    auto f = refused(error::offset_mismatch,
                     fmt::format("Upload-Offset is {} but the server has {} bytes", offset, size));
    f.headers = {{"Upload-Offset", std::to_string(size)}};
    return reply(f);
  }
  std::optional<checksum> expected;
  if (auto text = header_text(head, "Upload-Checksum"); !text.empty()) {
    auto [parsed, problem] = parse_checksum(text);
    if (!parsed)
      return reply(problem == checksum_problem::unsupported_algorithm ? error::unsupported_checksum
                                                                      : error::bad_request,
                   "Upload-Checksum: \"" + text + "\" is not usable");
    expected = std::move(parsed);
  }
  std::uint64_t end = info.length.value_or(cap);
  std::uint64_t max_body = end > offset ? end - offset : 0;
  if (auto declared = content_length(head); declared && *declared > max_body)
    return reply(error::too_large, info.length ? std::string("the body goes past Upload-Length")
                                               : fmt::format("the body goes past {} bytes, the "
                                                             "most this upload may hold",
                                                             end));

  // The running hash catches up with the bytes stored on the receiver's
  // worker (upload_receiver::catch_up), not here on the io thread.
  // The content check needs the upload's first bytes; earlier PATCHes may
  // have sent some of them.
  std::optional<std::string> prefix;
  if (check_ && offset < check_->prefix_length()) {
    prefix.emplace(offset, '\0');
    auto n = (*file)->read_at(0, {reinterpret_cast<std::uint8_t*>(prefix->data()), prefix->size()});
    if (!n || *n != offset) return reply(error::internal, "could not read upload " + info.id);
  }
  // A metered deferred-length upload holds its bytes of its budget; a PATCH
  // cut by a crash may have left more charged: given back here.
  std::optional<std::uint64_t> charged;
  if (auto* metered = u->metered(); metered && !info.length) {
    auto held = metered->hold(std::max<std::uint64_t>(size, metered->floor()));
    if (!held) return reply(error::internal, "could not charge upload " + info.id);
    charged = *held;
  }
  std::unique_ptr<upload_bytes> scratch;
  if (expected) {
    auto opened = u->open_scratch();
    if (!opened) return reply(store_failure(opened.error(), info.id));
    scratch = std::move(*opened);
  }
  return std::make_unique<upload_receiver>(*this, std::move(u), std::move(lease), std::move(*file),
                                           std::move(scratch), std::move(expected), max_body,
                                           creating, std::move(prefix), charged);
}

response protocol::terminate(const request_head& head, caller who, const std::string& id) {
  if (auto bad = check_version(head)) return reply(*bad);
  auto found = find_upload(who, id, std::numeric_limits<std::int64_t>::min());
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto u = std::move(std::get<std::unique_ptr<upload>>(found));
  if (auto allowed = who.hooks.pre_terminate(u->info()); !allowed) return reply(allowed.error());
  auto lease = registry_.acquire(id);
  if (!lease) return reply(error::locked, "upload " + id + " is busy");
  if (auto r = u->terminate(); !r) return reply(store_failure(r.error(), id));
  lease.forget();
  return tus_response(http::status::no_content);
}

}  // namespace valise::server::tus
