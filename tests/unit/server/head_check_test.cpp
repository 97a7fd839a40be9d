#include "http/head_check.hpp"

#include <gtest/gtest.h>

namespace valise::server {
namespace {

// Parses `text` as a request head the way the connection does.
request_head head(std::string text) {
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(text), ec);
  EXPECT_FALSE(ec) << ec.message() << " for " << text;
  return parser.get().base();
}

std::optional<http::status> refusal(std::string text) {
  auto r = check_framing(head(std::move(text)));
  if (r) return r->status;
  return std::nullopt;
}

TEST(HeadCheck, PlainRequestsPass) {
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::nullopt);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"), std::nullopt);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
            std::nullopt);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked \r\n\r\n"),
            std::nullopt);
  // HTTP/1.0 has no Host requirement.
  EXPECT_EQ(refusal("GET / HTTP/1.0\r\n\r\n"), std::nullopt);
}

TEST(HeadCheck, UnknownOrMisplacedCodingsAreRefused) {
  // Beast treats these bodies as empty: the body would run as a second request.
  for (const char* coding : {"xchunked", "gzip", "chunked, identity", "identity", "chunked,gzip"})
    EXPECT_EQ(refusal(std::string("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + coding +
                      "\r\n\r\n"),
              http::status::bad_request)
        << coding;
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            http::status::not_implemented);
  EXPECT_EQ(refusal("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"),
            http::status::not_implemented);
}

TEST(HeadCheck, HostIsRequiredOnceInHttp11) {
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\n\r\n"), http::status::bad_request);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), http::status::bad_request);
}

TEST(HeadCheck, ParserFailuresAreAnsweredButEndsAreNot) {
  http::request_parser<http::empty_body> parser;
  boost::system::error_code ec;
  std::string twice =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
  parser.put(boost::asio::buffer(twice), ec);
  ASSERT_TRUE(ec);
  auto r = parse_refusal(ec);
  ASSERT_TRUE(r) << ec.message();
  EXPECT_EQ(r->status, http::status::bad_request);
  // Beast itself refuses chunked applied twice.
  http::request_parser<http::empty_body> again;
  std::string chunked_twice =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "chunked\r\n\r\n";
  again.put(boost::asio::buffer(chunked_twice), ec);
  ASSERT_TRUE(parse_refusal(ec));
  EXPECT_EQ(parse_refusal(ec)->status, http::status::bad_request);
  EXPECT_FALSE(parse_refusal(http::error::end_of_stream));
  EXPECT_FALSE(parse_refusal(http::error::partial_message));
  EXPECT_FALSE(parse_refusal(boost::asio::error::connection_reset));
  EXPECT_EQ(parse_refusal(http::error::header_limit)->status,
            http::status::request_header_fields_too_large);
}

}  // namespace
}  // namespace valise::server
