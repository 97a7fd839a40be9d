#include "tus/upload_registry.hpp"

#include <fmt/format.h>

namespace valise::server::tus {

digest::digest(const EVP_MD* md) : md_(md), ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, md_, nullptr);
}

digest::digest(const digest& other) : md_(other.md_), ctx_(EVP_MD_CTX_new()) {
  EVP_MD_CTX_copy_ex(ctx_, other.ctx_);
}

digest& digest::operator=(const digest& other) {
  if (this != &other) {
    md_ = other.md_;
    EVP_MD_CTX_copy_ex(ctx_, other.ctx_);
  }
  return *this;
}

digest::~digest() {
  EVP_MD_CTX_free(ctx_);
}

void digest::reset() {
  EVP_DigestInit_ex(ctx_, md_, nullptr);
}

void digest::update(crypto::bytes data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::vector<std::uint8_t> digest::final() const {
  digest copy(*this);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(EVP_MD_get_size(md_)));
  unsigned int n = 0;
  EVP_DigestFinal_ex(copy.ctx_, out.data(), &n);
  return out;
}

std::string digest::final_hex() const {
  std::string hex;
  for (auto b : final()) hex += fmt::format("{:02x}", b);
  return hex;
}

upload_registry::lease& upload_registry::lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = std::move(other.id_);
    progress_ = std::move(other.progress_);
    forget_ = other.forget_;
  }
  return *this;
}

void upload_registry::lease::forget() {
  forget_ = true;
}

bool upload_registry::lease::held() const {
  return owner_ && progress_ && (!owner_->cluster_ || owner_->cluster_->held(id_));
}

bool upload_registry::lease::retake() const {
  return owner_ && progress_ && (!owner_->cluster_ || owner_->cluster_->try_lock(id_));
}

void upload_registry::lease::release() {
  if (!owner_ || !progress_) return;
  // Before the entry is free here: another request of this process then
  // never finds the upload unclaimed here but still claimed by itself.
  if (owner_->cluster_) owner_->cluster_->unlock(id_);
  std::lock_guard lock(owner_->mutex_);
  if (forget_) {
    owner_->entries_.erase(id_);
  } else if (auto it = owner_->entries_.find(id_); it != owner_->entries_.end()) {
    it->second.busy = false;
  }
  progress_.reset();
  owner_ = nullptr;
}

upload_registry::lease upload_registry::acquire(const std::string& id) {
  std::shared_ptr<upload_progress> progress;
  {
    std::lock_guard lock(mutex_);
    auto& e = entries_[id];
    if (e.busy) return {};
    if (!e.progress) e.progress = std::make_shared<upload_progress>();
    e.busy = true;
    progress = e.progress;
  }
  // Outside the mutex: a round trip to the database must not hold up the
  // other uploads' leases. The entry is busy meanwhile.
  if (cluster_ && !cluster_->try_lock(id)) {
    std::lock_guard lock(mutex_);
    entries_[id].busy = false;
    return {};
  }
  return lease(this, id, std::move(progress));
}

}  // namespace valise::server::tus
