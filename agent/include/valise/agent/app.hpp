// valise-agent's command line: `enroll`, `run`, `collect`, `jobs`, `approve`,
// `deny`. main() is only a call to run().
#pragma once

namespace valise::agent {

int run(int argc, char** argv);

}  // namespace valise::agent
