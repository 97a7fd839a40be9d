// Where `open` writes: a private temporary directory next to the destination,
// renamed into place only when the whole bundle verified, removed otherwise.
// Every file is created with openat + O_EXCL | O_NOFOLLOW below it.
#pragma once

#include <ctime>
#include <filesystem>
#include <string_view>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

class extract_dir {
 public:
  static result<extract_dir> create(const std::filesystem::path& destination);
  extract_dir(extract_dir&& other) noexcept;
  extract_dir& operator=(extract_dir&&) = delete;
  ~extract_dir();  // removes the temporary directory unless committed

  result<void> make_directory(std::string_view path);
  // Opens a new file for writing; returns its descriptor (caller closes).
  result<int> create_file(std::string_view path);
  // A new file holding `data`.
  result<void> write_file(std::string_view path, crypto::bytes data);
  result<void> commit();

 private:
  extract_dir() = default;
  result<int> open_parent(std::string_view path, std::string_view& name);
  std::filesystem::path destination_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

}  // namespace valise::common::detail
