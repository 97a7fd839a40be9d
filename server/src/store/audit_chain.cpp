#include "store/audit_chain.hpp"

#include <cstdint>

#include "store/secrets.hpp"

namespace valise::server {
namespace {

void put_field(std::string& out, std::string_view field) {
  std::uint64_t n = field.size();
  for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += field;
}

}  // namespace

std::string audit_hash(const std::string& previous_hash, const audit_record& record) {
  std::string message = "valise audit v1";
  put_field(message, previous_hash);
  put_field(message, std::to_string(record.seq));
  put_field(message, std::to_string(record.time));
  put_field(message, record.actor);
  put_field(message, record.action);
  put_field(message, record.ticket_ref);
  put_field(message, record.detail);
  return to_hex(sha256_raw(message));
}

}  // namespace valise::server
