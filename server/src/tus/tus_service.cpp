#include "tus/tus_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>

#include "api/api_error.hpp"
#include "tus/tus_headers.hpp"
#include "tus/write_behind.hpp"

namespace valise::server::tus {
namespace {

constexpr std::size_t smallest_age_file = 22;  // "age-encryption.org/v1\n"
// How often a receiving upload asks the kernel to start writing to disk.
constexpr std::uint64_t writeback_step = 8u << 20;
// The unit of hashing and writing on the worker (write_behind).
constexpr std::size_t piece_bytes = 256u << 10;
// How far ahead of its bytes a link's deferred-length upload charges the
// link's budget while a PATCH streams: one database write per step, not
// per read; what is not used goes back when the PATCH ends.
constexpr std::uint64_t charge_step = 8u << 20;

response tus_error(api_error e, std::string message, std::string hint = {}) {
  auto res = error_response(e, std::move(message), std::move(hint));
  res.set("Tus-Resumable", version);
  return res;
}

response tus_response(http::status status) {
  auto res = empty_response(status);
  res.set("Tus-Resumable", version);
  res.set(http::field::cache_control, "no-store");
  return res;
}

std::optional<response> check_version(const request_head& head) {
  if (head["Tus-Resumable"] == version) return std::nullopt;
  auto res = tus_error(api_error::tus_version, "Tus-Resumable must be 1.0.0, got \"" +
                                                   std::string(head["Tus-Resumable"]) + "\"");
  res.set("Tus-Version", version);
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

// The filename is only metadata (files on disk are named by the server), but
// it is shown to technicians and put in Content-Disposition: no control bytes.
std::string clean_filename(std::string name) {
  if (name.size() > 255) name.resize(255);
  for (char& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return name.empty() ? "upload.age" : name;
}

response over_cap_response(std::uint64_t bytes, const std::string& what) {
  return tus_error(api_error::too_large,
                   fmt::format("Upload-Length is over {} of {} bytes", what, bytes));
}

void set_progress_headers(response& res, const upload_info& u) {
  res.set("Upload-Offset", std::to_string(u.offset));
  if (u.state == upload_state::receiving) res.set("Upload-Expires", http_date(u.expires_at));
  if (u.state == upload_state::completed) {
    res.set("Valise-Bundle-Id", u.bundle_id);
    res.set("Valise-Bundle-Sha256", u.sha256);
  }
}

}  // namespace

// Streams one request body into a partial upload, checking on the way that it
// is an age file, that it stays within Upload-Length and above the disk's
// reserve, and (with Upload-Checksum) that it arrived intact. A checksummed
// body goes to a scratch file, appended to the upload once its digest
// matched: all or nothing, even across a crash. A plain body goes straight
// into the upload.
class upload_receiver final : public body_receiver {
 public:
  // `prefix`: the upload's first bytes so far, or nullopt once they were
  // seen to be an age header. `scratch`: with `expected` only. `charged`:
  // for a link's deferred-length upload, the part of the link's budget it
  // holds (its bytes so far); nullopt for any other upload.
  upload_receiver(service& svc, actor who, upload_info upload, upload_registry::lease lease,
                  upload_file file, std::optional<upload_file> scratch,
                  std::optional<checksum> expected, std::uint64_t max_body, bool creating,
                  std::optional<std::string> prefix, std::optional<std::uint64_t> charged)
      : svc_(svc),
        who_(std::move(who)),
        upload_(std::move(upload)),
        lease_(std::move(lease)),
        file_(std::move(file)),
        scratch_(std::move(scratch)),
        expected_(std::move(expected)),
        rollback_(lease_->sha256),
        start_(file_.size()),
        limit_(file_.size() + max_body),
        creating_(creating),
        prefix_(prefix.value_or("")),
        prefix_checked_(!prefix || check_age_prefix(*prefix) == age_prefix::age),
        accepted_(start_),
        written_back_(start_),
        charging_(charged.has_value()),
        charged_(charged.value_or(0)) {
    if (expected_)
      chunk_.emplace(expected_->algorithm == checksum_algorithm::sha1 ? EVP_sha1() : EVP_sha256());
  }

  ~upload_receiver() override {
    // The connection broke mid-body: keep the bytes (tus lets the client
    // resume from them), unless the client asked for all-or-nothing.
    (void)writer_.drain();
    if (!done_ && expected_) roll_back();
    settle_charge();
  }

  std::uint64_t max_body() const override { return limit_ - start_; }

  crypto::mutable_bytes buffer() override { return writer_.acquire(); }

  std::optional<response> commit(std::size_t n) override {
    if (done_ || n == 0) return std::nullopt;
    auto space = writer_.acquire();  // what buffer() gave
    crypto::bytes data = space.first(std::min(n, space.size()));
    if (data.size() > limit_ - accepted_) {
      return stop(tus_error(api_error::too_large, "the body goes past Upload-Length"));
    }
    // A link's deferred-length upload takes its bytes from the link's budget
    // before they are written; the bytes that fit are kept, then 413.
    bool budget_spent = false;
    if (charging_ && data.size() > room_charged()) {
      auto held = svc_.db_.reserve_link_bytes(
          upload_.id, std::min(limit_, accepted_ + data.size() + charge_step));
      if (!held) return fail(held.error());
      charged_ = *held;
      if (data.size() > room_charged()) {
        data = data.first(room_charged());
        budget_spent = true;
      }
    }
    if (!prefix_checked_) {
      std::size_t take = std::min(data.size(), age_prefix_length - prefix_.size());
      prefix_.append(reinterpret_cast<const char*>(data.data()), take);
      switch (check_age_prefix(prefix_)) {
        case age_prefix::age:
          prefix_checked_ = true;
          break;
        case age_prefix::undecided:
          break;
        case age_prefix::not_age:
          return refuse();
      }
    }
    if (auto w = writer_.submit(data.size()); !w) return fail(w.error());
    accepted_ += data.size();
    svc_.stats_.upload_bytes.fetch_add(data.size(), std::memory_order_relaxed);
    if (budget_spent) return over_budget();
    return std::nullopt;
  }

  // On the worker, after the pieces queued: the merge copies the whole body
  // and completion fsyncs the upload, each as long as the disk takes, while
  // the io thread serves other connections. Awaited by a timer, not a
  // handler the worker would post: a server stopping meanwhile destroys this
  // coroutine with its io_context, and the receiver's destructor then waits
  // for the worker, instead of the worker posting to a destroyed context.
  boost::asio::awaitable<response> finish() override {
    namespace asio = boost::asio;
    done_ = true;
    writer_.post([this] {
      answer_ = conclude();
      concluded_.store(true, std::memory_order_release);
    });
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (auto wait = std::chrono::milliseconds(1); !concluded_.load(std::memory_order_acquire);
         wait = std::min(2 * wait, std::chrono::milliseconds(20))) {
      timer.expires_after(wait);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return std::move(*answer_);
  }

 private:
  response conclude() {
    if (auto w = writer_.drain(); !w) return fail(w.error());
    if (expected_ && chunk_->final() != expected_->digest) {
      roll_back();
      return tus_error(api_error::checksum_mismatch,
                       "Upload-Checksum does not match the bytes received; they were dropped");
    }
    if (scratch_) {
      // Until the scratch file is dropped the body is on disk twice.
      if (auto room = check_room(scratch_->size()); !room) return fail(room.error());
      if (auto merged = file_.append_file(*scratch_); !merged) return fail(merged.error());
      lease_->hashed = file_.size();
      file_.start_writeback(start_, file_.size());
    }
    upload_.offset = file_.size();
    settle_charge();
    if (upload_.length && upload_.offset == *upload_.length) {
      if (!prefix_checked_) return refuse();  // ended before it could be an age file
      auto bundle = svc_.db_.complete_upload(who_, upload_.id, lease_->sha256.final_hex());
      if (!bundle) return tus_error_for(bundle.error());
      lease_.forget();
      svc_.stats_.uploads_completed.fetch_add(1, std::memory_order_relaxed);
      upload_.state = upload_state::completed;
      upload_.bundle_id = bundle->id;
      upload_.sha256 = bundle->sha256;
    }
    auto res = tus_response(creating_ ? http::status::created : http::status::no_content);
    if (creating_) res.set(http::field::location, svc_.limits_.base_path + "/" + upload_.id);
    set_progress_headers(res, upload_);
    return res;
  }

  response tus_error_for(std::error_code ec) {
    auto res = error_response(ec, "upload " + upload_.id, api_error::upload_not_found);
    res.set("Tus-Resumable", version);
    return res;
  }

  // On the worker thread (write_behind): stores and hashes one piece.
  result<void> absorb(crypto::bytes data) {
    // A checksummed body is copied into the upload once it matched: it will
    // need its size again, so stop as soon as that cannot fit.
    const std::uint64_t need = scratch_ ? scratch_->size() + 2 * data.size() : data.size();
    if (auto room = check_room(need); !room) return room;
    upload_file& out = scratch_ ? *scratch_ : file_;
    auto before = out.size();
    if (auto w = out.append(data); !w) {
      (void)out.truncate(before);
      return w;
    }
    lease_->sha256.update(data);  // restored by roll_back if the checksum fails
    if (chunk_) chunk_->update(data);
    if (scratch_) return {};
    lease_->hashed = file_.size();
    if (file_.size() - written_back_ >= writeback_step) {
      file_.start_writeback(written_back_, file_.size());
      written_back_ = file_.size();
    }
    return {};
  }

  // Whether `n` more bytes leave the disk above the server's reserve.
  result<void> check_room(std::uint64_t n) const {
    const auto reserve = svc_.limits_.min_free_bytes;
    if (reserve == 0) return {};
    auto free = file_.free_bytes();
    if (!free) return free.error();
    if (*free < reserve || *free - reserve < n)
      return std::make_error_code(std::errc::no_space_on_device);
    return {};
  }

  // A write failed: the bytes of a plain PATCH stay, a checksummed one's go.
  response fail(std::error_code ec) {
    (void)writer_.drain();
    if (expected_) roll_back();
    done_ = true;
    if (ec != std::errc::no_space_on_device) return tus_error_for(ec);
    auto res = error_response(
        api_error::storage_full,
        fmt::format("the server is low on disk space: upload {} stopped at byte {}", upload_.id,
                    file_.size()),
        "resume from Upload-Offset later; the server's operator frees space or lowers "
        "uploads.min_free_bytes");
    res.set("Tus-Resumable", version);
    res.set("Upload-Offset", std::to_string(file_.size()));
    return res;
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
    auto res = tus_error(
        api_error::budget_exceeded,
        fmt::format("the upload link's byte budget is spent: upload {} stopped at byte {}",
                    upload_.id, file_.size()),
        "the bytes up to Upload-Offset are kept; ask the technician for a link with a larger "
        "budget");
    res.set("Upload-Offset", std::to_string(file_.size()));
    return res;
  }

  // Bytes charged to the link and not yet received.
  std::uint64_t room_charged() const { return charged_ > accepted_ ? charged_ - accepted_ : 0; }

  // Gives back to the link what was charged ahead of the bytes stored (it
  // keeps what it held from its creation).
  // After writer_ drained.
  void settle_charge() {
    const std::uint64_t keep = std::max<std::uint64_t>(file_.size(), smallest_age_file);
    if (!charging_ || charged_ == keep) return;
    if (auto held = svc_.db_.reserve_link_bytes(upload_.id, keep)) charged_ = *held;
  }

  response refuse() {
    done_ = true;
    (void)writer_.drain();
    (void)svc_.db_.refuse_upload(who_, upload_.id, "not an age-encrypted file");
    lease_.forget();
    svc_.stats_.uploads_refused.fetch_add(1, std::memory_order_relaxed);
    return tus_error(api_error::not_age_encrypted,
                     "the upload does not begin like an age file; it was refused and deleted");
  }

  // After writer_ drained.
  void roll_back() {
    (void)file_.truncate(start_);
    if (scratch_) (void)scratch_->truncate(0);
    accepted_ = start_;
    written_back_ = std::min(written_back_, start_);
    lease_->sha256 = rollback_;
    lease_->hashed = start_;
  }

  service& svc_;
  actor who_;
  upload_info upload_;
  upload_registry::lease lease_;
  upload_file file_;
  std::optional<upload_file> scratch_;
  std::optional<checksum> expected_;
  std::optional<digest> chunk_;
  digest rollback_;
  std::uint64_t start_;
  std::uint64_t limit_;
  bool creating_;
  std::string prefix_;
  bool prefix_checked_ = false;
  bool done_ = false;
  std::uint64_t accepted_;      // bytes handed to writer_, whether written yet or not
  std::uint64_t written_back_;  // file offset up to which writeback was started
  bool charging_;               // a link's deferred-length upload
  std::uint64_t charged_;       // of the link's budget, what the upload holds
  // conclude()'s answer, written on the worker (members: they outlive the
  // coroutine awaiting them, whose frame a stopping server may destroy first)
  std::optional<response> answer_;
  std::atomic<bool> concluded_ = false;
  // Last: its worker uses the members above and is joined first.
  write_behind writer_{[this](crypto::bytes data) { return absorb(data); }, piece_bytes};
};

response service::options() const {
  auto res = tus_response(http::status::no_content);
  res.set("Tus-Version", version);
  res.set("Tus-Extension", extensions);
  res.set("Tus-Max-Size", std::to_string(limits_.max_upload_bytes));
  res.set("Tus-Checksum-Algorithm", checksum_algorithms);
  return res;
}

outcome service::create(const request_head& head, const actor& who, unix_time now) {
  if (auto bad = check_version(head)) return std::move(*bad);
  auto length_text = header_text(head, "Upload-Length");
  auto defer_text = header_text(head, "Upload-Defer-Length");
  upload_info u;
  if (!length_text.empty() && !defer_text.empty())
    return tus_error(api_error::bad_request, "send Upload-Length or Upload-Defer-Length, not both");
  auto cap = cap_for(who);
  if (!cap) return tus_error(api_error::internal, "could not read agent " + who.id);
  if (!length_text.empty()) {
    u.length = parse_size(length_text);
    if (!u.length) return tus_error(api_error::bad_request, "Upload-Length is not a size");
    if (*u.length > cap->bytes) return over_cap_response(cap->bytes, cap->what);
    if (*u.length < smallest_age_file)
      return tus_error(api_error::not_age_encrypted, "the file is too small to be an age file");
  } else if (defer_text != "1") {
    return tus_error(api_error::bad_request, "send Upload-Length, or Upload-Defer-Length: 1");
  }
  u.metadata = header_text(head, "Upload-Metadata");
  auto meta = parse_metadata(u.metadata);
  if (!meta) return tus_error(api_error::bad_request, "Upload-Metadata is malformed");
  u.filename = clean_filename(find(*meta, "filename").value_or(find(*meta, "name").value_or("")));
  auto named_ticket = find(*meta, "ticket");
  if (who.kind == role::upload_link) {
    if (named_ticket && *named_ticket != who.ticket_ref)
      return tus_error(api_error::forbidden, "this upload link is for another ticket");
    u.ticket_ref = who.ticket_ref;
  } else if (who.kind == role::agent) {
    auto refused = bind_to_request(who, find(*meta, "request"), named_ticket, u);
    if (refused) return std::move(*refused);
  } else {
    if (!named_ticket || named_ticket->empty())
      return tus_error(api_error::bad_request, "Upload-Metadata must name the ticket (key ticket)");
    u.ticket_ref = *named_ticket;
  }
  bool body = has_body(head);
  if (body && head[http::field::content_type] != offset_content_type)
    return tus_error(api_error::wrong_content_type,
                     "creation-with-upload needs Content-Type: application/offset+octet-stream");
  const std::string ticket_ref = u.ticket_ref;
  u.owner_id = who.id;
  u.source = who.label();
  u.created_at = now;
  u.expires_at = now + limits_.expires_after.count();
  const std::string request_id = u.request_id;
  std::vector<upload_registry::lease> replaced;
  if (!request_id.empty()) {
    auto leased = lease_replaced(request_id);
    if (auto* res = std::get_if<response>(&leased)) return std::move(*res);
    replaced = std::move(std::get<std::vector<upload_registry::lease>>(leased));
  }
  auto quota = quota_for(who, cap->bytes);
  for (const auto& gone : replaced) quota.replaces.push_back(gone.id());
  auto created = db_.create_upload(who, std::move(u), quota);
  if (!created && created.error() == store_errc::busy)
    return tus_error(api_error::upload_locked,
                     "another upload for request " + request_id +
                         " began at the same time and is being written; retry once it stops");
  if (!created && created.error() == std::errc::no_space_on_device)
    return tus_error(api_error::storage_full,
                     "the server is low on disk space: it takes no new uploads until its "
                     "operator frees some (uploads.min_free_bytes)");
  if (!created && created.error() == store_errc::quota_exceeded)
    return tus_error(api_error::quota_exceeded,
                     fmt::format("this token's unfinished and stored uploads would pass its "
                                 "budget of {} bytes",
                                 limits_.technician_max_bytes));
  if (!created) {
    // The request changed since bind_to_request looked: say how it is now.
    if (!request_id.empty() && created.error() != store_errc::ticket_resolved) {
      upload_info again{.request_id = request_id};
      if (auto refused = bind_to_request(who, request_id, std::nullopt, again))
        return std::move(*refused);
    }
    auto res = error_response(created.error(), "ticket \"" + ticket_ref + "\"",
                              api_error::ticket_not_found);
    res.set("Tus-Resumable", version);
    return res;
  }
  for (auto& gone : replaced) gone.forget();
  stats_.uploads_started.fetch_add(1, std::memory_order_relaxed);
  if (body) {
    auto lease = registry_.acquire(created->id);  // a new upload: nobody else holds it
    return receive(head, who, std::move(*created), std::move(lease), 0, cap->bytes, true);
  }
  auto res = tus_response(http::status::created);
  res.set(http::field::location, limits_.base_path + "/" + created->id);
  res.set("Upload-Expires", http_date(created->expires_at));
  return res;
}

std::optional<response> service::bind_to_request(const actor& who,
                                                 const std::optional<std::string>& request_id,
                                                 const std::optional<std::string>& named_ticket,
                                                 upload_info& u) {
  if (!request_id || request_id->empty())
    return tus_error(api_error::bad_request,
                     "an agent's upload must name its request (Upload-Metadata key request)");
  auto r = db_.get_request(*request_id);
  if (!r && r.error() != store_errc::not_found)
    return tus_error(api_error::internal, "could not read request " + *request_id);
  if (!r || r->agent_id != who.id)
    return tus_error(api_error::forbidden, "request " + *request_id + " is not this agent's");
  if (is_terminal(r->state)) {
    auto res =
        error_response_with(api_error::request_finished,
                            "request " + r->id + " is already " + std::string(to_string(r->state)),
                            {{"state", to_string(r->state)}});
    res.set("Tus-Resumable", version);
    return res;
  }
  if (!r->bundle_id.empty()) {
    // An agent that lost its state learns which bundle answered the request.
    auto res = error_response_with(api_error::request_has_bundle,
                                   "request " + r->id + " already has bundle " + r->bundle_id,
                                   {{"bundle_id", r->bundle_id}, {"state", to_string(r->state)}});
    res.set("Tus-Resumable", version);
    return res;
  }
  if (named_ticket && *named_ticket != r->ticket_ref)
    return tus_error(api_error::forbidden, "request " + r->id + " is for another ticket");
  u.ticket_ref = r->ticket_ref;
  u.request_id = r->id;
  return std::nullopt;
}

std::variant<upload_info, response> service::find_upload(const actor& who, const std::string& id,
                                                         unix_time now) {
  auto u = db_.get_upload(id);
  // A link or an agent sees only its own uploads; others do not exist for it.
  const bool own_only = who.kind == role::upload_link || who.kind == role::agent;
  if (!u || (own_only && u->owner_id != who.id)) {
    if (u || u.error() == store_errc::not_found)
      return tus_error(api_error::upload_not_found, "no upload " + id);
    return tus_error(api_error::internal, "could not read upload " + id);
  }
  if (u->state == upload_state::refused)
    return tus_error(api_error::upload_gone, "upload " + id + " was refused");
  if (u->state == upload_state::receiving && u->expires_at <= now)
    return tus_error(api_error::upload_gone, "upload " + id + " expired");
  return std::move(*u);
}

response service::head(const request_head& head, const actor& who, const std::string& id,
                       unix_time now) {
  if (auto bad = check_version(head)) return std::move(*bad);
  auto found = find_upload(who, id, now);
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& u = std::get<upload_info>(found);
  auto res = tus_response(http::status::ok);
  if (u.length)
    res.set("Upload-Length", std::to_string(*u.length));
  else
    res.set("Upload-Defer-Length", "1");
  if (!u.metadata.empty()) res.set("Upload-Metadata", u.metadata);
  set_progress_headers(res, u);
  return res;
}

outcome service::patch(const request_head& head, const actor& who, const std::string& id,
                       unix_time now) {
  if (auto bad = check_version(head)) return std::move(*bad);
  if (head[http::field::content_type] != offset_content_type)
    return tus_error(api_error::wrong_content_type,
                     "PATCH needs Content-Type: application/offset+octet-stream");
  auto offset = parse_size(header_text(head, "Upload-Offset"));
  if (!offset) return tus_error(api_error::bad_request, "Upload-Offset is missing or not a size");
  auto found = find_upload(who, id, now);
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& u = std::get<upload_info>(found);
  if (u.state == upload_state::completed) {
    if (*offset == u.length.value_or(0) && !has_body(head)) {
      auto res = tus_response(http::status::no_content);
      set_progress_headers(res, u);
      return res;
    }
    return tus_error(api_error::offset_mismatch, "upload " + id + " is already complete");
  }
  // Held from here: a length must not be set under a PATCH still streaming.
  auto lease = registry_.acquire(id);
  if (!lease) return tus_error(api_error::upload_locked, "upload " + id + " is busy");
  auto length_text = header_text(head, "Upload-Length");
  if (!length_text.empty()) {
    auto length = parse_size(length_text);
    if (!length) return tus_error(api_error::bad_request, "Upload-Length is not a size");
    if (u.length && *u.length != *length)
      return tus_error(api_error::bad_request, "Upload-Length cannot change once set");
    if (!u.length) {
      if (*length < u.offset)
        return tus_error(
            api_error::bad_request,
            fmt::format("Upload-Length {} is less than the {} bytes this upload already has",
                        *length, u.offset),
            "send the whole file's size as Upload-Length");
      auto cap = cap_for(who);
      if (!cap) return tus_error(api_error::internal, "could not read agent " + who.id);
      if (*length > cap->bytes) return over_cap_response(cap->bytes, cap->what);
      if (auto set = db_.set_upload_length(who, id, *length); !set) {
        auto res = error_response(set.error(), "upload " + id, api_error::upload_not_found);
        res.set("Tus-Resumable", version);
        return res;
      }
      u.length = length;
    }
  }
  std::uint64_t cap = u.length.value_or(0);
  if (!u.length) {  // deferred: the body stops at the owner's cap
    auto found_cap = cap_for(who);
    if (!found_cap) return tus_error(api_error::internal, "could not read agent " + who.id);
    cap = found_cap->bytes;
  }
  return receive(head, who, std::move(u), std::move(lease), *offset, cap, false);
}

outcome service::receive(const request_head& head, const actor& who, upload_info upload,
                         upload_registry::lease lease, std::uint64_t offset, std::uint64_t cap,
                         bool creating) {
  auto file = db_.open_upload_file(upload.id);
  if (!file) return tus_error(api_error::internal, "could not open upload " + upload.id);
  if (file->size() != offset) {
    auto res = tus_error(
        api_error::offset_mismatch,
        fmt::format("Upload-Offset is {} but the server has {} bytes", offset, file->size()));
    res.set("Upload-Offset", std::to_string(file->size()));
    return res;
  }
  std::optional<checksum> expected;
  if (auto text = header_text(head, "Upload-Checksum"); !text.empty()) {
    auto [parsed, problem] = parse_checksum(text);
    if (!parsed)
      return tus_error(problem == checksum_problem::unsupported_algorithm
                           ? api_error::unsupported_checksum
                           : api_error::bad_request,
                       "Upload-Checksum: \"" + text + "\" is not usable");
    expected = std::move(parsed);
  }
  std::uint64_t end = upload.length.value_or(cap);
  std::uint64_t max_body = end > offset ? end - offset : 0;
  if (auto declared = content_length(head); declared && *declared > max_body)
    return tus_error(api_error::too_large,
                     upload.length ? std::string("the body goes past Upload-Length")
                                   : fmt::format("the body goes past {} bytes, the most this "
                                                 "upload may hold",
                                                 end));

  // After a restart (or a rolled-back PATCH) the running hash is rebuilt from
  // the bytes already stored.
  std::vector<std::uint8_t> buffer;
  if (lease->hashed != file->size()) {
    lease->sha256.reset();
    lease->hashed = 0;
    buffer.resize(1 << 20);
    while (lease->hashed < file->size()) {
      auto n = file->read_at(lease->hashed, buffer);
      if (!n || *n == 0)
        return tus_error(api_error::internal, "could not read upload " + upload.id);
      lease->sha256.update({buffer.data(), *n});
      lease->hashed += *n;
    }
  }
  // The age check needs the upload's first bytes; earlier PATCHes may have
  // sent some of them.
  std::optional<std::string> prefix;
  if (offset < age_prefix_length) {
    prefix.emplace(offset, '\0');
    auto n = file->read_at(0, {reinterpret_cast<std::uint8_t*>(prefix->data()), prefix->size()});
    if (!n || *n != offset)
      return tus_error(api_error::internal, "could not read upload " + upload.id);
  }
  // A link's deferred-length upload holds its bytes of the link's budget;
  // a PATCH cut by a crash may have left more charged: given back here.
  std::optional<std::uint64_t> charged;
  // (Whoever sends them: a technician may PATCH a link's upload too.)
  if (!upload.length && upload.owner_id.starts_with("lnk_")) {
    auto held =
        db_.reserve_link_bytes(upload.id, std::max<std::uint64_t>(file->size(), smallest_age_file));
    if (!held) return tus_error(api_error::internal, "could not charge upload " + upload.id);
    charged = *held;
  }
  std::optional<upload_file> scratch;
  if (expected) {
    auto opened = db_.open_upload_scratch(upload.id);
    if (!opened) {
      auto res = error_response(opened.error(), "upload " + upload.id, api_error::upload_not_found);
      res.set("Tus-Resumable", version);
      return res;
    }
    scratch.emplace(std::move(*opened));
  }
  return std::make_unique<upload_receiver>(
      *this, who, std::move(upload), std::move(lease), std::move(*file), std::move(scratch),
      std::move(expected), max_body, creating, std::move(prefix), charged);
}

result<service::upload_cap> service::cap_for(const actor& who) {
  upload_cap cap{limits_.max_upload_bytes, "this server's limit"};
  auto lower = [&](std::uint64_t bytes, std::string what) {
    if (bytes != 0 && bytes < cap.bytes) cap = {bytes, std::move(what)};
  };
  if (who.kind == role::technician || who.kind == role::admin)
    lower(limits_.technician_max_bytes, "this token's upload budget");
  if (who.kind == role::agent) {
    auto agent = db_.get_agent(who.id);
    if (!agent) return agent.error();
    if (agent->facts.max_upload_bytes)
      lower(*agent->facts.max_upload_bytes, "this agent's cap (its spool_max_bytes)");
    else
      lower(limits_.agent_max_bytes,
            "the server's cap for agents that declare none (uploads.agent_max_bytes)");
  }
  return cap;
}

upload_quota service::quota_for(const actor& who, std::uint64_t cap) const {
  const bool token = who.kind == role::technician || who.kind == role::admin;
  return {.deferred_bytes = cap,
          .owner_max_bytes = token ? limits_.technician_max_bytes : 0,
          .min_free_bytes = limits_.min_free_bytes,
          .deferred_link_charge = smallest_age_file};
}

std::variant<std::vector<upload_registry::lease>, response> service::lease_replaced(
    const std::string& request_id) {
  auto ids = db_.receiving_uploads(request_id);
  if (!ids) return tus_error(api_error::internal, "could not read request " + request_id);
  std::vector<upload_registry::lease> leases;
  for (const auto& id : *ids) {
    auto lease = registry_.acquire(id);
    if (!lease)
      return tus_error(api_error::upload_locked,
                       "upload " + id + " for request " + request_id +
                           " is still being written; a new upload replaces it once that stops");
    leases.push_back(std::move(lease));
  }
  return leases;
}

response service::terminate(const request_head& head, const actor& who, const std::string& id) {
  if (auto bad = check_version(head)) return std::move(*bad);
  auto found = find_upload(who, id, std::numeric_limits<unix_time>::min());
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& u = std::get<upload_info>(found);
  if (u.state == upload_state::completed)
    return tus_error(api_error::forbidden,
                     "upload " + id + " is complete: a technician deletes its bundle instead");
  auto lease = registry_.acquire(id);
  if (!lease) return tus_error(api_error::upload_locked, "upload " + id + " is busy");
  if (auto r = db_.terminate_upload(who, id); !r) {
    auto res = error_response(r.error(), "upload " + id, api_error::upload_not_found);
    res.set("Tus-Resumable", version);
    return res;
  }
  lease.forget();
  return tus_response(http::status::no_content);
}

}  // namespace valise::server::tus
