#include "uploads/store_uploads.hpp"

#include <utility>

namespace valise::server::uploads {
namespace {

// The filename is only metadata (files on disk are named by the server), but
// it is shown to technicians and put in Content-Disposition: no control bytes.
std::string clean_filename(std::string name) {
  if (name.size() > 255) name.resize(255);
  for (char& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return name.empty() ? "upload.age" : name;
}

tus::upload_info protocol_view(const upload_info& u) {
  tus::upload_info v{.id = u.id,
                     .length = u.length,
                     .offset = u.offset,
                     .metadata = u.metadata,
                     .expires_at = u.expires_at};
  switch (u.state) {
    case upload_state::receiving:
      v.status = tus::upload_status::receiving;
      break;
    case upload_state::completed:
      v.status = tus::upload_status::completed;
      v.completion = {{"Valise-Bundle-Id", u.bundle_id}, {"Valise-Bundle-Sha256", u.sha256}};
      break;
    case upload_state::refused:
      v.status = tus::upload_status::refused;
      break;
  }
  return v;
}

// A partial upload's file; the disk's reserve is the policy's.
class stored_file final : public tus::upload_file {
 public:
  stored_file(valise::server::upload_file file, std::uint64_t min_free_bytes)
      : file_(std::move(file)), min_free_bytes_(min_free_bytes) {}

  std::uint64_t size() const override { return file_.size(); }
  result<void> append(crypto::bytes data) override { return file_.append(data); }
  result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const override {
    return file_.read_at(offset, out);
  }
  result<void> append_file(const tus::upload_file& other) override {
    // Both are opened by stored_upload.
    return file_.append_file(static_cast<const stored_file&>(other).file_);
  }
  result<void> truncate(std::uint64_t size) override { return file_.truncate(size); }
  void start_writeback(std::uint64_t from, std::uint64_t to) override {
    file_.start_writeback(from, to);
  }
  // Whether `n` more bytes leave the disk above the server's reserve.
  result<void> check_room(std::uint64_t n) const override {
    if (min_free_bytes_ == 0) return {};
    auto free = file_.free_bytes();
    if (!free) return free.error();
    if (*free < min_free_bytes_ || *free - min_free_bytes_ < n)
      return std::make_error_code(std::errc::no_space_on_device);
    return {};
  }

 private:
  valise::server::upload_file file_;
  std::uint64_t min_free_bytes_;
};

class stored_upload final : public tus::upload, public tus::metered_upload {
 public:
  stored_upload(store& db, const upload_policy& policy, const actor& who, upload_info u)
      : db_(db), policy_(policy), who_(who), upload_(std::move(u)), view_(protocol_view(upload_)) {}

  const tus::upload_info& info() const override { return view_; }

  result<std::unique_ptr<tus::upload_file>> open() override {
    return wrap(db_.open_upload_file(upload_.id));
  }
  result<std::unique_ptr<tus::upload_file>> open_scratch() override {
    return wrap(db_.open_upload_scratch(upload_.id));
  }
  result<void> declare_length(std::uint64_t length) override {
    if (auto set = db_.set_upload_length(who_, upload_.id, length); !set) return set;
    upload_.length = view_.length = length;
    return {};
  }
  result<tus::upload_info> finish(const std::string& sha256) override {
    auto bundle = db_.complete_upload(who_, upload_.id, sha256);
    if (!bundle) return bundle.error();
    upload_.state = upload_state::completed;
    upload_.bundle_id = bundle->id;
    upload_.sha256 = bundle->sha256;
    return protocol_view(upload_);
  }
  void refuse(const std::string& reason) override {
    (void)db_.refuse_upload(who_, upload_.id, reason);
  }
  result<void> terminate() override { return db_.terminate_upload(who_, upload_.id); }

  tus::metered_upload* metered() override {
    return upload_policy::metered_floor(upload_) ? this : nullptr;
  }
  result<std::uint64_t> hold(std::uint64_t want) override {
    return db_.reserve_link_bytes(upload_.id, want);
  }
  std::uint64_t floor() const override { return smallest_age_file; }

 private:
  result<std::unique_ptr<tus::upload_file>> wrap(result<valise::server::upload_file> opened) {
    if (!opened) return opened.error();
    return std::unique_ptr<tus::upload_file>(
        std::make_unique<stored_file>(std::move(*opened), policy_.bounds().min_free_bytes));
  }

  store& db_;
  const upload_policy& policy_;
  actor who_;  // a copy: the upload outlives the request that opened it
  upload_info upload_;
  tus::upload_info view_;
};

}  // namespace

tus::checked<tus::size_limit> store_uploads::size_limit_for_caller() {
  return policy_.size_limit(who_);
}

tus::checked<tus::creation_plan> store_uploads::pre_create(const tus::new_upload& u) {
  auto bound = policy_.bind(who_, u.fields);
  if (!bound) return bound.error();
  bound_ = std::move(*bound);
  return policy_.replaced(bound_);
}

tus::checked<std::unique_ptr<tus::upload>> store_uploads::create(const tus::new_upload& u,
                                                                 const tus::creation_plan& plan) {
  upload_info made{
      .ticket_ref = bound_.ticket_ref,
      .owner_id = who_.id,
      .source = who_.label(),
      .filename = clean_filename(
          tus::find(u.fields, "filename").value_or(tus::find(u.fields, "name").value_or(""))),
      .metadata = u.metadata_text,
      .length = u.length,
      .created_at = u.now,
      .expires_at = u.now + policy_.bounds().expires_after.count(),
      .request_id = bound_.request_id,
  };
  auto quota = policy_.quota(who_, u.max_bytes);
  quota.replaces = plan.replaces;
  auto created = db_.create_upload(who_, std::move(made), quota);
  if (!created) return policy_.creation_refused(who_, bound_, created.error());
  return std::unique_ptr<tus::upload>(
      std::make_unique<stored_upload>(db_, policy_, who_, std::move(*created)));
}

tus::checked<std::unique_ptr<tus::upload>> store_uploads::get(const std::string& id) {
  auto u = db_.get_upload(id);
  if (!u || !upload_policy::may_see(who_, *u)) {
    if (u || u.error() == store_errc::not_found)
      return tus::refused(tus::error::not_found, "no upload " + id);
    return tus::refused(tus::error::internal, "could not read upload " + id);
  }
  return std::unique_ptr<tus::upload>(
      std::make_unique<stored_upload>(db_, policy_, who_, std::move(*u)));
}

tus::checked<void> store_uploads::pre_terminate(const tus::upload_info& u) {
  return upload_policy::may_terminate(u);
}

}  // namespace valise::server::uploads
