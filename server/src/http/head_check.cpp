#include "http/head_check.hpp"

#include <boost/beast/core/string.hpp>
#include <vector>

namespace valise::server {
namespace {

// Every field of `name` as one comma-separated list (RFC 9110 §5.3).
std::string joined(const request_head& head, http::field name) {
  std::string all;
  for (auto [it, end] = head.equal_range(name); it != end; ++it) {
    if (!all.empty()) all += ',';
    all.append(it->value().data(), it->value().size());
  }
  return all;
}

// Printable, short: the coding goes into an error message.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 32)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::optional<head_refusal> check_framing(const request_head& head) {
  if (head.count(http::field::transfer_encoding) > 0) {
    const std::string codings = joined(head, http::field::transfer_encoding);
    if (head.count(http::field::content_length) > 0)
      return head_refusal{http::status::bad_request,
                          "send Transfer-Encoding or Content-Length, not both"};
    std::vector<std::string_view> list;
    for (std::string_view rest = codings; !rest.empty();) {
      auto comma = rest.find(',');
      if (auto coding = trim_ows(rest.substr(0, comma)); !coding.empty()) list.push_back(coding);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    if (list.empty()) return head_refusal{http::status::bad_request, "Transfer-Encoding is empty"};
    // The body's length cannot be known: RFC 9112 §6.3 says 400 and close.
    if (!boost::beast::iequals(list.back(), "chunked"))
      return head_refusal{http::status::bad_request,
                          "Transfer-Encoding must end with chunked; send the body with "
                          "Content-Length or chunked"};
    for (auto coding : list)
      if (!boost::beast::iequals(coding, "chunked"))
        return head_refusal{http::status::not_implemented,
                            "Transfer-Encoding \"" + shown(coding) +
                                "\" is not supported; send the body with Content-Length or "
                                "chunked alone"};
    if (list.size() > 1)
      return head_refusal{http::status::bad_request, "chunked may be applied only once"};
  }
  if (head.version() >= 11) {
    const auto host_fields = head.count(http::field::host);
    if (host_fields == 0)
      return head_refusal{http::status::bad_request, "an HTTP/1.1 request needs a Host header"};
    if (host_fields > 1)
      return head_refusal{http::status::bad_request, "send one Host header, not several"};
  }
  return std::nullopt;
}

std::optional<head_refusal> parse_refusal(boost::system::error_code ec) {
  if (!ec || ec.category() != make_error_code(http::error::bad_method).category())
    return std::nullopt;
  switch (static_cast<http::error>(ec.value())) {
    case http::error::end_of_stream:
    case http::error::partial_message:
    case http::error::need_more:
    case http::error::need_buffer:
    case http::error::short_read:
    case http::error::stale_parser:
      return std::nullopt;  // the connection ended, nobody to answer
    case http::error::header_limit:
      return head_refusal{http::status::request_header_fields_too_large,
                          "the request head is too large"};
    default:
      return head_refusal{http::status::bad_request, "malformed request: " + ec.message()};
  }
}

}  // namespace valise::server
