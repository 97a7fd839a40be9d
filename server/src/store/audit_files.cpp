#include "store/audit_files.hpp"

#include <sodium.h>

#include "store/secrets.hpp"
#include "valise/common/file_io.hpp"

namespace valise::server {
namespace {

result<void> write_file(const std::filesystem::path& path, const std::string& text,
                        bool overwrite) {
  // directory_owner: `sudo valise-server token create` beside a server run as
  // another user left it an audit.head (or audit.key) it could not read.
  auto file = common::atomic_file::create(
      path, {.overwrite = overwrite, .durable = true, .directory_owner = true});
  if (!file) return file.error();
  if (auto w = file->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); !w)
    return w;
  return file->commit();
}

}  // namespace

std::filesystem::path audit_key_path(const std::filesystem::path& data_dir) {
  return data_dir / "audit.key";
}

std::filesystem::path audit_head_path(const std::filesystem::path& data_dir) {
  return data_dir / "audit.head";
}

result<audit_key> read_audit_key(const std::filesystem::path& data_dir) {
  auto text = common::read_small_file(audit_key_path(data_dir), 4096);
  if (!text) return text.error();
  wiped_string wipe(std::move(*text));
  auto key = parse_audit_key(wipe.value);
  if (!key) return store_errc::corrupt;
  return std::move(*key);
}

result<audit_key> create_audit_key(const std::filesystem::path& data_dir, std::int64_t keyed_from) {
  audit_key key;
  key.keyed_from = keyed_from;
  randombytes_buf(key.bytes.data(), key.bytes.size());
  wiped_string text(format_audit_key(key));
  // Not overwriting: two processes opening a new data directory at once
  // keep the first key.
  if (auto r = write_file(audit_key_path(data_dir), text.value, false); !r) return r.error();
  return key;
}

result<std::optional<audit_checkpoint>> read_audit_head(const std::filesystem::path& data_dir) {
  auto text = common::read_small_file(audit_head_path(data_dir), 4096);
  if (!text && text.error() == std::errc::no_such_file_or_directory)
    return std::optional<audit_checkpoint>{};
  if (!text) return text.error();
  auto checkpoint = parse_checkpoint(*text);
  if (!checkpoint) return store_errc::corrupt;
  return checkpoint;
}

result<void> write_audit_head(const std::filesystem::path& data_dir,
                              const audit_checkpoint& checkpoint) {
  return write_file(audit_head_path(data_dir), format_checkpoint(checkpoint) + "\n", true);
}

}  // namespace valise::server
