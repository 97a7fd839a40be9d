// The redactor alone, on one core: redact_bench [--runs N] [--emails] [--ips] FILE...
// Each file is read into memory whole (.gz ones decompressed first, as the
// agent stores them: zcat them beforehand), then written through a fresh
// redactor in 256 KiB pieces, as the file collector does; prints the CPU time
// and throughput of each run, and the redactions made. Not a test: a tool for
// docs/performance.md ("Collection (issue 4)").
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "redact/redactor.hpp"

namespace {

using namespace valise;

struct counting_sink final : crypto::byte_sink {
  std::uint64_t bytes = 0;
  result<void> write(crypto::bytes data) override {
    bytes += data.size();
    return {};
  }
};

double cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  bool emails = false, ips = false;
  std::string text;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (arg == "--emails") {
      emails = true;
    } else if (arg == "--ips") {
      ips = true;
    } else {
      std::ifstream in(arg, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "redact_bench: cannot read %s\n", arg.c_str());
        return 1;
      }
      text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (text.empty()) {
    std::fprintf(stderr, "usage: redact_bench [--runs N] [--emails] [--ips] FILE...\n");
    return 2;
  }
  auto rules = agent::redact::rule_set::compile({}, true, emails, ips);
  if (!rules) {
    std::fprintf(stderr, "redact_bench: %s\n", rules.error().c_str());
    return 1;
  }
  constexpr std::size_t piece = 256 * 1024;
  for (int run = 0; run < runs; ++run) {
    counting_sink sink;
    const double start = cpu_seconds();
    agent::redact::redactor r(*rules, sink);
    for (std::size_t at = 0; at < text.size(); at += piece) {
      const auto n = std::min(piece, text.size() - at);
      (void)r.write({reinterpret_cast<const std::uint8_t*>(text.data() + at), n});
    }
    (void)r.finish();  // a counting sink does not fail
    const double seconds = cpu_seconds() - start;
    std::uint64_t redactions = 0;
    for (const auto& [rule, count] : r.counts()) redactions += count;
    std::printf("%zu bytes in, %llu out, %llu redactions: %.3f s CPU, %.0f MB/s\n", text.size(),
                static_cast<unsigned long long>(sink.bytes),
                static_cast<unsigned long long>(redactions), seconds,
                static_cast<double>(text.size()) / seconds / 1e6);
  }
  return 0;
}
