// Each command registers itself on the application: its options and the
// function that runs it. Commands report problems by throwing `failure`.
#pragma once

namespace CLI {
class App;
}

namespace valise::cli {

void add_keygen_command(CLI::App& app);
void add_encrypt_command(CLI::App& app);
void add_decrypt_command(CLI::App& app);
void add_pack_command(CLI::App& app);
void add_open_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
// Online: against valise-server.
void add_ticket_commands(CLI::App& app);
void add_link_commands(CLI::App& app);
void add_bundle_commands(CLI::App& app);
void add_send_command(CLI::App& app);
void add_enroll_token_commands(CLI::App& app);
void add_agent_commands(CLI::App& app);
void add_request_commands(CLI::App& app);
void add_outbox_commands(CLI::App& app);

}  // namespace valise::cli
