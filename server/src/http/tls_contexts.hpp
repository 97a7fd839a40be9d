// The listener's TLS context, replaceable while serving: SIGHUP or a change
// of the certificate or key file (server.cpp polls stamp()) loads the pair
// again into a fresh context that new handshakes use; each connection keeps
// the context it started with. A pair that does not load, or whose key is
// not the certificate's, leaves the current one in place. Client
// certificates are always checked against valise's own CA ([tls]
// ca_certificate), whoever issued the served certificate.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

namespace valise::server {

// The files a context is built from ([tls] in server.toml, paths resolved)
// and its options.
struct tls_settings {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::filesystem::path ca_certificate;   // valise's CA: client certificates
  std::filesystem::path own_certificate;  // empty: none (own_private_key too)
  std::filesystem::path own_private_key;
  std::string min_version = "1.2";  // "1.2" or "1.3"
};

class tls_contexts {
 public:
  using context_ptr = std::shared_ptr<boost::asio::ssl::context>;

  static boost::system::result<std::unique_ptr<tls_contexts>, std::string> load(
      tls_settings settings);

  // The context for a new connection.
  context_ptr current() const;

  // Loads the certificate and key again; on failure the current context
  // stays and the sentence says why.
  boost::system::result<void, std::string> reload();

  // The files of the certificates and keys (own_certificate's too) as they
  // are now (device, inode, size, mtime): a change means they were replaced.
  std::string stamp() const;
  // The stamp at the last load or attempt.
  std::string loaded_stamp() const;

  // "CN=… (issuer CN=…), SHA-256 …, valid until …" of the current
  // certificate, for the log.
  std::string describe() const;

 private:
  explicit tls_contexts(tls_settings settings) : settings_(std::move(settings)) {}

  const tls_settings settings_;
  mutable std::mutex mutex_;
  context_ptr current_;
  std::string loaded_stamp_;
};

}  // namespace valise::server
