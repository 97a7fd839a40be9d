#include "enroll/credentials.hpp"

#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <memory>

#include "valise/common/file_io.hpp"
#include "valise/common/openssl_ptr.hpp"

namespace valise::agent {
namespace {

using common::bio_ptr;
using common::pkey_ptr;
using common::req_ptr;
using common::x509_ptr;

std::error_code openssl_failed() {
  return std::make_error_code(std::errc::protocol_error);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

credential_files credential_files::in(const std::filesystem::path& state_dir) {
  return {state_dir / "ca.pem", state_dir / "agent.key", state_dir / "agent.crt",
          state_dir / "identity.json"};
}

result<void> write_private_file(const std::filesystem::path& path, std::string_view text) {
  auto file = common::atomic_file::create(path, {.overwrite = true, .durable = true});
  if (!file) return file.error();
  if (auto w = file->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); !w)
    return w.error();
  return file->commit();
}

result<std::string> generate_key_and_csr(const std::filesystem::path& key_file) {
  pkey_ptr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failed();

  // The key goes straight to a 0600 file created here: it never exists in a
  // file anyone else could have opened first.
  const int fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return std::error_code(errno, std::generic_category());
  bio_ptr key_bio(BIO_new_fd(fd, BIO_CLOSE));
  const bool written = key_bio &&
                       PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                                                nullptr, nullptr) == 1 &&
                       BIO_flush(key_bio.get()) == 1 && ::fsync(fd) == 0;
  key_bio.reset();
  if (!written) {
    std::filesystem::remove(key_file);
    return openssl_failed();
  }

  req_ptr request(X509_REQ_new());
  X509_NAME* name = request ? X509_REQ_get_subject_name(request.get()) : nullptr;
  bio_ptr out(BIO_new(BIO_s_mem()));
  if (!name || !out ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("valise-agent"), -1, -1,
                                 0) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.get()) != 1 ||
      X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0 ||
      PEM_write_bio_X509_REQ(out.get(), request.get()) != 1)
    return openssl_failed();
  return bio_text(out.get());
}

std::optional<validity> certificate_validity(const std::string& pem) {
  bio_ptr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  x509_ptr cert(in ? PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return std::nullopt;
  struct tm from {
  }, to{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &from) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &to) != 1)
    return std::nullopt;
  return validity{std::chrono::system_clock::from_time_t(timegm(&from)),
                  std::chrono::system_clock::from_time_t(timegm(&to))};
}

void finish_interrupted_renewal(const credential_files& files) {
  auto pending = [](const std::filesystem::path& p) {
    auto q = p;
    return q += ".new";
  };
  std::error_code ec;
  // The new certificate is written last: once it exists the new key is
  // complete too, so both go into place; without it the new key is dropped.
  if (std::filesystem::exists(pending(files.certificate), ec)) {
    if (std::filesystem::exists(pending(files.key), ec))
      std::filesystem::rename(pending(files.key), files.key, ec);
    std::filesystem::rename(pending(files.certificate), files.certificate, ec);
  } else {
    std::filesystem::remove(pending(files.key), ec);
  }
}

result<agent_identity> load_identity(const std::filesystem::path& file) {
  auto text = common::read_small_file(file, 64 << 10);
  if (!text) return text.error();
  boost::system::error_code ec;
  auto value = boost::json::parse(*text, ec);
  const auto* object = ec ? nullptr : value.if_object();
  const auto field = [&](const char* key) -> std::string {
    const auto* v = object ? object->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  agent_identity id{field("agent_id"), field("server"), field("enrolled_at")};
  if (id.agent_id.empty() || id.server.empty())
    return std::make_error_code(std::errc::invalid_argument);
  return id;
}

result<void> save_identity(const std::filesystem::path& file, const agent_identity& identity) {
  const boost::json::object object{{"agent_id", identity.agent_id},
                                   {"server", identity.server},
                                   {"enrolled_at", identity.enrolled_at}};
  return write_private_file(file, boost::json::serialize(object) + "\n");
}

}  // namespace valise::agent
