#include "web/site.hpp"

#include "web/static_site.hpp"

namespace valise::server::web {

response serve(const web_root& root, std::string_view path, const not_found_response& not_found) {
  const auto t = resolve(path);
  switch (t.what) {
    case target::kind::redirect: {
      auto res = empty_response(http::status::see_other);
      res.set(http::field::location, t.location);
      res.set(http::field::cache_control, "no-store");
      return res;
    }
    case target::kind::not_found:
      return not_found("no such page: " + std::string(path));
    case target::kind::page:
    case target::kind::asset:
      break;
  }
  if (!root.installed()) return not_installed(root.looked_in());
  auto body = root.read(t.file);
  if (!body) return not_found("no such file: " + std::string(path));
  return file_response(t, std::move(*body));
}

}  // namespace valise::server::web
