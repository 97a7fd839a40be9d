// What the server remembers about uploads between requests, in memory: which
// upload a request is writing (one at a time), and the running SHA-256 of each
// upload's bytes so that completing a 1 GiB upload does not read it back.
// After a restart, or on a node that did not see the last bytes (another
// node of the cluster wrote them), the hash catches up from the partial file
// on the next PATCH.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tus/upload_locks.hpp"
#include "valise/crypto/io.hpp"

namespace valise::server::tus {

// An OpenSSL digest context that can be copied (to roll back a PATCH).
class digest {
 public:
  explicit digest(const EVP_MD* md);
  digest(const digest& other);
  digest& operator=(const digest& other);
  ~digest();
  void reset();
  void update(crypto::bytes data);
  std::vector<std::uint8_t> final() const;  // leaves this digest usable
  std::string final_hex() const;

 private:
  const EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

struct upload_progress {
  digest sha256{EVP_sha256()};
  std::uint64_t hashed = 0;  // bytes of the file absorbed into sha256
};

class upload_registry {
 public:
  // `cluster`: claims each leased upload across processes too (may be null:
  // this process alone writes the uploads); it outlives the registry.
  explicit upload_registry(upload_locks* cluster = nullptr) : cluster_(cluster) {}

  // Exclusive access to an upload's progress, released on destruction.
  class lease {
   public:
    lease() = default;
    lease(upload_registry* owner, std::string id, std::shared_ptr<upload_progress> p)
        : owner_(owner), id_(std::move(id)), progress_(std::move(p)) {}
    lease(lease&& other) noexcept { *this = std::move(other); }
    lease& operator=(lease&& other) noexcept;
    ~lease() { release(); }
    explicit operator bool() const { return progress_ != nullptr; }
    upload_progress& operator*() const { return *progress_; }
    upload_progress* operator->() const { return progress_.get(); }
    const std::string& id() const { return id_; }
    // The upload is finished or gone: drop what the registry kept.
    void forget();
    // Whether the upload is still this process's alone: with upload_locks,
    // its lock in the cluster may have been lost meanwhile (then forget():
    // another process may have written the file under the running hash).
    bool held() const;
    // After held() said no: takes the upload's lock in the cluster again,
    // if no other process took it meanwhile.
    bool retake() const;

   private:
    void release();
    upload_registry* owner_ = nullptr;
    std::string id_;
    std::shared_ptr<upload_progress> progress_;
    bool forget_ = false;
  };

  // An empty lease if another request holds this upload, here or (with
  // upload_locks) in another process.
  lease acquire(const std::string& id);

 private:
  upload_locks* cluster_;
  struct entry {
    std::shared_ptr<upload_progress> progress;
    bool busy = false;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace valise::server::tus
