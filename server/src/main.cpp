#include "valise/server/command_line.hpp"

int main(int argc, char** argv) {
  return valise::server::run_command_line(argc, argv);
}
