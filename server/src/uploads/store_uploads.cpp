#include "uploads/store_uploads.hpp"

#include <utility>

namespace valise::server::uploads {
namespace {

tus::upload_view protocol_view(const upload_info& u) {
  tus::upload_view v{.id = u.id,
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
class stored_file final : public tus::upload_bytes {
 public:
  stored_file(upload_file file, const upload_policy& policy)
      : file_(std::move(file)), policy_(policy) {}

  std::uint64_t size() const override { return file_.size(); }
  result<void> append(crypto::bytes data) override { return file_.append(data); }
  result<std::size_t> read_at(std::uint64_t offset, crypto::mutable_bytes out) const override {
    return file_.read_at(offset, out);
  }
  result<void> append_file(const tus::upload_bytes& other) override {
    // Once per merge: the scratch file stored_upload opened beside this one.
    const auto* scratch = dynamic_cast<const stored_file*>(&other);
    if (!scratch) return std::make_error_code(std::errc::invalid_argument);
    return file_.append_file(scratch->file_);
  }
  result<void> truncate(std::uint64_t size) override { return file_.truncate(size); }
  void start_writeback(std::uint64_t from, std::uint64_t to) override {
    file_.start_writeback(from, to);
  }
  result<void> check_room(std::uint64_t n) const override { return policy_.check_room(file_, n); }

 private:
  upload_file file_;
  const upload_policy& policy_;
};

class stored_upload final : public tus::upload, public tus::metered_upload {
 public:
  stored_upload(store& db, const upload_policy& policy, const actor& who, upload_info u)
      : db_(db), policy_(policy), who_(who), upload_(std::move(u)), view_(protocol_view(upload_)) {}

  const tus::upload_view& info() const override { return view_; }

  result<std::unique_ptr<tus::upload_bytes>> open() override {
    return wrap(db_.open_upload_file(upload_.id));
  }
  result<std::unique_ptr<tus::upload_bytes>> open_scratch() override {
    return wrap(db_.open_upload_scratch(upload_.id));
  }
  result<void> declare_length(std::uint64_t length) override {
    if (auto set = db_.set_upload_length(who_, upload_.id, length); !set) return set;
    upload_.length = view_.length = length;
    return {};
  }
  result<tus::upload_view> finish(const std::string& sha256) override {
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
  // Only asked of an upload metered() returned.
  std::uint64_t floor() const override { return *upload_policy::metered_floor(upload_); }

 private:
  result<std::unique_ptr<tus::upload_bytes>> wrap(result<upload_file> opened) {
    if (!opened) return opened.error();
    return std::unique_ptr<tus::upload_bytes>(
        std::make_unique<stored_file>(std::move(*opened), policy_));
  }

  store& db_;
  const upload_policy& policy_;
  actor who_;  // a copy: the upload outlives the request that opened it
  upload_info upload_;
  tus::upload_view view_;
};

}  // namespace

tus::checked<tus::size_limit> store_uploads::size_limit_for_caller() {
  return policy_.size_limit(who_);
}

tus::checked<tus::creation_plan> store_uploads::pre_create(const tus::new_upload& u) {
  auto bound = policy_.bind(who_, u.fields);
  if (!bound) return bound.error();
  auto plan = policy_.replaced(*bound);
  if (plan) plan->decision = std::move(*bound);
  return plan;
}

tus::checked<std::unique_ptr<tus::upload>> store_uploads::create(const tus::new_upload& u,
                                                                 const tus::creation_plan& plan) {
  const auto* bound = std::any_cast<binding>(&plan.decision);
  if (!bound) return tus::refused(tus::error::internal, "an upload without pre_create's plan");
  upload_info made{
      .ticket_ref = bound->ticket_ref,
      .owner_id = who_.id,
      .source = who_.label(),
      .filename = upload_policy::filename(u.fields),
      .metadata = u.metadata_text,
      .length = u.length,
      .created_at = u.now,
      .expires_at = policy_.expires_at(u.now),
      .request_id = bound->request_id,
  };
  auto quota = policy_.quota(who_, u.max_bytes);
  quota.replaces = plan.replaces;
  auto created = db_.create_upload(who_, std::move(made), quota);
  if (!created) return policy_.creation_refused(who_, *bound, created.error());
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

tus::checked<void> store_uploads::pre_terminate(const tus::upload_view& u) {
  return upload_policy::may_terminate(u);
}

}  // namespace valise::server::uploads
