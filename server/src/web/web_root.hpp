// Where the browser pages are installed ([web] root, else beside the
// executable), and reading their files: only "console.html", "drop.html"
// and names directly under assets/, never through a symbolic link, at most
// max_file_bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace valise::server::web {

class web_root {
 public:
  static constexpr std::uint64_t max_file_bytes = 64ull << 20;

  // `configured`: [web] root, resolved; empty: the first directory of
  // <exe_dir>/../share/valise/web and <exe_dir>/../web that exists.
  static web_root locate(const std::filesystem::path& configured,
                         const std::filesystem::path& exe_dir);
  // The directory of the running executable (/proc/self/exe); empty if unknown.
  static std::filesystem::path executable_dir();

  bool installed() const { return !dir_.empty(); }
  const std::filesystem::path& dir() const { return dir_; }
  // The places looked in, for the operator ("A or B").
  std::string looked_in() const;

  // The contents of `file`: "NAME" or "assets/NAME" with NAME a
  // valid_asset_name ("console.html", "assets/drop-1A2B.js", as web::resolve
  // names them); nullopt for any other form, and if absent, not a regular
  // file, a symbolic link or too large.
  std::optional<std::string> read(std::string_view file) const;

 private:
  std::filesystem::path dir_;
  std::vector<std::filesystem::path> candidates_;
};

}  // namespace valise::server::web
