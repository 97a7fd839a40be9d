// upload_file(): one file sent with tus, resumed after failures and restarts,
// verified end to end.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <thread>

#include "sha256.hpp"
#include "valise/common/tus_client.hpp"

namespace valise::common {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// The file, read at any position, and its SHA-256 computed in a single pass
// over bytes in order: when the server asks to resend from an earlier offset,
// the bytes already hashed are not hashed again; when it already holds a
// prefix (a resumed upload), the prefix is read and hashed before sending on.
class hashed_file {
 public:
  hashed_file() = default;
  hashed_file(const hashed_file&) = delete;
  hashed_file& operator=(const hashed_file&) = delete;
  ~hashed_file() {
    if (fd_ >= 0) ::close(fd_);
  }

  result<void> open(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return last_error();
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return last_error();
    if (!S_ISREG(st.st_mode)) return std::make_error_code(std::errc::invalid_argument);
    size_ = static_cast<std::uint64_t>(st.st_size);
    mtime_ns_ = mtime_ns(st);
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    return {};
  }

  std::uint64_t size() const { return size_; }
  std::int64_t mtime() const { return mtime_ns_; }

  // Reads at `pos` without hashing (the age-header check).
  result<std::size_t> peek(std::uint64_t pos, crypto::mutable_bytes out) {
    for (;;) {
      const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(pos));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return last_error();
    }
  }

  // Reads exactly out.size() bytes at `pos` (the file must not shrink) and
  // hashes those not hashed yet.
  result<void> read(std::uint64_t pos, crypto::mutable_bytes out) {
    std::size_t filled = 0;
    while (filled < out.size()) {
      auto n = peek(pos + filled, out.subspan(filled));
      if (!n) return n.error();
      if (*n == 0) return make_error_code(tus_errc::file_changed);
      filled += *n;
    }
    const std::uint64_t end = pos + out.size();
    if (pos <= hashed_ && end > hashed_) {
      hash_.update(out.subspan(static_cast<std::size_t>(hashed_ - pos)));
      hashed_ = end;
    }
    return {};
  }

  // Hashes the bytes before `pos` that are not hashed yet.
  result<void> hash_up_to(std::uint64_t pos) {
    std::vector<std::uint8_t> buffer(std::size_t{1} << 20);
    while (hashed_ < pos) {
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(pos - hashed_, buffer.size()));
      if (auto r = read(hashed_, {buffer.data(), n}); !r) return r;
    }
    return {};
  }

  // The whole file's digest; fails if the file changed since open().
  result<std::string> digest() {
    if (auto r = hash_up_to(size_); !r) return r.error();
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return last_error();
    if (static_cast<std::uint64_t>(st.st_size) != size_ || mtime_ns(st) != mtime_ns_) {
      return make_error_code(tus_errc::file_changed);
    }
    return hash_.hex_digest();
  }

 private:
  static std::int64_t mtime_ns(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::int64_t mtime_ns_ = 0;
  detail::sha256 hash_;
  std::uint64_t hashed_ = 0;
};

// A PATCH body: the file from `pos` to its end, at most `rate` bytes a second,
// reporting progress.
class patch_body final : public crypto::byte_source {
 public:
  patch_body(hashed_file& file, std::uint64_t pos, const file_upload_options& options)
      : file_(file), pos_(pos), start_pos_(pos), options_(options), start_(clock_type::now()) {}

  result<std::size_t> read(crypto::mutable_bytes out) override {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), file_.size() - pos_));
    if (n == 0) return std::size_t{0};
    if (auto r = file_.read(pos_, out.first(n)); !r) return r.error();
    pos_ += n;
    if (options_.rate_limit > 0) {
      const auto due = start_ + std::chrono::microseconds(static_cast<std::int64_t>(
                                    static_cast<double>(pos_ - start_pos_) * 1e6 /
                                    static_cast<double>(options_.rate_limit)));
      std::this_thread::sleep_until(due);
    }
    if (options_.on_progress) options_.on_progress(pos_, file_.size());
    return n;
  }

 private:
  hashed_file& file_;
  std::uint64_t pos_;
  std::uint64_t start_pos_;
  const file_upload_options& options_;
  clock_type::time_point start_;
};

result<void> check_age_prefix(hashed_file& file) {
  static constexpr std::string_view binary = "age-encryption.org/v1\n";
  static constexpr std::string_view armored = "-----BEGIN AGE ENCRYPTED FILE-----";
  char first[armored.size()] = {};
  auto n = file.peek(0, {reinterpret_cast<std::uint8_t*>(first), sizeof first});
  if (!n) return n.error();
  const std::string_view head(first, *n);
  if (head.starts_with(binary) || head.starts_with(armored)) return {};
  return make_error_code(tus_errc::not_age_file);
}

bool upload_vanished(std::error_code ec) {
  return ec == make_status_error(404) || ec == make_status_error(410);
}

bool is_network_or_status(std::error_code ec) {
  return ec.category() == http_category() || ec.category() == status_category();
}

}  // namespace

result<file_upload_result> upload_file(tus_client& client, const fs::path& path,
                                       const file_upload_options& options) {
  hashed_file file;
  if (auto r = file.open(path); !r) return r.error();
  if (auto r = check_age_prefix(file); !r) return r.error();

  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(path, ec);
  if (ec) absolute = fs::absolute(path);
  const tus::upload_identity identity{.endpoint = client.endpoint(),
                                      .path = absolute.string(),
                                      .size = file.size(),
                                      .mtime_ns = file.mtime(),
                                      .metadata = tus::encode_metadata(options.metadata)};
  const std::string key = tus::resume_key(identity);

  file_upload_result out;
  out.size = file.size();
  std::optional<std::string> url;
  if (options.resume) url = options.resume->load(key);
  std::optional<tus::upload_state> state;  // what the server last said, if still current
  bool contacted = false;       // the server has answered once: failures may be transient now
  bool first_answer = true;     // the first HEAD of a saved upload gives resumed_from
  std::uint64_t confirmed = 0;  // highest offset the server confirmed
  unsigned failures = 0;        // consecutive, without progress
  std::mt19937 random(std::random_device{}());
  const auto forget = [&] {
    if (options.resume) options.resume->remove(key);
    url.reset();
    state.reset();
  };

  for (;;) {
    std::error_code error;
    if (!url) {
      auto created = client.create(file.size(), options.metadata);
      if (created) {
        contacted = true;
        first_answer = false;
        url = std::move(*created);
        state = tus::upload_state{.offset = 0, .length = file.size()};
        // Without a saved URL a restart begins again; not worth failing for.
        if (options.resume) (void)options.resume->save(key, *url, identity);
      } else {
        error = created.error();
      }
    } else if (!state) {
      auto head = client.head(*url);
      // An upload of another length is not this file's (nor a valid resume).
      const bool other_file = head && head->length.value_or(file.size()) != file.size();
      if (head && !other_file) {
        contacted = true;
        state = *head;
        if (first_answer) out.resumed_from = state->offset;
        first_answer = false;
      } else if ((other_file || upload_vanished(head.error())) && !out.started_over) {
        // Expired, purged or never ours: begin a new upload (once).
        contacted = true;
        out.started_over = true;
        forget();
        continue;
      } else {
        error = other_file ? make_error_code(tus_errc::bad_response) : head.error();
      }
    }

    if (!error && state) {
      if (state->offset > confirmed) {
        confirmed = state->offset;
        failures = 0;
      }
      if (options.on_progress) options.on_progress(state->offset, file.size());
      if (state->complete()) break;
      if (auto r = file.hash_up_to(state->offset); !r) return r.error();
      patch_body body(file, state->offset, options);
      auto patched = client.patch(*url, state->offset, body, file.size() - state->offset);
      const std::uint64_t sent_from = state->offset;
      if (patched) {
        // A PATCH response carries Upload-Offset only; the length is the file's.
        if (!patched->length) patched->length = file.size();
        // A PATCH that moves nothing would be sent again forever.
        if (patched->offset <= sent_from && !patched->complete()) {
          return make_error_code(tus_errc::bad_response);
        }
        state = *patched;
        continue;
      }
      error = patched.error();
      state.reset();  // ask the server what it kept
      if (upload_vanished(error) && !out.started_over) {
        out.started_over = true;
        forget();
        continue;
      }
      // 409: the offset moved (bytes of a cut request landed late); ask again.
      if (error == make_status_error(409) && failures < options.max_retries) {
        ++failures;
        continue;
      }
    }

    // An HTTP status is an answer: a busy server (503, 423) is worth waiting for.
    if (error.category() == status_category()) contacted = true;
    if (!is_network_or_status(error) || !contacted || !tus::is_transient(error) ||
        failures >= options.max_retries) {
      return error;
    }
    ++failures;
    const auto wait = tus::backoff_delay(failures, options.backoff_base, options.backoff_cap,
                                         std::uniform_real_distribution<double>(0.0, 1.0)(random));
    if (options.on_retry) options.on_retry(error, failures, wait);
    std::this_thread::sleep_for(wait);
  }

  auto digest = file.digest();
  if (!digest) return digest.error();
  if (state->bundle_sha256.empty()) return make_error_code(tus_errc::bad_response);
  if (options.resume) options.resume->remove(key);
  if (*digest != state->bundle_sha256) return make_error_code(tus_errc::checksum_mismatch);
  out.upload_url = *url;
  out.bundle_id = state->bundle_id;
  out.sha256 = std::move(*digest);
  return out;
}

}  // namespace valise::common
