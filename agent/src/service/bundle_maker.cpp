#include "service/bundle_maker.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "collect/collect.hpp"
#include "valise/common/rfc3339.hpp"

namespace valise::agent {

std::vector<const crypto::recipient*> bundle_keys::view() const {
  std::vector<const crypto::recipient*> out;
  for (const auto& r : recipients) out.push_back(r.get());
  return out;
}

boost::system::result<bundle_keys, std::string> choose_keys(
    const delivery_config& delivery, const std::vector<std::string>& requested) {
  bundle_keys keys;
  if (delivery.recipients.empty()) {
    if (!requested.empty())
      return {boost::system::in_place_error,
              "the request names recipients, but this agent pins none: it encrypts with a "
              "passphrase sent out of band"};
    keys.passphrase = crypto::generate_passphrase();
    keys.recipients.push_back(std::make_unique<crypto::scrypt_recipient>(
        crypto::secret_string(std::string(keys.passphrase->view()))));
    return keys;
  }
  for (const auto& r : requested)
    if (std::find(delivery.recipients.begin(), delivery.recipients.end(), r) ==
        delivery.recipients.end())
      return {boost::system::in_place_error,
              fmt::format("recipient {} is not pinned in this agent's [delivery] recipients", r)};
  for (const auto& r : requested.empty() ? delivery.recipients : requested) {
    auto parsed = crypto::x25519_recipient::parse(r);
    if (!parsed) return {boost::system::in_place_error, "invalid pinned recipient " + r};
    keys.recipients.push_back(std::make_unique<crypto::x25519_recipient>(*parsed));
  }
  return keys;
}

result<common::manifest> make_bundle(const bundle_request& request, const bundle_keys& keys,
                                     crypto::byte_sink& out) {
  const auto recipients = keys.view();
  auto encryptor = crypto::encryptor::create(recipients, out);
  if (!encryptor) return encryptor.error();
  // Most collected items are streamed (their size known only once redacted).
  auto writer = common::bundle_writer::create(
      *encryptor,
      {.frame_per_chunk = true, .progress = request.progress, .scratch_dir = request.scratch_dir});
  if (!writer) return writer.error();
  const collection_window window{request.since, request.until};
  if (auto c = collect(request.source, window, *writer, {.scratch_dir = request.scratch_dir}); !c)
    return c.error();
  common::manifest header;
  header.ticket = request.ticket;
  header.host = common::local_host_name();
  header.profile = request.source.name;
  if (request.since)
    header.since = common::format_rfc3339(std::chrono::system_clock::to_time_t(*request.since));
  if (request.until)
    header.until = common::format_rfc3339(std::chrono::system_clock::to_time_t(*request.until));
  auto manifest = writer->finish(std::move(header));
  if (!manifest) return manifest.error();
  if (auto f = encryptor->finish(); !f) return f.error();
  return manifest;
}

}  // namespace valise::agent
