// tus_failure_response words every failure the same way: one code (tus's,
// the policy's or the store's), then the message, the hint and the fields
// it carries, whichever the code.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/upload_service.hpp"

namespace valise::server {
namespace {

boost::json::object body_of(const response& res) {
  return boost::json::parse(res.body()).as_object();
}

TEST(TusFailureResponse, ATusCodeKeepsItsHintAndFields) {
  auto res = tus_failure_response({.code = tus::error::offset_mismatch,
                                   .message = "m",
                                   .hint = "h",
                                   .fields = {{"state", "s"}}});
  EXPECT_EQ(res.result_int(), 409u);
  auto body = body_of(res);
  EXPECT_EQ(body.at("error"), "offset_mismatch");
  EXPECT_EQ(body.at("message"), "m");
  EXPECT_EQ(body.at("hint"), "h");
  EXPECT_EQ(body.at("state"), "s");
}

TEST(TusFailureResponse, APolicyRefusalKeepsItsHintAndFields) {
  auto res = tus_failure_response({.code = uploads::refusal::request_has_bundle,
                                   .message = "m",
                                   .hint = "h",
                                   .fields = {{"bundle_id", "bnd_1"}}});
  auto body = body_of(res);
  EXPECT_EQ(body.at("error"), "request_has_bundle");
  EXPECT_EQ(body.at("hint"), "h");
  EXPECT_EQ(body.at("bundle_id"), "bnd_1");
  // No hint: the catalogue's.
  auto plain = body_of(tus_failure_response({.code = uploads::refusal::quota_exceeded}));
  EXPECT_TRUE(plain.contains("hint"));
}

TEST(TusFailureResponse, AStoreErrorIsWordedAboutItsSubjectWithItsFields) {
  auto gone = tus_failure_response({.code = store_errc::not_found, .subject = "upload upl_1"});
  EXPECT_EQ(gone.result_int(), 404u);
  EXPECT_EQ(body_of(gone).at("error"), "upload_not_found");
  EXPECT_EQ(body_of(gone).at("message"), "no upload upl_1");
  auto resolved = tus_failure_response({.code = store_errc::ticket_resolved,
                                        .subject = "ticket \"T-1\"",
                                        .hint = "h",
                                        .fields = {{"state", "s"}}});
  auto body = body_of(resolved);
  EXPECT_EQ(body.at("error"), "ticket_resolved");
  EXPECT_EQ(body.at("message"), "ticket \"T-1\": the ticket is resolved");
  EXPECT_EQ(body.at("hint"), "h");
  EXPECT_EQ(body.at("state"), "s");
  // An unexpected error's cause is logged, not sent.
  auto broken = tus_failure_response(
      {.code = std::make_error_code(std::errc::io_error), .subject = "upload upl_1"});
  EXPECT_EQ(broken.result_int(), 500u);
  EXPECT_EQ(body_of(broken).at("message"), "internal error on upload upl_1");
}

}  // namespace
}  // namespace valise::server
