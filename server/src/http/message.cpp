#include "http/message.hpp"

#include <boost/json/serialize.hpp>

#include "valise/common/ascii.hpp"

namespace valise::server {

response json_response(http::status status, const boost::json::value& body) {
  return json_text_response(status, boost::json::serialize(body));
}

response json_text_response(http::status status, std::string json) {
  response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(json);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

response empty_response(http::status status) {
  response res{status, 11};
  res.prepare_payload();
  return res;
}

std::string_view bearer_token(const request_head& head) {
  auto value = head[http::field::authorization];
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() ||
      !common::ascii_iequals({value.data(), scheme.size()}, scheme))
    return {};
  auto token = value.substr(scheme.size());
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return {token.data(), token.size()};
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace valise::server
