// The CA signing agents' CSRs: what the certificate says whatever the CSR
// asked for, and the CSRs it refuses.
#include "pki.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "pki_openssl.hpp"

namespace valise::server {
namespace {

namespace fs = std::filesystem;

std::string csr_pem(EVP_PKEY* key, const char* common_name, bool tamper = false) {
  csr_ptr req{X509_REQ_new()};
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  X509_REQ_sign(req.get(), key, EVP_sha256());
  if (tamper) {
    // Changing the subject after signing: the signature no longer matches.
    X509_NAME* other = X509_NAME_new();
    X509_NAME_add_entry_by_txt(other, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("mallory"), -1, -1, 0);
    X509_REQ_set_subject_name(req.get(), other);
    X509_NAME_free(other);
  }
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return bio_text(bio.get());
}

cert_ptr parse(const std::string& pem) {
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  return cert_ptr{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)};
}

class AgentCertificates : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/valise-pki-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    paths_ = {dir_ / "ca.pem", dir_ / "ca.key"};
    ASSERT_TRUE(create_ca(paths_, "valise CA test"));
    auto ca = certificate_authority::load(paths_);
    ASSERT_TRUE(ca) << ca.error().message();
    ca_.emplace(std::move(*ca));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  ca_paths paths_;
  std::optional<certificate_authority> ca_;
};

TEST_F(AgentCertificates, TheCertificateIsTheServersChoiceNotTheCsrs) {
  key_ptr key{EVP_EC_gen("P-256")};
  const auto csr = csr_pem(key.get(), "admin.example.com");
  ASSERT_TRUE(ca_->check_csr(csr));
  auto issued = ca_->sign_agent(csr, "agt_test", std::chrono::days(30));
  ASSERT_TRUE(issued) << issued.error().message();
  auto cert = parse(issued->pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(issued->sha256, certificate_sha256(cert.get()));
  EXPECT_EQ(issued->sha256.size(), 64u);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "agt_test");
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);
  // Signed by the CA, for TLS clients only, not a CA itself.
  auto ca_cert = parse(ca_->pem());
  ASSERT_TRUE(ca_cert);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())), 1);
  EXPECT_EQ(X509_check_issued(ca_cert.get(), cert.get()), X509_V_OK);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_get_key_usage(cert.get()), static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  const auto now = static_cast<unix_time>(std::time(nullptr));
  EXPECT_NEAR(static_cast<double>(issued->expires_at), static_cast<double>(now + 30 * 86400), 5);
  // Serials are random: two certificates for one CSR differ.
  auto again = ca_->sign_agent(csr, "agt_test", std::chrono::days(30));
  ASSERT_TRUE(again);
  EXPECT_NE(again->sha256, issued->sha256);
}

TEST_F(AgentCertificates, BadCsrsAreRefusedWithTheirReason) {
  EXPECT_EQ(ca_->check_csr("").error(), csr_errc::not_a_csr);
  EXPECT_EQ(ca_->check_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n").error(),
            csr_errc::not_a_csr);
  EXPECT_EQ(ca_->check_csr(ca_->pem()).error(), csr_errc::not_a_csr);
  key_ptr rsa{EVP_RSA_gen(2048)};
  EXPECT_EQ(ca_->check_csr(csr_pem(rsa.get(), "h")).error(), csr_errc::unsupported_key);
  key_ptr p384{EVP_EC_gen("P-384")};
  EXPECT_EQ(ca_->sign_agent(csr_pem(p384.get(), "h"), "agt_x", std::chrono::days(30)).error(),
            csr_errc::unsupported_key);
  key_ptr p256{EVP_EC_gen("P-256")};
  EXPECT_EQ(ca_->check_csr(csr_pem(p256.get(), "h", true)).error(), csr_errc::bad_signature);
}

TEST_F(AgentCertificates, TheFingerprintIsOfTheDer) {
  auto from_file = certificate_file_sha256(paths_.certificate);
  ASSERT_TRUE(from_file);
  EXPECT_EQ(*from_file, ca_->sha256());
  EXPECT_FALSE(certificate_file_sha256(dir_ / "missing.pem"));
}

}  // namespace
}  // namespace valise::server
