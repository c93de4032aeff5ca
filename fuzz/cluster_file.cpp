//===- cluster_file.cpp - fuzz the cluster-file reader --------------------===//
//
// Input: the text of a cluster file. Parses it as YAML and as JSON (one
// reader, two syntaxes). Whatever parses must also format as YAML and read
// back (the writer's promise in ClusterSpec.h), unless the writer refuses
// it with an error.
//
//===----------------------------------------------------------------------===//

#include "distopt/Cost/ClusterSpec.h"

#include "llvm/Support/Error.h"

#include <cstdio>
#include <cstdlib>

using namespace distopt::cost;

/// Checks that `spec`, formatted as YAML, reads back.
static void checkRoundTrip(const ClusterSpec &spec) {
  llvm::Expected<std::string> text = formatClusterYAML(spec);
  if (!text) {
    llvm::consumeError(text.takeError());
    return;
  }
  llvm::Expected<ClusterSpec> again = parseClusterYAML(*text, "formatted");
  if (!again) {
    std::string message = llvm::toString(again.takeError());
    std::fprintf(stderr,
                 "fuzz: a cluster that parsed does not read back after "
                 "formatClusterYAML:\n%s\n--- formatted ---\n%s\n",
                 message.c_str(), text->c_str());
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<ClusterSpec> yaml = parseClusterYAML(text, "fuzz.yaml");
  if (yaml)
    checkRoundTrip(*yaml);
  else
    llvm::consumeError(yaml.takeError());
  llvm::Expected<ClusterSpec> json = parseClusterJSON(text, "fuzz.json");
  if (json)
    checkRoundTrip(*json);
  else
    llvm::consumeError(json.takeError());
  return 0;
}
