// `valise-agent enroll`: trust the server's CA (a file the operator copied, or
// one fetched and checked against the fingerprint the operator typed), make a
// key here, have the CA sign its CSR with a one-time token, and keep the
// result in the state directory. After this the agent speaks mutual TLS only.
#pragma once

#include <string>

#include "config/agent_config.hpp"
#include "enroll/credentials.hpp"
#include "valise/common/https_client.hpp"

namespace valise::agent {

struct enroll_options {
  std::string server;  // overrides the config's
  std::string token;
  std::string ca_file;
  std::string ca_fingerprint;
  bool force = false;  // replace an existing enrollment
};

// Throws common::failure with what went wrong and what to do.
agent_identity enroll(const agent_config& config, const enroll_options& options);

// The https_client settings for mutual TLS as the enrolled agent.
common::https_options mtls_options(const agent_config& config, const std::string& server);

// Renews the certificate when less than a third of its life is left (or it
// cannot be read); the caller then reconnects with the new one.
enum class renewal { not_due, renewed };
result<renewal> renew_if_due(const agent_config& config, common::https_client& http);

}  // namespace valise::agent
