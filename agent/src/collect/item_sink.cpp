#include "collect/item_sink.hpp"

namespace valise::agent::detail {

std::string collection_run::cap_text() const {
  return "bundle cap of " + std::to_string(p.max_bundle_bytes) + " bytes reached";
}

void collection_run::skip_for_cap(std::string path, std::string source) {
  ++skipped_by_cap;
  writer.add_failure(std::move(path), std::move(source), "not collected: " + cap_text());
}

// Between the redactor and the entry: stops at the bundle cap, counts what
// is stored and reports progress.
struct item_sink::capped_output final : crypto::byte_sink {
  collection_run& run;
  crypto::byte_sink& entry;
  bool& capped;
  std::uint64_t stored = 0;
  capped_output(collection_run& r, crypto::byte_sink& e, bool& c) : run(r), entry(e), capped(c) {}

  result<void> write(crypto::bytes data) override {
    data = data.first(admitted(data.size()));
    if (data.empty()) return {};
    if (auto r = entry.write(data); !r) return r;
    count(data.size());
    return {};
  }

  result<void> write_owned(std::string& data) override {
    data.resize(admitted(data.size()));
    const auto size = data.size();
    if (data.empty()) return {};
    if (auto r = entry.write_owned(data); !r) return r;
    count(size);
    return {};
  }

  // How much of `size` bytes the bundle cap lets through.
  std::size_t admitted(std::size_t size) {
    const auto left = run.budget_left();
    if (size <= left) return size;
    capped = true;
    return static_cast<std::size_t>(left);
  }

  void count(std::size_t size) {
    stored += size;
    run.collected += size;
    if (run.options.progress) run.options.progress(run.collected);
  }
};

item_sink::item_sink(collection_run& run, crypto::byte_sink& entry)
    : run_(run),
      capped_output_(std::make_unique<capped_output>(run, entry, capped_)),
      redactor_(std::make_unique<redact::redactor>(run.rules, *capped_output_)) {}

item_sink::~item_sink() {
  if (open_) (void)run_.writer.abandon_entry("not finished");
}

result<std::unique_ptr<item_sink>> item_sink::open(collection_run& run, std::string path,
                                                   std::string source, std::time_t mtime) {
  if (run.cap_reached()) {
    run.skip_for_cap(std::move(path), std::move(source));
    return std::unique_ptr<item_sink>();
  }
  auto entry = run.writer.begin_entry(std::move(path), std::move(source), mtime);
  if (!entry) return entry.error();
  return std::unique_ptr<item_sink>(new item_sink(run, **entry));
}

result<void> item_sink::write(crypto::bytes data) {
  if (capped_) return {};
  return redactor_->write(data);
}

result<void> item_sink::restart() {
  run_.collected -= capped_output_->stored;
  capped_output_->stored = 0;
  capped_ = false;
  redactor_ = std::make_unique<redact::redactor>(run_.rules, *capped_output_);
  return run_.writer.restart_entry();
}

result<void> item_sink::close(std::string error, bool truncated) {
  if (auto r = redactor_->finish(); !r) return r;
  common::entry_info info;
  info.redactions_by_rule = redactor_->counts();
  info.truncated = truncated || capped_;
  info.error = std::move(error);
  if (capped_) info.error += (info.error.empty() ? "" : "; ") + ("stopped: " + run_.cap_text());
  open_ = false;
  return run_.writer.end_entry(std::move(info));
}

result<void> item_sink::abandon(std::string error) {
  run_.collected -= capped_output_->stored;
  open_ = false;
  return run_.writer.abandon_entry(std::move(error));
}

std::string archive_name(std::string_view prefix, std::string_view path) {
  std::string out(prefix);
  std::size_t at = 0;
  while (at <= path.size()) {
    auto slash = path.find('/', at);
    if (slash == path.npos) slash = path.size();
    const auto part = path.substr(at, slash - at);
    if (!part.empty() && part != "." && part != "..") {
      if (out.size() > prefix.size()) out += '/';
      out += part;
    }
    at = slash + 1;
  }
  return out;
}

}  // namespace valise::agent::detail
