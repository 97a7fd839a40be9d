#include "http/tls_contexts.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <algorithm>

#include "valise/common/https_client.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
using context_result = boost::system::result<tls_contexts::context_ptr, std::string>;

// A sentence for the operator, as the error of a result<T, std::string>.
struct problem {
  std::string text;
  template <class T>
  operator boost::system::result<T, std::string>() && {
    return {boost::system::in_place_error, std::move(text)};
  }
};

// Valise's own certificate ([tls] own_certificate), for clients that trust
// only valise's CA, and that CA's name, which such clients send.
struct own_pair {
  X509* cert = nullptr;
  STACK_OF(X509) * chain = nullptr;
  EVP_PKEY* key = nullptr;
  X509_NAME* ca_name = nullptr;
  own_pair() = default;
  own_pair(const own_pair&) = delete;
  own_pair& operator=(const own_pair&) = delete;
  ~own_pair() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_NAME_free(ca_name);
  }
};

// A context and what its callback uses, alive as long as a connection
// holds the context.
struct served {
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::unique_ptr<own_pair> own;
};

// The certificates of a PEM file: the first, then the rest as its chain.
bool read_chain(const std::filesystem::path& file, own_pair& out) {
  BIO* bio = BIO_new_file(file.c_str(), "r");
  if (!bio) return false;
  out.cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  out.chain = sk_X509_new_null();
  while (out.cert && out.chain) {
    X509* next = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!next) break;
    sk_X509_push(out.chain, next);
  }
  ERR_clear_error();  // the end of the file reads as an error
  BIO_free(bio);
  return out.cert && out.chain;
}

boost::system::result<std::unique_ptr<own_pair>, std::string> load_own(
    const tls_settings& settings) {
  auto own = std::make_unique<own_pair>();
  const auto& certificate = settings.own_certificate;
  const auto& key = settings.own_private_key;
  if (!read_chain(certificate, *own))
    return problem{"cannot load tls.own_certificate " + certificate.string()};
  if (BIO* bio = BIO_new_file(key.c_str(), "r")) {
    own->key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  if (!own->key) return problem{"cannot load tls.own_private_key " + key.string()};
  if (X509_check_private_key(own->cert, own->key) != 1)
    return problem{"the TLS key " + key.string() + " is not the key of the certificate " +
                   certificate.string()};
  const auto& ca = settings.ca_certificate;
  if (BIO* bio = BIO_new_file(ca.c_str(), "r")) {
    if (X509* ca_cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      own->ca_name = X509_NAME_dup(X509_get_subject_name(ca_cert));
      X509_free(ca_cert);
    }
    BIO_free(bio);
  }
  if (!own->ca_name) return problem{"cannot load the CA certificate " + ca.string()};
  ERR_clear_error();
  return own;
}

// Picks valise's own certificate for a client whose ClientHello names
// valise's CA among those it trusts (certificate_authorities, TLS 1.3: what
// agents send); others get the configured one.
int choose_certificate(SSL* ssl, void* arg) {
  const auto& own = *static_cast<const own_pair*>(arg);
  const STACK_OF(X509_NAME)* named = SSL_get0_peer_CA_list(ssl);
  for (int i = 0; named && i < sk_X509_NAME_num(named); ++i)
    if (X509_NAME_cmp(sk_X509_NAME_value(named, i), own.ca_name) == 0)
      return SSL_use_cert_and_key(ssl, own.cert, own.key, own.chain, 1) == 1 ? 1 : 0;
  return 1;
}

context_result build(const tls_settings& settings) {
  auto holder = std::make_shared<served>();
  asio::ssl::context* tls = &holder->tls;
  SSL_CTX* ctx = tls->native_handle();
  SSL_CTX_set_min_proto_version(ctx,
                                settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // TLS 1.2 only with forward secrecy and AEAD ciphers.
  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  // The key first: loaded after it, a certificate that is not the key's
  // drops the key, which the check below names, instead of OpenSSL's "key
  // values mismatch".
  const auto& key = settings.private_key;
  tls->use_private_key_file(key.string(), asio::ssl::context::pem, ec);
  if (ec) return problem{"cannot load the TLS key " + key.string() + ": " + ec.message()};
  // A chain: a public CA's fullchain.pem (certbot) as well as valise's own.
  const auto& certificate = settings.certificate;
  tls->use_certificate_chain_file(certificate.string(), ec);
  if (ec)
    return problem{"cannot load the TLS certificate " + certificate.string() + ": " + ec.message()};
  if (SSL_CTX_check_private_key(ctx) != 1)
    return problem{"the TLS key " + key.string() + " is not the key of the certificate " +
                   certificate.string()};
  // Agents present certificates our CA signed. The certificate is asked
  // for, never required: browsers, curl and tus clients without one work as
  // before, and the routes that need an agent refuse them (401). A
  // certificate from another CA fails the handshake.
  const auto& ca = settings.ca_certificate;
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1)
    return problem{"cannot load the CA certificate " + ca.string()};
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str()))
    SSL_CTX_set_client_CA_list(ctx, names);  // so a client offers only a certificate of ours
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Resumed sessions keep the peer certificate; OpenSSL refuses to resume
  // with client verification on unless sessions carry this context. Each
  // request still looks the certificate up, so resuming never lets a
  // revoked agent in.
  static constexpr unsigned char session_context[] = "valise-server";
  SSL_CTX_set_session_id_context(ctx, session_context, sizeof session_context - 1);
  if (!settings.own_certificate.empty()) {
    auto own = load_own(settings);
    if (!own) return problem{std::move(own.error())};
    holder->own = std::move(*own);
    SSL_CTX_set_cert_cb(ctx, choose_certificate, holder->own.get());
  }
  // The connection holds the context, and with it the pair the callback uses.
  return tls_contexts::context_ptr(holder, tls);
}

std::string file_stamp(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return "missing";
  return fmt::format("{}:{}:{}:{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec);
}

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(std::max(n, 0L)));
  BIO_free(bio);
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(std::max(n, 0L)));
  BIO_free(bio);
  return out;
}

}  // namespace

boost::system::result<std::unique_ptr<tls_contexts>, std::string> tls_contexts::load(
    tls_settings settings) {
  std::unique_ptr<tls_contexts> out(new tls_contexts(std::move(settings)));
  out->loaded_stamp_ = out->stamp();
  auto built = build(out->settings_);
  if (!built) return problem{std::move(built.error())};
  out->current_ = std::move(*built);
  return out;
}

tls_contexts::context_ptr tls_contexts::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

boost::system::result<void, std::string> tls_contexts::reload() {
  const auto before = stamp();
  auto built = build(settings_);
  std::lock_guard lock(mutex_);
  // Whatever the outcome: a broken pair is reported once, not at every poll.
  loaded_stamp_ = before;
  if (!built) return problem{std::move(built.error())};
  current_ = std::move(*built);
  return {};
}

std::string tls_contexts::stamp() const {
  std::string out = file_stamp(settings_.certificate) + " " + file_stamp(settings_.private_key);
  if (!settings_.own_certificate.empty())
    out +=
        " " + file_stamp(settings_.own_certificate) + " " + file_stamp(settings_.own_private_key);
  return out;
}

std::string tls_contexts::loaded_stamp() const {
  std::lock_guard lock(mutex_);
  return loaded_stamp_;
}

std::string tls_contexts::describe() const {
  auto ctx = current();
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (!cert) return "no certificate";
  return fmt::format("{} (issuer {}), SHA-256 {}, valid until {}",
                     name_text(X509_get_subject_name(cert)), name_text(X509_get_issuer_name(cert)),
                     common::certificate_sha256(cert), time_text(X509_get0_notAfter(cert)));
}

}  // namespace valise::server
