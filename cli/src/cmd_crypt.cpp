// valise encrypt / decrypt: plain age files, command-line compatible with `age`.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "commands.hpp"
#include "failure.hpp"
#include "keys.hpp"
#include "progress.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/terminal.hpp"

namespace valise::cli {
namespace {

constexpr std::size_t copy_block = 1 << 20;

struct crypt_options {
  std::string input;   // empty: standard input
  std::string output;  // empty: standard output
  bool quiet = false;
};

struct encrypt_options : crypt_options {
  recipient_options keys;
  bool armor = false;
};

struct decrypt_options : crypt_options {
  identity_options keys;
};

// The input and output of a filter command, with the output written
// atomically when it is a file: a failed run leaves no partial file.
class endpoints {
 public:
  explicit endpoints(const crypt_options& options) {
    if (options.input.empty()) {
      source_.emplace(common::file_source::standard_input());
      input_name_ = "standard input";
    } else {
      source_.emplace(check(common::file_source::open(options.input), options.input));
      input_name_ = options.input;
    }
    if (!options.output.empty()) {
      file_.emplace(
          check(common::atomic_file::create(options.output, {.overwrite = true}), options.output));
      output_name_ = options.output;
    } else {
      output_name_ = "standard output";
    }
  }

  crypto::byte_source& source() { return *source_; }
  crypto::byte_sink& sink() { return file_ ? static_cast<crypto::byte_sink&>(*file_) : stdout_; }
  std::uint64_t input_size() const { return source_->size().value_or(0); }
  const std::string& input_name() const { return input_name_; }
  const std::string& output_name() const { return output_name_; }
  bool output_is_terminal() const { return !file_ && common::is_terminal(STDOUT_FILENO); }

  void commit() {
    if (file_) check(file_->commit(), output_name_);
  }

 private:
  std::optional<common::file_source> source_;
  std::optional<common::atomic_file> file_;
  common::stdout_sink stdout_;
  std::string input_name_;
  std::string output_name_;
};

// Copies source to sink in large blocks, naming the side that failed.
void copy(crypto::byte_source& from, std::string_view from_name, crypto::byte_sink& to,
          std::string_view to_name, progress_bar& bar) {
  std::vector<std::uint8_t> block(copy_block);
  std::uint64_t done = 0;
  for (;;) {
    const auto n = check(from.read(block), from_name);
    if (n == 0) break;
    check(to.write({block.data(), n}), to_name);
    done += n;
    bar.update(done);
  }
}

void run_encrypt(const encrypt_options& options) {
  auto keys = load_recipients(options.keys);
  if (keys.owned.empty()) {
    fail("no recipients", "give -r age1..., -R FILE, -p or --passphrase-file FILE");
  }
  endpoints io(options);
  if (io.output_is_terminal() && !options.armor) {
    fail("refusing to write binary ciphertext to a terminal",
         "use -o FILE, redirect the output, or add -a for ASCII armor");
  }
  const auto recipients = keys.view();
  auto encryptor = check(crypto::encryptor::create(recipients, io.sink(), {.armor = options.armor}),
                         "encrypting");
  progress_bar bar("encrypting", io.input_size(), want_progress(options.quiet, io.input_size()));
  copy(io.source(), io.input_name(), encryptor, io.output_name(), bar);
  check(encryptor.finish(), io.output_name());
  bar.finish();
  io.commit();
}

void run_decrypt(const decrypt_options& options) {
  endpoints io(options);
  auto decryptor = open_encrypted(io.source(), io.input_name(), options.keys);
  progress_bar bar("decrypting", io.input_size(), want_progress(options.quiet, io.input_size()));
  copy(decryptor, io.input_name(), io.sink(), io.output_name(), bar);
  bar.finish();
  io.commit();
}

void add_io_options(CLI::App& command, crypt_options& options) {
  command.add_option("-o,--output", options.output,
                     "write to FILE (replaced only when complete) instead of standard output");
  command.add_option("input", options.input, "read FILE instead of standard input");
  command.add_flag("-q,--quiet", options.quiet, "no progress bar");
}

}  // namespace

void add_encrypt_command(CLI::App& app) {
  auto options = std::make_shared<encrypt_options>();
  auto* command = app.add_subcommand("encrypt", "Encrypt a file to age recipients or a passphrase");
  add_recipient_options(*command, options->keys);
  command->add_flag("-a,--armor", options->armor, "write PEM-style ASCII armor (for e-mail)");
  add_io_options(*command, *options);
  command->callback([options] { run_encrypt(*options); });
}

void add_decrypt_command(CLI::App& app) {
  auto options = std::make_shared<decrypt_options>();
  auto* command = app.add_subcommand(
      "decrypt", "Decrypt an age file (binary or armored); output is released as authenticated");
  add_identity_options(*command, options->keys);
  add_io_options(*command, *options);
  command->callback([options] { run_decrypt(*options); });
}

}  // namespace valise::cli
