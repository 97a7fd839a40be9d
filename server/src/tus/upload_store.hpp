// What the tus module stores uploads in and asks before it acts, as small
// interfaces the application implements (after tusd's DataStore, Upload and
// hooks): the protocol knows uploads, offsets and lengths, not who owns them
// or what they are for. Optional features are interfaces of their own,
// which an upload offers or not (metered_upload) or the service is given or
// not (content_check, upload_observer).
#pragma once

#include <any>
#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tus/tus_errors.hpp"
#include "tus/tus_headers.hpp"
#include "valise/crypto/io.hpp"
#include "valise/crypto/result.hpp"

namespace valise::server::tus {

// A value or the refusal to send.
template <class T>
using checked = boost::system::result<T, failure>;

enum class upload_status { receiving, completed, refused };

struct upload_view {
  std::string id;
  std::optional<std::uint64_t> length;  // absent while deferred
  std::uint64_t offset = 0;             // bytes stored
  std::string metadata;                 // Upload-Metadata as received
  upload_status status = upload_status::receiving;
  std::int64_t expires_at = 0;  // unix seconds; while receiving
  // Once completed: what the answer tells of the result (the store's names
  // for it), after Upload-Offset.
  header_list completion;
};

// An upload's bytes, open for one request. Not thread-safe; the service
// uses it from one thread at a time.
class upload_bytes {
 public:
  virtual ~upload_bytes() = default;
  virtual std::uint64_t size() const = 0;
  virtual result<void> append(crypto::bytes data) = 0;
  virtual result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const = 0;
  // Appends every byte of `other`, a scratch file of the same upload.
  virtual result<void> append_file(const upload_bytes& other) = 0;
  virtual result<void> truncate(std::uint64_t size) = 0;
  // Starts writing [from, to) to lasting storage without waiting for it.
  virtual void start_writeback(std::uint64_t from, std::uint64_t to) = 0;
  // Whether `n` more bytes fit above the storage's reserve
  // (std::errc::no_space_on_device when they do not).
  virtual result<void> check_room(std::uint64_t n) const = 0;
};

// Optional: an upload whose bytes are charged to a budget as they arrive
// (its length deferred, so that nothing was charged at creation).
class metered_upload {
 public:
  virtual ~metered_upload() = default;
  // Sets what the upload holds of its budget to `want` if the budget
  // allows, else as much as it allows; returns what it holds now.
  virtual result<std::uint64_t> hold(std::uint64_t want) = 0;
  // What it holds however few bytes it has.
  virtual std::uint64_t floor() const = 0;
};

// One upload, as one caller may act on it.
class upload {
 public:
  virtual ~upload() = default;
  virtual const upload_view& info() const = 0;
  virtual result<std::unique_ptr<upload_bytes>> open() = 0;
  // A file without a name beside the upload's, for a checksummed body until
  // its digest matched.
  virtual result<std::unique_ptr<upload_bytes>> open_scratch() = 0;
  // creation-defer-length; info().length is `length` once it succeeded.
  virtual result<void> declare_length(std::uint64_t length) = 0;
  // Every byte is in: what the upload became (info() with `completion`).
  virtual result<upload_view> finish(const std::string& sha256) = 0;
  // Its bytes were not acceptable (content_check): deleted, marked refused.
  virtual void refuse(const std::string& reason) = 0;
  virtual result<void> terminate() = 0;
  // nullptr: its bytes are not metered.
  virtual metered_upload* metered() { return nullptr; }
};

// The largest upload a caller may make, and what sets it (for messages).
struct size_limit {
  std::uint64_t bytes = 0;
  std::string what;
};

// What a new upload asks for, as the protocol read it.
struct new_upload {
  std::optional<std::uint64_t> length;
  std::string metadata_text;
  metadata fields;  // parsed
  std::int64_t now = 0;
  std::uint64_t max_bytes = 0;  // the caller's size limit: where a deferred length stops
};

// What the creation hook decided: the uploads the new one replaces (the
// service holds them while it is created, and refuses if one is being
// written), and what they are for, for that refusal ("request req_…").
struct creation_plan {
  std::vector<std::string> replaces;
  std::string replaced_for;
  // The hook's own decision (where the upload goes), opaque to the
  // protocol, which hands it to upload_store::create: no state is kept
  // between the two calls, and create() without it refuses.
  std::any decision;
};

// The uploads one caller sees (tusd's DataStore). create() takes the plan
// the hooks' pre_create made for the same upload.
class upload_store {
 public:
  virtual ~upload_store() = default;
  virtual checked<std::unique_ptr<upload>> create(const new_upload& u,
                                                  const creation_plan& plan) = 0;
  // not_found for an upload this caller may not see.
  virtual checked<std::unique_ptr<upload>> get(const std::string& id) = 0;
};

// What the application decides before the service acts (tusd's hooks).
class upload_hooks {
 public:
  virtual ~upload_hooks() = default;
  virtual checked<size_limit> size_limit_for_caller() = 0;
  // Before an upload is created: refuse it, or say what it replaces.
  virtual checked<creation_plan> pre_create(const new_upload& u) = 0;
  // Before an upload is terminated.
  virtual checked<void> pre_terminate(const upload_view& u) = 0;
};

// One request's caller: the uploads it sees and the hooks that judge it.
struct caller {
  upload_store& store;
  upload_hooks& hooks;
};

// Optional: what an upload's first bytes must look like. The service checks
// them as they arrive and refuses the upload when they do not fit.
class content_check {
 public:
  virtual ~content_check() = default;
  enum class verdict { undecided, accepted, refused };
  virtual std::size_t min_length() const = 0;     // a shorter Upload-Length is refused
  virtual std::size_t prefix_length() const = 0;  // the bytes check() needs at most
  virtual verdict check(std::string_view first_bytes) const = 0;
  virtual failure too_short() const = 0;
  virtual failure refused() const = 0;
  virtual std::string refusal_reason() const = 0;  // for upload::refuse
};

// Optional: told of what the service does (counters).
class upload_observer {
 public:
  virtual ~upload_observer() = default;
  virtual void started() {}
  virtual void received(std::uint64_t /*bytes*/) {}
  virtual void completed() {}
  virtual void refused() {}
};

}  // namespace valise::server::tus
