// kuajing: wiring only. The commands live in src/app/commands.cc and src/server/serve.cc.
#include <string>
#include <vector>

#include "app/commands.h"
#include "heap.h"
#include "server/loadgen.h"
#include "server/serve.h"

int main(int argc, char** argv) {
  kuajing::UseHugePagesForTheHeap();  // first: before any thread, and before the heap grows
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() > 1 && args[1] == "serve") return kuajing::server::RunServe(args);
  if (args.size() > 1 && args[1] == "loadgen") return kuajing::server::RunLoadgen(args);
  if (args.size() > 1 && args[1] == "simulate") return kuajing::server::RunSimulate(args);
  return kuajing::app::RunCommand(args);
}
