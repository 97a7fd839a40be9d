#include "enroll/enroll.hpp"

#include <fmt/format.h>

#include <boost/url/parse.hpp>

#include "remote/collector_api.hpp"
#include "valise/common/failure.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/manifest.hpp"
#include "valise/common/version.hpp"

namespace valise::agent {
namespace {

namespace fs = std::filesystem;
using common::check;
using common::fail;

fs::path pending(fs::path p) {
  return p += ".new";
}

// The CA the operator vouched for: a file, or the server's own answer checked
// against the fingerprint the operator typed (fetched without verification:
// the fingerprint is the verification).
std::string trusted_ca(const std::string& server, const enroll_options& o) {
  if (!o.ca_file.empty()) {
    auto pem = check(common::read_small_file(o.ca_file), o.ca_file);
    if (common::certificate_sha256(pem).empty())
      fail(fmt::format("{}: not a PEM certificate", o.ca_file),
           "pass the ca.pem that `valise-server init` wrote");
    return pem;
  }
  if (o.ca_fingerprint.empty())
    fail("no way to trust the server",
         "pass --ca FILE (the server's ca.pem) or --ca-fingerprint SHA256 "
         "(from `valise-server ca-fingerprint`)");
  const auto wanted = check(common::parse_sha256_fingerprint(o.ca_fingerprint), "--ca-fingerprint");
  auto http =
      check(common::https_client::create({.base_url = server, .verify_peer = false}), server);
  collector_api api(http);
  auto pem = check(api.fetch_ca(), server + "/api/v1/ca");
  if (common::certificate_sha256(pem) != wanted)
    fail(fmt::format("{} offered a CA certificate whose SHA-256 is not {}", server,
                     o.ca_fingerprint),
         "check the fingerprint with the server's administrator: someone may be "
         "intercepting the connection");
  return pem;
}

}  // namespace

common::https_options mtls_options(const agent_config& config, const std::string& server) {
  const auto files = credential_files::in(config.state_dir);
  common::https_options o{.base_url = server,
                          .ca_file = files.ca.string(),
                          .client_cert_file = files.certificate.string(),
                          .client_key_file = files.key.string(),
                          .user_agent = common::user_agent("valise-agent")};
  if (!config.proxy.empty()) {
    o.proxy.url = config.proxy;
  } else if (auto url = boost::urls::parse_uri(server)) {
    o.proxy.url = common::proxy_from_environment(url->host());
  }
  return o;
}

agent_identity enroll(const agent_config& config, const enroll_options& options) {
  const std::string server = options.server.empty() ? config.server : options.server;
  if (server.empty())
    fail("no server to enroll with",
         "pass --server https://HOST:PORT or set `server` in " + config.source.string());
  if (options.token.empty())
    fail("no enrollment token", "pass --token (from `valise enroll-token create`)");
  const auto files = credential_files::in(config.state_dir);
  std::error_code ec;
  if (fs::exists(files.identity, ec) && !options.force)
    fail(fmt::format("this agent is already enrolled ({})", files.identity.string()),
         "pass --force to enroll again with a new key (the old certificate stays valid until "
         "revoked: `valise agent revoke`)");
  fs::create_directories(config.state_dir, ec);
  if (ec) fail(config.state_dir.string(), ec);
  fs::permissions(config.state_dir, fs::perms::owner_all, ec);

  const std::string ca = trusted_ca(server, options);
  check(write_private_file(pending(files.ca), ca), files.ca.string());

  fs::remove(pending(files.key), ec);
  const auto csr = check(generate_key_and_csr(pending(files.key)), "generating the agent key");
  auto options_with_ca = common::https_options{.base_url = server,
                                               .ca_file = pending(files.ca).string(),
                                               .user_agent = common::user_agent("valise-agent")};
  options_with_ca.proxy = mtls_options(config, server).proxy;
  auto http = check(common::https_client::create(std::move(options_with_ca)), server);
  collector_api api(http);
  auto enrolled = api.enroll(options.token, csr,
                             describe_host(config.remote_profiles(), config.spool_max_bytes));
  if (!enrolled) {
    fs::remove(pending(files.key), ec);
    fs::remove(pending(files.ca), ec);
    const auto e = enrolled.error();
    if (e == common::make_status_error(401))
      fail("the server refused the enrollment token",
           "tokens work once and expire: ask for a new one (`valise enroll-token create`)");
    fail(fmt::format("enrolling with {}: {}{}", server, e.message(),
                     api.last_error().empty() ? "" : " (" + api.last_error() + ")"),
         common::hint_for(e));
  }
  // Nothing is in place until everything is on disk: an enrollment cut off
  // before the renames leaves the agent unenrolled, not half-enrolled.
  check(write_private_file(pending(files.certificate), enrolled->certificate),
        files.certificate.string());
  fs::rename(pending(files.ca), files.ca, ec);
  if (!ec) fs::rename(pending(files.key), files.key, ec);
  if (!ec) fs::rename(pending(files.certificate), files.certificate, ec);
  if (ec) fail(config.state_dir.string(), ec);
  agent_identity id{enrolled->agent_id, server, common::now_rfc3339()};
  check(save_identity(files.identity, id), files.identity.string());
  return id;
}

result<renewal> renew_if_due(const agent_config& config, common::https_client& http) {
  const auto files = credential_files::in(config.state_dir);
  auto pem = common::read_small_file(files.certificate);
  if (!pem) return pem.error();
  if (auto v = certificate_validity(*pem)) {
    const auto left = v->not_after - std::chrono::system_clock::now();
    if (left * 3 > v->not_after - v->not_before) return renewal::not_due;
  }
  std::error_code ec;
  fs::remove(pending(files.key), ec);
  auto csr = generate_key_and_csr(pending(files.key));
  if (!csr) return csr.error();
  collector_api api(http);
  auto certificate = api.renew(*csr);
  if (!certificate) {
    fs::remove(pending(files.key), ec);
    return certificate.error();
  }
  if (auto w = write_private_file(pending(files.certificate), *certificate); !w) return w.error();
  finish_interrupted_renewal(files);
  return renewal::renewed;
}

}  // namespace valise::agent
