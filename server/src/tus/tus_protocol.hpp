// The tus 1.0.0 protocol (docs/api.md): core, creation,
// creation-with-upload, creation-defer-length, termination, expiration and
// checksum, over the interfaces of tus/upload_store.hpp. One method per HTTP
// method; request bodies are streamed through a body_sink, never held in
// memory. It knows uploads, not who may make them: the caller's store and
// hooks decide that.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "http/body_receiver.hpp"
#include "http/message.hpp"
#include "tus/upload_registry.hpp"
#include "tus/upload_store.hpp"

namespace valise::server::tus {

// A request body streamed into an upload (PATCH, creation-with-upload): the
// server's connection drives it directly. Destroyed without finish() (the
// connection broke), the bytes stay.
using body_sink = server::body_receiver;

using answer = std::variant<response, std::unique_ptr<body_sink>>;

struct protocol_config {
  std::uint64_t max_size = 0;  // Tus-Max-Size; 0: none
  std::string base_path = "/api/v1/uploads";
  // Claims uploads across processes (upload_registry); null: this one alone.
  upload_locks* locks = nullptr;
};

// Words a failure as the server's error response (before Tus-Resumable and
// the failure's headers are added).
using failure_responder = std::function<response(const failure&)>;

class protocol {
 public:
  // `check` and `observer` may be null (no content check, nobody told).
  protocol(protocol_config config, failure_responder respond, const content_check* check,
           upload_observer* observer);

  response options() const;
  answer create(const request_head& head, caller who, std::int64_t now);
  response head(const request_head& head, caller who, const std::string& id, std::int64_t now);
  answer patch(const request_head& head, caller who, const std::string& id, std::int64_t now);
  response terminate(const request_head& head, caller who, const std::string& id);

 private:
  friend class upload_receiver;
  response reply(const failure& f) const;
  response reply(error code, std::string message, std::string hint = {}) const;
  // The upload if the caller may touch it; else the response to send.
  std::variant<std::unique_ptr<upload>, response> find_upload(caller who, const std::string& id,
                                                              std::int64_t now);
  // `cap`: where an upload without a length must stop.
  answer receive(const request_head& head, std::unique_ptr<upload> u, upload_registry::lease lease,
                 std::uint64_t offset, std::uint64_t cap, bool creating);

  protocol_config config_;
  failure_responder respond_;
  const content_check* check_;
  upload_observer* observer_;
  upload_observer silent_;
  upload_registry registry_;
};

}  // namespace valise::server::tus
