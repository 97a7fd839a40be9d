// Server-generated names and bearer secrets: random, base32 (lowercase, no
// padding), with a prefix that says what they are. Secrets are stored only
// as their SHA-256.
#pragma once

#include <string>
#include <string_view>

#include "valise/common/secret_file.hpp"

namespace valise::server {

// "tkt_…", "lnk_…", "upl_…", "bdl_…", "agt_…", "req_…": 80 random bits, enough that ids cannot
// be guessed and never collide.
std::string random_id(std::string_view prefix);
// "vsa_…", "vst_…", "vsl_…", "vse_…": 256 random bits.
std::string random_secret(std::string_view prefix);
// Raw SHA-256 of `text`, as a 32-byte string (a BLOB key).
std::string sha256_raw(std::string_view text);
std::string to_hex(std::string_view raw);

// A secret's copy (or its hash) wiped when it goes out of scope.
using common::wiped_string;

}  // namespace valise::server
