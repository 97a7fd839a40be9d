// The tus module's store and hooks (tus/upload_store.hpp) over valise's
// store, for one caller: uploads are the store's uploads and blob files,
// and every decision is upload_policy's.
#pragma once

#include "tus/upload_store.hpp"
#include "uploads/upload_policy.hpp"
#include "valise/server/store.hpp"

namespace valise::server::uploads {

class store_uploads final : public tus::upload_store, public tus::upload_hooks {
 public:
  store_uploads(store& db, const upload_policy& policy, const actor& who)
      : db_(db), policy_(policy), who_(who) {}

  tus::caller as_caller() { return {*this, *this}; }

  tus::checked<std::unique_ptr<tus::upload>> create(const tus::new_upload& u,
                                                    const tus::creation_plan& plan) override;
  tus::checked<std::unique_ptr<tus::upload>> get(const std::string& id) override;

  tus::checked<tus::size_limit> size_limit_for_caller() override;
  tus::checked<tus::creation_plan> pre_create(const tus::new_upload& u) override;
  tus::checked<void> pre_terminate(const tus::upload_view& u) override;

 private:
  store& db_;
  const upload_policy& policy_;
  const actor& who_;
};

}  // namespace valise::server::uploads
