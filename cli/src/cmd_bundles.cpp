// valise bundle list | get | delete: the encrypted bundles stored for tickets.
// `get` streams the download into a file that appears only once its SHA-256
// matches the bundle's record; a cut connection resumes with Range.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include "commands.hpp"
#include "failure.hpp"
#include "progress.hpp"
#include "server_options.hpp"
#include "table.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/tus_client.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

constexpr unsigned download_retries = 5;

struct bundle_options {
  server_options server;
  std::string ticket;
  std::string id;
  std::string output;
  bool force = false;
  bool quiet = false;
};

std::string bundle_path(const std::string& id) {
  return "/api/v1/bundles/" + path_segment(id);
}

// Counts, hashes and writes the downloaded bytes.
class verified_sink final : public crypto::byte_sink {
 public:
  verified_sink(crypto::byte_sink& inner, progress_bar& bar)
      : inner_(inner), bar_(bar), ctx_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  }
  ~verified_sink() override { EVP_MD_CTX_free(ctx_); }
  verified_sink(const verified_sink&) = delete;
  verified_sink& operator=(const verified_sink&) = delete;

  result<void> write(crypto::bytes data) override {
    if (auto r = inner_.write(data); !r) return r;
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    count_ += data.size();
    bar_.update(count_);
    return {};
  }
  std::uint64_t count() const { return count_; }
  std::string hex_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
    std::string out;
    for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
  }

 private:
  crypto::byte_sink& inner_;
  progress_bar& bar_;
  EVP_MD_CTX* ctx_;
  std::uint64_t count_ = 0;
};

void run_list(bundle_options& o) {
  check_ticket_ref(o.ticket);
  api_client api(o.server);
  const auto bundles =
      api.call("GET", "/api/v1/tickets/" + path_segment(o.ticket) + "/bundles", nullptr, 200,
               fmt::format("listing the bundles of ticket {}", terminal_text(o.ticket)));
  if (o.server.json) return print_json(bundles);
  if (elements(bundles).empty()) {
    std::printf("no bundles for ticket %s\n", terminal_text(o.ticket).c_str());
    return;
  }
  table out{{"BUNDLE", "SIZE", "CREATED", "SHA256", "SOURCE", "FILENAME"}, {false, true}, {}};
  for (const auto& b : elements(bundles)) {
    out.rows.push_back({field_text(b, "id"), human_size(field_size(b, "size")),
                        field_text(b, "created_at"), field_text(b, "sha256").substr(0, 16),
                        field_text(b, "source"), field_text(b, "filename")});
  }
  out.print();
}

// The bytes from `sink.count()` on, resuming after transient failures.
void download_content(api_client& api, const std::string& id, verified_sink& sink,
                      std::uint64_t size) {
  const std::string what = fmt::format("downloading bundle {}", terminal_text(id));
  std::mt19937 random(std::random_device{}());
  unsigned failures = 0;
  for (;;) {
    const std::uint64_t start = sink.count();
    common::http_request request{.method = "GET", .target = bundle_path(id) + "/content"};
    if (start > 0) request.headers.push_back({"Range", fmt::format("bytes={}-", start)});
    auto response = api.http().download(request, sink);
    if (response) {
      const unsigned expected = start > 0 ? 206 : 200;
      if (response->status == 200 && start > 0) {
        // The sink already took the whole body again after what it had.
        fail(fmt::format("{}: the server ignored the Range request after a cut connection", what),
             "run the command again");
      }
      if (response->status != expected) {
        fail_request(api.http(), common::make_status_error(response->status), what, *response);
      }
      if (sink.count() == size) return;
      fail(fmt::format("{}: the server sent {} bytes, the bundle has {}", what, sink.count(), size),
           "run the command again");
    }
    const bool progressed = sink.count() > start;
    if (progressed) failures = 0;
    if (!common::tus::is_transient(response.error()) || ++failures > download_retries) {
      fail_request(api.http(), response.error(), what, std::nullopt);
    }
    const auto wait =
        common::tus::backoff_delay(failures, std::chrono::seconds(1), std::chrono::seconds(30),
                                   std::uniform_real_distribution<double>(0.0, 1.0)(random));
    std::fprintf(stderr, "valise: %s: %s; retrying in %.0f s\n", what.c_str(),
                 response.error().message().c_str(), std::chrono::duration<double>(wait).count());
    std::this_thread::sleep_for(wait);
  }
}

void run_get(bundle_options& o) {
  api_client api(o.server);
  const auto bundle = api.call("GET", bundle_path(o.id), nullptr, 200,
                               fmt::format("bundle {}", terminal_text(o.id)));
  const std::uint64_t size = field_size(bundle, "size");
  const std::string expected = field_text(bundle, "sha256");

  auto output = check(common::atomic_file::create(o.output, {.overwrite = o.force}), o.output);
  const bool quiet = o.quiet || o.server.json;
  progress_bar bar("downloading", size, want_progress(quiet, size));
  verified_sink sink(output, bar);
  download_content(api, o.id, sink, size);
  bar.finish();
  const std::string actual = sink.hex_digest();
  if (actual != expected) {
    fail(fmt::format("bundle {}: the downloaded bytes have SHA-256 {}, the server's record says {}",
                     terminal_text(o.id), actual, expected),
         "nothing was written; run the command again, and tell the server's operator if it "
         "persists");
  }
  check(output.commit(), o.output);
  if (o.server.json) {
    return print_json(json::object{
        {"id", o.id}, {"file", o.output}, {"size", size}, {"sha256", actual}, {"verified", true}});
  }
  std::printf("wrote bundle %s to %s (%s), SHA-256 %s verified\n", terminal_text(o.id).c_str(),
              o.output.c_str(), human_size(size).c_str(), actual.c_str());
  std::printf("open it with: valise open %s\n", o.output.c_str());
}

void run_delete(bundle_options& o) {
  api_client api(o.server);
  const auto out = api.call("DELETE", bundle_path(o.id), nullptr, 200,
                            fmt::format("deleting bundle {}", terminal_text(o.id)));
  if (o.server.json) return print_json(out);
  const json::value none;
  const auto* object = out.if_object();
  for (const auto& b :
       elements(object && object->contains("purged") ? object->at("purged") : none)) {
    std::printf("destroyed bundle %s (%s, SHA-256 %s)\n", field_text(b, "id").c_str(),
                human_size(field_size(b, "size")).c_str(), field_text(b, "sha256").c_str());
  }
}

}  // namespace

void add_bundle_commands(CLI::App& app) {
  auto* group = app.add_subcommand("bundle", "Encrypted bundles stored on the server");
  group->require_subcommand(1);
  auto options = std::make_shared<bundle_options>();

  auto* list = group->add_subcommand("list", "List a ticket's bundles");
  list->add_option("ticket", options->ticket, "ticket reference")->required();
  add_server_options(*list, options->server);
  list->callback([options] { run_list(*options); });

  auto* get = group->add_subcommand("get", "Download a bundle, verifying its SHA-256");
  get->add_option("id", options->id, "bundle id (from `valise bundle list`)")->required();
  get->add_option("-o,--output", options->output, "file to write")->required();
  get->add_flag("-f,--force", options->force, "replace the file if it exists");
  get->add_flag("-q,--quiet", options->quiet, "no progress bar");
  add_server_options(*get, options->server);
  get->callback([options] { run_get(*options); });

  auto* remove = group->add_subcommand("delete", "Destroy a bundle on the server");
  remove->add_option("id", options->id, "bundle id")->required();
  add_server_options(*remove, options->server);
  remove->callback([options] { run_delete(*options); });
}

}  // namespace valise::cli
