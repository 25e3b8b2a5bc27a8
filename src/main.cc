// kuajing: wiring only. Everything it does lives in src/app/commands.cc.
#include <string>
#include <vector>

#include "app/commands.h"

int main(int argc, char** argv) {
  return kuajing::app::RunCommand(std::vector<std::string>(argv, argv + argc));
}
