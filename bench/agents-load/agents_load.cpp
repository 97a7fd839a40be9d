// valise-bench-agents: the load of N enrolled agents on one valise-server,
// in one process (bench/agents drives it; see bench/README.md). Each agent
// holds a mutual-TLS connection from its own loopback address and long-polls
// GET /api/v1/agent/jobs on it, as valise-agent does; after a lost
// connection it waits as valise-agent's poller does (service/reconnect.hpp,
// the same code). Phases: enroll what the work directory does not hold yet,
// connect with a jittered ramp-up, measure while connected (server RSS,
// technician calls, dispatch of requests), then ask the driver to restart
// the server ("RESTART" on stdout, "PID n" back on stdin) and time the
// reconnection. Results: one JSON object on stdout's last line.
//
// TLS is OpenSSL on the non-blocking socket itself (SSL_set_fd), driven by
// asio's readiness waits: no per-connection buffers but OpenSSL's own, which
// it gives back between records (SSL_MODE_RELEASE_BUFFERS), so that 10,000
// connections fit in this process.
#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "remote/reconnect.hpp"
#include "valise/common/openssl_ptr.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 8443;
  std::string ca, token, token_file, work, ticket = "BENCH-AGENTS";
  unsigned agents = 1000;
  unsigned per_address = 16;
  unsigned ramp_s = 60;
  unsigned poll_wait = 50;
  unsigned calls = 300;
  unsigned requests = 100;
  unsigned hold_s = 10;
  unsigned settle_timeout_s = 600;
  unsigned reconnect_window_ms = 0;  // 0: valise-agent's own
  int pid = 0;
  bool restart = true;
};

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

void log(const std::string& line) {
  std::cerr << line << std::endl;
}

// --- /proc -----------------------------------------------------------------

long status_kib(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field) + 1));
  return -1;
}

double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  auto close = all.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double loadavg() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1;
}

// --- TLS over asio's readiness waits ---------------------------------------

struct answer {
  unsigned status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
  bool close = false;
  std::string next;  // a Link header's rel="next" target (a paged list)
};

// One HTTP/1.1 client connection over TLS. Failures throw nothing: every
// call returns false (or nullopt) and the connection is done.
class conn {
 public:
  conn(asio::any_io_executor ex, SSL_CTX* ctx) : socket_(ex), ssl_(SSL_new(ctx)) {}
  conn(const conn&) = delete;
  conn& operator=(const conn&) = delete;
  ~conn() {
    if (ssl_) SSL_free(ssl_);
  }
  tcp::socket& socket() { return socket_; }
  SSL* ssl() { return ssl_; }

  awaitable<bool> connect(const tcp::endpoint& to, std::optional<asio::ip::address> from) {
    boost::system::error_code ec;
    socket_.open(tcp::v4(), ec);
    if (ec) co_return false;
    if (from) {
      socket_.set_option(asio::socket_base::reuse_address(true), ec);
      socket_.bind(tcp::endpoint(*from, 0), ec);
      if (ec) co_return false;
    }
    auto [connect_ec] = co_await socket_.async_connect(to, tuple);
    if (connect_ec) {
      error_ = connect_ec.message();
      co_return false;
    }
    tcp_up_ = true;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
    SSL_set_connect_state(ssl_);
    co_return co_await drive([this] { return SSL_do_handshake(ssl_); });
  }

  awaitable<std::optional<answer>> call(const std::string& method, const std::string& target,
                                        const std::string& auth, const std::string& body) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
    if (!auth.empty()) req += "Authorization: Bearer " + auth + "\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n";
    req += "\r\n" + body;
    std::size_t sent = 0;
    while (sent < req.size()) {
      std::size_t n = 0;
      if (!co_await drive([&] {
            return SSL_write_ex(ssl_, req.data() + sent, req.size() - sent, &n) == 1 ? 1 : 0;
          }))
        co_return std::nullopt;
      sent += n;
    }
    co_return co_await read_answer();
  }

  void close() {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  const std::string& error() const { return error_; }
  bool tcp_up() const { return tcp_up_; }

 private:
  // Runs an OpenSSL call until it stops wanting the socket.
  template <class F>
  awaitable<bool> drive(F f) {
    for (;;) {
      ERR_clear_error();
      const int r = f();
      if (r > 0) co_return true;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ) {
        auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, tuple);
        if (ec) co_return fail(ec.message());
      } else if (e == SSL_ERROR_WANT_WRITE) {
        auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, tuple);
        if (ec) co_return fail(ec.message());
      } else {
        char text[256];
        ERR_error_string_n(ERR_peek_last_error(), text, sizeof text);
        co_return fail(e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL ? "closed" : text);
      }
    }
  }
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  awaitable<bool> fill() {
    char chunk[4096];
    std::size_t n = 0;
    if (!co_await drive([&] { return SSL_read_ex(ssl_, chunk, sizeof chunk, &n) == 1 ? 1 : 0; }))
      co_return false;
    in_.append(chunk, n);
    co_return true;
  }

  awaitable<std::optional<answer>> read_answer() {
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos)
      if (in_.size() > 65536 || !co_await fill()) co_return std::nullopt;
    answer a;
    std::string head = in_.substr(0, end);
    in_.erase(0, end + 4);
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) co_return std::nullopt;
    a.status = static_cast<unsigned>(std::stoul(head.substr(9, 3)));
    std::size_t length = 0;
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      if (name == "content-length")
        length = std::stoul(value);
      else if (name == "retry-after")
        a.retry_after = valise::agent::parse_retry_after(value);
      else if (name == "connection" && value.find("close") != std::string::npos)
        a.close = true;
      else if (name == "link" && value.find("rel=\"next\"") != std::string::npos &&
               value.find('<') != std::string::npos)
        a.next = value.substr(value.find('<') + 1, value.find('>') - value.find('<') - 1);
      else if (name == "transfer-encoding")
        co_return std::nullopt;  // the server sizes its JSON answers
    }
    while (in_.size() < length)
      if (!co_await fill()) co_return std::nullopt;
    a.body = in_.substr(0, length);
    in_.erase(0, length);
    co_return a;
  }

  tcp::socket socket_;
  SSL* ssl_;
  std::string in_;
  std::string error_;
  bool tcp_up_ = false;
};

// --- agents ----------------------------------------------------------------

using valise::common::bio_ptr;
using valise::common::pkey_ptr;
using valise::common::req_ptr;
using valise::common::x509_ptr;

struct agent_identity {
  std::string id;
  x509_ptr cert;
  pkey_ptr key;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Mode 0600 whatever the umask: the files hold agents' private keys.
void write_private(const fs::path& p, const std::string& s) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(errno));
  const bool ok =
      ::fchmod(fd, 0600) == 0 && ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + p.string() + ": " + std::strerror(errno));
}

std::string text_of(BIO* b) {
  char* data;
  long n = BIO_get_mem_data(b, &data);
  return {data, static_cast<std::size_t>(n)};
}

std::string pem_of_key(EVP_PKEY* key) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return text_of(b.get());
}

std::string csr_of(EVP_PKEY* key) {
  req_ptr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("bench"), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  X509_REQ_sign(req.get(), key, EVP_sha256());
  bio_ptr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(b.get(), req.get());
  return text_of(b.get());
}

bool load_identity(const fs::path& dir, unsigned i, agent_identity& out) {
  const auto base = dir / std::to_string(i);
  if (!fs::exists(base.string() + ".id")) return false;
  out.id = read_text(base.string() + ".id");
  auto cert = read_text(base.string() + ".crt"), key = read_text(base.string() + ".key");
  bio_ptr b(BIO_new_mem_buf(cert.data(), static_cast<int>(cert.size())));
  out.cert.reset(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  b.reset(BIO_new_mem_buf(key.data(), static_cast<int>(key.size())));
  out.key.reset(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  return !out.id.empty() && out.cert && out.key;
}

// The directory of the agents' keys: made 0700, or an existing one of this
// user's made 0700, never one another user could have prepared.
void private_directory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    throw std::runtime_error("cannot make " + dir.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
    throw std::runtime_error(dir.string() + " is not a directory of this user's");
  if (::chmod(dir.c_str(), 0700) != 0)
    throw std::runtime_error("cannot chmod " + dir.string() + ": " + std::strerror(errno));
}

// The technician's token from a file (--token-file) or $VALISE_TOKEN, never
// from the command line, which every user sees in ps.
std::string technician_token(const std::string& file) {
  std::string token;
  if (!file.empty()) {
    token = read_text(file);
  } else if (const char* env = std::getenv("VALISE_TOKEN")) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  return token;
}

struct sample_set {
  std::vector<double> v;
  double pct(double q) {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
    return v[std::min(i, v.size() - 1)];
  }
};

struct shared {
  std::mutex mutex;
  std::map<std::string, steady::time_point> delivered;  // request id -> long-poll answer
  std::atomic<unsigned> waiting{0};     // agents with a long-poll sent and not answered
  std::atomic<unsigned> handshakes{0};  // done, all agents
  std::atomic<unsigned> connect_failed{0}, tls_failed{0}, lost{0}, busy{0}, other_status{0};
  std::atomic<unsigned> retry_after_seen{0};
  std::atomic<unsigned> polls{0};
  std::atomic<bool> stop{false};
};

class load {
 public:
  load(options o, asio::io_context& ioc, SSL_CTX* ctx, shared& s)
      : o_(std::move(o)), ioc_(ioc), ctx_(ctx), s_(s) {
    endpoint_ = tcp::endpoint(asio::ip::make_address(o_.host), o_.port);
  }

  std::vector<agent_identity> ids;

  asio::ip::address source_of(unsigned i) const {
    const unsigned a = i / o_.per_address;  // 127.1.0.1 onwards
    return asio::ip::make_address_v4(asio::ip::address_v4::bytes_type{
        127, static_cast<unsigned char>(1 + a / 250), static_cast<unsigned char>(a % 250),
        static_cast<unsigned char>(1)});
  }

  awaitable<void> run_agent(unsigned i, std::chrono::milliseconds start_after) {
    asio::steady_timer timer(ioc_);
    timer.expires_after(start_after);
    co_await timer.async_wait(tuple);
    std::mt19937 random(i * 7919u + 17);
    std::uniform_real_distribution<> draw(0, 1);
    valise::agent::reconnect_policy policy;
    if (o_.reconnect_window_ms)
      policy.first_window = std::chrono::milliseconds(o_.reconnect_window_ms);
    valise::agent::reconnect_backoff backoff(policy);
    auto& me = ids[i];
    while (!s_.stop) {
      std::optional<std::chrono::seconds> retry_after;
      auto end = valise::agent::attempt_end::failed;
      auto sent = steady::now();
      bool resend = false;
      auto c = std::make_unique<conn>(ioc_.get_executor(), ctx_);
      SSL_use_certificate(c->ssl(), me.cert.get());
      SSL_use_PrivateKey(c->ssl(), me.key.get());
      if (!co_await c->connect(endpoint_, source_of(i))) {
        ++(c->tcp_up() ? s_.tls_failed : s_.connect_failed);
      } else {
        ++s_.handshakes;
        for (bool reused = false;; reused = true) {
          ++s_.waiting;
          ++s_.polls;
          sent = steady::now();
          auto a = co_await c->call(
              "GET", "/api/v1/agent/jobs?wait=" + std::to_string(o_.poll_wait), {}, {});
          --s_.waiting;
          if (!a) {
            ++s_.lost;
            end = valise::agent::attempt_end::cut;
            // valise-agent's https_client sends a GET again at once, on a new
            // connection, when a kept-alive one was closed before any answer.
            resend = reused;
            break;
          }
          if (a->retry_after) ++s_.retry_after_seen;
          if (valise::agent::sheds_load(a->status)) {
            ++s_.busy;
            retry_after = a->retry_after;
            end = valise::agent::attempt_end::busy;
            break;
          }
          if (a->status != 200) {
            ++s_.other_status;
            break;
          }
          backoff.succeeded();
          auto jobs = json::parse(a->body).as_object().at("jobs").as_array();
          bool ok = true;
          for (auto& j : jobs) {
            std::string id(j.as_object().at("id").as_string());
            {
              std::lock_guard lock(s_.mutex);
              s_.delivered.emplace(id, steady::now());
            }
            auto r = co_await c->call("POST", "/api/v1/agent/requests/" + id + "/status", {},
                                      R"({"state":"failed","error":"bench: not collected"})");
            if (!r || r->status != 200) ok = false;
          }
          if (!ok || a->close) break;
        }
      }
      c->close();
      if (s_.stop) break;
      if (std::exchange(resend, false)) continue;
      timer.expires_after(backoff.failed(
          end, std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - sent),
          retry_after, draw(random)));
      co_await timer.async_wait(tuple);
    }
  }

 private:
  options o_;
  asio::io_context& ioc_;
  SSL_CTX* ctx_;
  shared& s_;
  tcp::endpoint endpoint_;
};

// The technician's side, on its own thread and loop, so that its timings do
// not wait behind the agents' work in this process.
class technician {
 public:
  technician(const options& o, SSL_CTX* ctx) : o_(o), ctx_(ctx) {
    endpoint_ = tcp::endpoint(asio::ip::make_address(o_.host), o_.port);
  }
  template <class F>
  auto run(F f) {
    asio::io_context ioc;
    typename std::invoke_result_t<F, technician&, asio::io_context&>::value_type out{};
    asio::co_spawn(
        ioc, [&]() -> awaitable<void> { out = co_await f(*this, ioc); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    ioc.run();
    c_.reset();  // its socket belongs to this loop
    return out;
  }
  awaitable<std::optional<answer>> call(asio::io_context& ioc, const std::string& method,
                                        const std::string& target, const std::string& body = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!c_) {
        c_ = std::make_unique<conn>(ioc.get_executor(), ctx_);
        if (!co_await c_->connect(endpoint_, asio::ip::make_address("127.0.0.1"))) {
          c_.reset();
          continue;
        }
      }
      auto a = co_await c_->call(method, target, o_.token, body);
      if (a && !a->close) co_return a;
      c_.reset();
      if (a) co_return a;
    }
    co_return std::nullopt;
  }
  void reset() { c_.reset(); }

 private:
  const options& o_;
  SSL_CTX* ctx_;
  tcp::endpoint endpoint_;
  std::unique_ptr<conn> c_;
};

SSL_CTX* client_context(const options& o) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, o.ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // As valise-agent: a new connection makes a full handshake.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return ctx;
}

// Enrolls agents [have, n) into `dir`, `parallel` at a time.
void enroll(const options& o, SSL_CTX* ctx, const fs::path& dir, unsigned from, unsigned n) {
  std::atomic<unsigned> next{from}, done{0};
  auto worker = [&](unsigned w) {
    technician t(o, ctx);
    t.run([&](technician& self, asio::io_context& ioc) -> awaitable<int> {
      (void)w;
      for (unsigned i; (i = next++) < n;) {
        auto tok = co_await self.call(ioc, "POST", "/api/v1/enroll-tokens", "{}");
        if (!tok || tok->status != 201) throw std::runtime_error("enroll-tokens failed");
        auto token = std::string(json::parse(tok->body).at("token").as_string());
        pkey_ptr key(EVP_EC_gen("P-256"));
        if (!key) throw std::runtime_error("cannot make a P-256 key");
        json::object body{{"csr", csr_of(key.get())}, {"hostname", "bench-" + std::to_string(i)}};
        conn c(ioc.get_executor(), ctx);
        if (!co_await c.connect(tcp::endpoint(asio::ip::make_address(o.host), o.port),
                                asio::ip::make_address("127.0.0.3")))
          throw std::runtime_error("enroll: cannot connect: " + c.error());
        auto a = co_await c.call("POST", "/api/v1/enroll", token, json::serialize(body));
        if (!a || a->status != 201)
          throw std::runtime_error("enroll failed: " + (a ? a->body : c.error()));
        auto answer = json::parse(a->body).as_object();
        const auto base = (dir / std::to_string(i)).string();
        write_private(base + ".key", pem_of_key(key.get()));
        write_private(base + ".crt", std::string(answer.at("certificate").as_string()));
        write_private(base + ".id", std::string(answer.at("agent_id").as_string()));
        if (++done % 500 == 0) log("enrolled " + std::to_string(from + done));
      }
      co_return 0;
    });
  };
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < 4; ++w) workers.emplace_back(worker, w);
  for (auto& t : workers) t.join();
}

struct call_times {
  sample_set tickets;
  sample_set agents;      // the first page, as the console asks for it
  sample_set all_agents;  // every page of 1,000, as `valise agent list` reads them
  unsigned pages = 0;     // in the last full listing
};

awaitable<call_times> technician_calls(technician& t, asio::io_context& ioc, unsigned calls) {
  call_times out;
  auto get = [&](std::string target) -> awaitable<answer> {
    auto a = co_await t.call(ioc, "GET", target);
    if (!a || a->status != 200) throw std::runtime_error("GET " + target + " failed");
    co_return std::move(*a);
  };
  for (unsigned i = 0; i < calls; ++i) {
    auto began = steady::now();
    co_await get("/api/v1/tickets");
    out.tickets.v.push_back(seconds_since(began) * 1000);
    began = steady::now();
    co_await get("/api/v1/agents");
    out.agents.v.push_back(seconds_since(began) * 1000);
    began = steady::now();
    out.pages = 0;
    for (std::string next = "/api/v1/agents?limit=1000"; !next.empty(); ++out.pages)
      next = (co_await get(next)).next;
    out.all_agents.v.push_back(seconds_since(began) * 1000);
    asio::steady_timer pause(ioc, std::chrono::milliseconds(20));
    co_await pause.async_wait(tuple);
  }
  co_return out;
}

struct dispatch_result {
  sample_set from_answer, from_ask;
  unsigned missing = 0;
};

dispatch_result dispatch(const options& o, SSL_CTX* ctx, shared& s,
                         const std::vector<agent_identity>& ids) {
  technician t(o, ctx);
  std::vector<std::tuple<std::string, steady::time_point, steady::time_point>> asked;
  t.run([&](technician& self, asio::io_context& ioc) -> awaitable<int> {
    std::mt19937 random(42);
    for (unsigned i = 0; i < o.requests; ++i) {
      const auto& who = ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(random)];
      json::object body{{"agent", who.id}, {"profile", "bench"}};
      auto sent = steady::now();
      auto a = co_await self.call(ioc, "POST", "/api/v1/tickets/" + o.ticket + "/requests",
                                  json::serialize(body));
      auto answered = steady::now();
      if (!a || a->status != 201)
        throw std::runtime_error("create request failed: " + (a ? a->body : std::string("lost")));
      asked.emplace_back(std::string(json::parse(a->body).at("id").as_string()), sent, answered);
      asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
      co_await pause.async_wait(tuple);
    }
    co_return 0;
  });
  std::this_thread::sleep_for(std::chrono::seconds(3));
  dispatch_result r;
  std::lock_guard lock(s.mutex);
  for (auto& [id, sent, answered] : asked) {
    auto it = s.delivered.find(id);
    if (it == s.delivered.end()) {
      ++r.missing;
      continue;
    }
    r.from_answer.v.push_back(
        std::max(0.0, std::chrono::duration<double>(it->second - answered).count() * 1000));
    r.from_ask.v.push_back(std::chrono::duration<double>(it->second - sent).count() * 1000);
  }
  return r;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") {
      auto u = value();  // https://HOST:PORT
      auto rest = u.substr(u.find("://") + 3);
      auto colon = rest.rfind(':');
      o.host = rest.substr(0, colon);
      o.port = static_cast<unsigned short>(std::stoul(rest.substr(colon + 1)));
    } else if (a == "--ca")
      o.ca = value();
    else if (a == "--token-file")
      o.token_file = value();
    else if (a == "--work")
      o.work = value();
    else if (a == "--ticket")
      o.ticket = value();
    else if (a == "--agents")
      o.agents = std::stoul(value());
    else if (a == "--per-address")
      o.per_address = std::stoul(value());
    else if (a == "--ramp")
      o.ramp_s = std::stoul(value());
    else if (a == "--poll-wait")
      o.poll_wait = std::stoul(value());
    else if (a == "--calls")
      o.calls = std::stoul(value());
    else if (a == "--requests")
      o.requests = std::stoul(value());
    else if (a == "--hold")
      o.hold_s = std::stoul(value());
    else if (a == "--reconnect-window")
      o.reconnect_window_ms = std::stoul(value());
    else if (a == "--pid")
      o.pid = std::stoi(value());
    else if (a == "--no-restart")
      o.restart = false;
    else
      throw std::runtime_error("unknown option " + a);
  }
  o.token = technician_token(o.token_file);
  if (o.ca.empty() || o.token.empty() || o.work.empty())
    throw std::runtime_error("--ca, --token-file (or $VALISE_TOKEN) and --work are required");
  return o;
}

// Waits until `pred` or the timeout, sampling the server; returns seconds taken, or -1.
template <class P>
double wait_until(P pred, unsigned timeout_s, const std::string& what, const shared& s) {
  auto began = steady::now();
  auto next_log = began;
  while (!pred()) {
    if (seconds_since(began) > timeout_s) return -1;
    if (steady::now() >= next_log) {
      log(what + ": " + std::to_string(s.waiting.load()) + " waiting, " +
          std::to_string(s.handshakes.load()) + " handshakes, " + std::to_string(s.busy.load()) +
          " answered 503, load " + std::to_string(loadavg()));
      next_log += std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return seconds_since(began);
}

}  // namespace

int main(int argc, char** argv) try {
  auto o = parse(argc, argv);
  // A write to a connection the restarting server reset fails with EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  SSL_CTX* ctx = client_context(o);
  const fs::path dir = fs::path(o.work) / "agents";
  private_directory(o.work);
  private_directory(dir);
  json::object out;

  // Enrollment: what the work directory holds is reused.
  std::vector<agent_identity> ids(o.agents);
  unsigned have = 0;
  while (have < o.agents && load_identity(dir, have, ids[have])) ++have;
  if (have < o.agents) {
    log("enrolling " + std::to_string(o.agents - have) + " agents");
    auto began = steady::now();
    enroll(o, ctx, dir, have, o.agents);
    out["enroll_s"] = seconds_since(began);
    for (unsigned i = have; i < o.agents; ++i)
      if (!load_identity(dir, i, ids[i])) throw std::runtime_error("enrolled agent not readable");
  }
  {
    technician t(o, ctx);
    t.run([&](technician& self, asio::io_context& ioc) -> awaitable<int> {
      json::object ticket{
          {"ref", o.ticket}, {"title", "bench/agents"}, {"severity", "non-blocking"}};
      auto a = co_await self.call(ioc, "POST", "/api/v1/tickets", json::serialize(ticket));
      if (!a || (a->status != 201 && a->status != 409))
        throw std::runtime_error("create ticket failed: " + (a ? a->body : std::string("lost")));
      co_return 0;
    });
  }

  shared s;
  asio::io_context ioc(1);
  load l(o, ioc, ctx, s);
  l.ids = std::move(ids);
  std::mt19937 random(1);
  const double rss_idle = o.pid ? status_kib(o.pid, "VmRSS:") / 1024.0 : -1;
  const double cpu_before = o.pid ? cpu_seconds(o.pid) : 0;
  for (unsigned i = 0; i < o.agents; ++i) {
    auto at = std::chrono::milliseconds(
        std::uniform_int_distribution<unsigned>(0, o.ramp_s * 1000)(random));
    asio::co_spawn(ioc, l.run_agent(i, at), asio::detached);
  }
  // Never joined: an exception below ends the process with its message.
  std::thread([&] { ioc.run(); }).detach();
  auto began = steady::now();
  log("connecting " + std::to_string(o.agents) + " agents over " + std::to_string(o.ramp_s) + " s");
  const double connected_s =
      wait_until([&] { return s.waiting.load() >= o.agents; }, o.settle_timeout_s, "ramp-up", s);
  out["agents"] = o.agents;
  out["ramp_s"] = o.ramp_s;
  out["connected_s"] = connected_s;
  out["ramp_server_cpu_s"] = o.pid ? cpu_seconds(o.pid) - cpu_before : -1;
  out["ramp_busy"] = s.busy.load();
  log("all connected after " + std::to_string(seconds_since(began)) + " s; holding " +
      std::to_string(o.hold_s) + " s");
  std::this_thread::sleep_for(std::chrono::seconds(o.hold_s));
  out["rss_idle_mib"] = rss_idle;
  if (o.pid) {
    out["rss_connected_mib"] = status_kib(o.pid, "VmRSS:") / 1024.0;
    out["fds"] = static_cast<std::uint64_t>(
        std::distance(fs::directory_iterator("/proc/" + std::to_string(o.pid) + "/fd"), {}));
  }
  out["load_connected"] = loadavg();

  // The technician while they are connected.
  {
    technician t(o, ctx);
    const double cpu0 = o.pid ? cpu_seconds(o.pid) : 0;
    auto began_calls = steady::now();
    auto times = t.run([&](technician& self, asio::io_context& tioc) {
      return technician_calls(self, tioc, o.calls);
    });
    const double wall = seconds_since(began_calls);
    out["tickets_p50_ms"] = times.tickets.pct(0.5);
    out["tickets_p99_ms"] = times.tickets.pct(0.99);
    out["agents_p50_ms"] = times.agents.pct(0.5);
    out["agents_p99_ms"] = times.agents.pct(0.99);
    out["all_agents_p50_ms"] = times.all_agents.pct(0.5);
    out["all_agents_p99_ms"] = times.all_agents.pct(0.99);
    out["all_agents_pages"] = times.pages;
    out["calls_server_cpu"] = o.pid ? (cpu_seconds(o.pid) - cpu0) / wall : -1;
    out["waiting_during_calls"] = s.waiting.load();
  }
  {
    auto d = dispatch(o, ctx, s, l.ids);
    out["dispatch_p50_ms"] = d.from_answer.pct(0.5);
    out["dispatch_p99_ms"] = d.from_answer.pct(0.99);
    out["dispatch_max_ms"] = d.from_answer.pct(1.0);
    out["dispatch_from_ask_p99_ms"] = d.from_ask.pct(0.99);
    out["dispatch_missing"] = d.missing;
    out["requests"] = o.requests;
  }
  if (o.pid) out["rss_after_mib"] = status_kib(o.pid, "VmRSS:") / 1024.0;
  out["waiting_before_restart"] = s.waiting.load();
  out["tool_rss_mib"] = status_kib(getpid(), "VmRSS:") / 1024.0;

  if (o.restart) {
    // The driver restarts the server and answers with its new pid.
    const unsigned busy0 = s.busy, ra0 = s.retry_after_seen, refused0 = s.connect_failed,
                   tls0 = s.tls_failed, hs0 = s.handshakes;
    std::cout << "RESTART" << std::endl;
    auto asked = steady::now();
    std::string word;
    int pid = 0;
    std::cin >> word >> pid;
    const double restart_took = seconds_since(asked);
    const double cpu0 = pid ? cpu_seconds(pid) : 0;
    double peak_rss = 0;
    const double back = wait_until(
        [&] {
          if (pid) peak_rss = std::max(peak_rss, status_kib(pid, "VmRSS:") / 1024.0);
          return s.waiting.load() >= o.agents;
        },
        o.settle_timeout_s, "reconnection", s);
    out["restart_s"] = restart_took;
    out["reconnected_s"] = back < 0 ? back : back + restart_took;
    out["reconnect_server_cpu_s"] = pid ? cpu_seconds(pid) - cpu0 : -1;
    out["reconnect_busy"] = s.busy - busy0;
    out["reconnect_retry_after"] = s.retry_after_seen - ra0;
    out["reconnect_refused"] = s.connect_failed - refused0;
    out["reconnect_tls_failed"] = s.tls_failed - tls0;
    out["reconnect_handshakes"] = s.handshakes - hs0;
    out["reconnect_peak_rss_mib"] = peak_rss;
    out["load_reconnected"] = loadavg();
  }
  out["tool_cpu_s"] = self_cpu();
  s.stop = true;
  ioc.stop();
  std::cout << json::serialize(out) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "valise-bench-agents: " << e.what() << std::endl;
  std::_Exit(1);
}
