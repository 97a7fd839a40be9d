// A test-only client over common/'s https_client: GET one URL, optionally
// through a proxy or unverified, and print the status and body. The proxy
// tests drive it because the valise command has no proxy option.
//
//   https_get URL [--ca FILE] [--proxy URL | --proxy-from-env] [--token T]
//             [--insecure-fetch [--fingerprint FP]] [--repeat N] [--timeout-ms N]
//
// Exit 0 with "HTTP <status>" and the body on stdout; 1 with a one-line error
// on stderr; 2 for bad arguments; 3 if the body's certificate does not have
// the --fingerprint given.
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "valise/common/https_client.hpp"

using namespace valise::common;

namespace {

int usage(std::string_view problem) {
  std::fprintf(stderr, "https_get: %.*s\n", static_cast<int>(problem.size()), problem.data());
  return 2;
}

bool number(std::string_view text, unsigned& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// "https://host:port" and "/path?query" of an absolute URL, and its host.
struct split_url {
  std::string base;
  std::string target = "/";
  std::string host;
};

split_url split(std::string_view url) {
  split_url out;
  const auto authority = url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3;
  const auto path = url.find('/', authority);
  out.base = std::string(url.substr(0, path));
  if (path != std::string_view::npos) out.target = std::string(url.substr(path));
  std::string_view host = url.substr(authority, path - authority);
  if (host.starts_with('[')) {
    host = host.substr(1, host.find(']') - 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  out.host = std::string(host);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("usage: https_get URL [--ca FILE] [--proxy URL] ...");
  const split_url url = split(argv[1]);
  https_options options{.base_url = url.base};
  bool proxy_from_env = false;
  std::string fingerprint;
  unsigned repeat = 1;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--proxy-from-env") {
      proxy_from_env = true;
    } else if (arg == "--insecure-fetch") {
      options.verify_peer = false;
    } else if (!has_value) {
      return usage(std::string(arg) + ": unknown, or missing its value");
    } else if (arg == "--ca") {
      options.ca_file = argv[++i];
    } else if (arg == "--proxy") {
      options.proxy.url = argv[++i];
    } else if (arg == "--token") {
      options.bearer_token = argv[++i];
    } else if (arg == "--fingerprint") {
      fingerprint = argv[++i];
    } else if (arg == "--repeat") {
      if (!number(argv[++i], repeat) || repeat == 0) return usage("--repeat: a positive number");
    } else if (arg == "--timeout-ms") {
      unsigned ms = 0;
      if (!number(argv[++i], ms) || ms == 0) return usage("--timeout-ms: a positive number");
      options.connect_timeout = options.io_timeout = std::chrono::milliseconds(ms);
    } else {
      return usage(std::string(arg) + ": unknown option");
    }
  }
  if (proxy_from_env) options.proxy.url = proxy_from_environment(url.host);

  auto client = https_client::create(std::move(options));
  if (!client) {
    std::fprintf(stderr, "https_get: %s\n", client.error().message().c_str());
    return 1;
  }
  http_response response;
  for (unsigned i = 0; i < repeat; ++i) {
    auto r = client->send({.target = url.target});
    if (!r) {
      const auto& detail = client->last_error_detail();
      const std::string why = detail.empty() ? "" : " (" + detail + ")";
      std::fprintf(stderr, "https_get: %s: %s%s\n", client->origin().c_str(),
                   r.error().message().c_str(), why.c_str());
      return 1;
    }
    response = std::move(*r);
    std::printf("HTTP %u\n", response.status);
  }
  std::fwrite(response.body.data(), 1, response.body.size(), stdout);
  if (!fingerprint.empty()) {
    const auto wanted = parse_sha256_fingerprint(fingerprint);
    if (!wanted) return usage("--fingerprint: " + wanted.error().message());
    const std::string got = certificate_sha256(response.body);
    if (got != *wanted) {
      std::fprintf(stderr, "https_get: the certificate's SHA-256 is %s, not %s\n",
                   got.empty() ? "(no certificate)" : got.c_str(), wanted->c_str());
      return 3;
    }
    std::printf("fingerprint matches\n");
  }
  return 0;
}
