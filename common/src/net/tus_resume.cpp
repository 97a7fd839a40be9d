// Upload URLs saved between runs, one JSON file per upload identity.
#include <sys/stat.h>

#include <boost/json.hpp>

#include "valise/common/file_io.hpp"
#include "valise/common/tus_client.hpp"

namespace valise::common {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::size_t state_limit = 64u << 10;

bool is_key(const std::string& key) {
  if (key.size() != 64) return false;
  for (const char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> resume_store::load(const std::string& key) const {
  if (!is_key(key)) return std::nullopt;
  auto text = read_small_file(dir_ / (key + ".json"), state_limit);
  if (!text) return std::nullopt;
  // A damaged state file only costs a fresh upload.
  boost::system::error_code ec;
  const auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* url = value.as_object().if_contains("upload_url");
  if (!url || !url->is_string() || url->as_string().empty()) return std::nullopt;
  return std::string(url->as_string());
}

result<void> resume_store::save(const std::string& key, const std::string& upload_url,
                                const tus::upload_identity& id) {
  if (!is_key(key)) return std::make_error_code(std::errc::invalid_argument);
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) {
    fs::create_directories(dir_, ec);
    if (ec) return ec;
    // Upload URLs and file names are nobody else's business.
    if (::chmod(dir_.c_str(), 0700) != 0) return std::error_code(errno, std::generic_category());
  }
  const json::object state{{"upload_url", upload_url},
                           {"endpoint", id.endpoint},
                           {"file", id.path},
                           {"size", id.size},
                           {"mtime_ns", id.mtime_ns}};
  const std::string text = json::serialize(state) + "\n";
  auto file = atomic_file::create(dir_ / (key + ".json"), {.overwrite = true});
  if (!file) return file.error();
  if (auto w = file->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); !w) {
    return w.error();
  }
  return file->commit();
}

void resume_store::remove(const std::string& key) {
  if (!is_key(key)) return;
  std::error_code ignored;
  fs::remove(dir_ / (key + ".json"), ignored);
}

void resume_store::prune(std::chrono::hours age) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - age;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() != ".json" || !is_key(path.stem().string())) continue;
    std::error_code entry_ec;
    const auto written = fs::last_write_time(path, entry_ec);
    if (!entry_ec && written < cutoff) fs::remove(path, entry_ec);
  }
}

}  // namespace valise::common
