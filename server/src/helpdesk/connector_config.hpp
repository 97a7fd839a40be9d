// The [helpdesk.NAME] tables of server.toml (docs/helpdesk/README.md lists
// their keys): a preset fills every default from that helpdesk's own
// documentation, any key overrides it. The caller reads files: `read_file`
// gets secret_file's (and the token files') path, relative to `file`'s
// directory.
#pragma once

#include <toml++/toml.h>

#include <boost/system/result.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/server/helpdesk_connector.hpp"

namespace valise::server::helpdesk {

using file_reader =
    std::function<boost::system::result<std::string, std::string>(const std::filesystem::path&)>;

std::optional<preset> parse_preset(std::string_view name);
std::string_view to_string(preset p);

// The defaults of a preset (name and secrets left empty).
connector preset_defaults(preset p);

// Every [helpdesk.NAME] table of `section` (the [helpdesk] table). Errors
// read "FILE:LINE: helpdesk.NAME.KEY: what is wrong and what to write".
boost::system::result<std::vector<connector>, std::string> parse_connectors(
    const toml::table& section, const std::filesystem::path& file, const file_reader& read_file);

}  // namespace valise::server::helpdesk
