// accept_connections: ends once its acceptor is closed (the server stopping
// on SIGTERM), also while the handshake gate (max_handshakes) is full.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>

#include "http/connection.hpp"
#include "pki.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// Never reached: no connection gets past the gate in these tests.
struct no_app final : request_handler {
  std::variant<admitted, response> admit(const request_head&, unix_time, const std::string&,
                                         const client_info&) override {
    return response{};
  }
  std::function<void(http::fields&)> request_headers(const request_head&) const override {
    return [](http::fields&) {};
  }
  void add_common_headers(http::response_header<>&) const override {}
  response failure_response(http_failure, std::string) const override { return response{}; }
};

struct stats final : connection_stats {};

class AcceptLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/valise-accept-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    config_.data_dir = tmpl;
    fs::create_directories(config_.data_dir / "tls");
    const ca_paths ca{config_.data_dir / "ca.pem", config_.data_dir / "ca.key"};
    ASSERT_TRUE(create_ca(ca, "valise CA test"));
    ASSERT_TRUE(create_server_certificate(ca, "localhost", config_.resolve(config_.certificate),
                                          config_.resolve(config_.private_key)));
    auto tls = tls_contexts::load(tls_settings_of(config_));
    ASSERT_TRUE(tls) << tls.error();
    tls_ = std::move(*tls);
    ctx_.emplace(connection_context{*tls_, app_, stats_, budget_, *proxies_, {}});
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(ioc_, accept_connections(acceptor_, *ctx_),
                   [this](std::exception_ptr) { ended_ = true; });
  }
  void TearDown() override { fs::remove_all(config_.data_dir); }

  server_config config_;
  std::unique_ptr<tls_contexts> tls_;
  no_app app_;
  stats stats_;
  connection_budget budget_{{.max_handshakes = 1}};
  std::optional<address_set> proxies_ = address_set::parse({});
  std::optional<connection_context> ctx_;
  asio::io_context ioc_;
  asio::ip::tcp::acceptor acceptor_{ioc_};
  bool ended_ = false;
};

TEST_F(AcceptLoop, EndsWhenItsAcceptorClosesWhileTheGateIsFull) {
  auto in_flight = budget_.start_handshake();  // the gate's one place, taken
  ioc_.run_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(ended_);
  acceptor_.close();
  ioc_.run_for(std::chrono::seconds(5));  // returns once the loop ended
  EXPECT_TRUE(ended_);
}

TEST_F(AcceptLoop, EndsWhenTheGateOpensAfterItsAcceptorClosed) {
  auto in_flight = budget_.start_handshake();
  ioc_.run_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(ended_);
  // Closed, then the gate opens before the loop looks again: its accept
  // finds no acceptor, which is no failure to back off from and retry.
  acceptor_.close();
  in_flight.done();
  ioc_.run_for(std::chrono::seconds(5));  // returns once the loop ended
  EXPECT_TRUE(ended_);
}

TEST_F(AcceptLoop, EndsWhenItsAcceptorClosesWhileAccepting) {
  ioc_.run_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(ended_);
  acceptor_.close();
  ioc_.run_for(std::chrono::seconds(5));  // returns once the loop ended
  EXPECT_TRUE(ended_);
}

}  // namespace
}  // namespace valise::server
