#include "valise/agent/app.hpp"

int main(int argc, char** argv) {
  return valise::agent::run(argc, argv);
}
