#include "valise/cli/app.hpp"

int main(int argc, char** argv) {
  return valise::cli::run(argc, argv);
}
