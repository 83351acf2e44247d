#pragma once
// Secrets for the CLI (a token, the server's shared secret) from a flag, a file or an environment
// variable. A flag's value is visible to every user of the host in `ps`; a file (mode 0600) or
// the environment is not.
#include <string>

namespace ifmesh::cli {

// `value` when given, else the first line of `file` (trailing whitespace removed) when given,
// else the environment variable `envVar`, else "". Throws std::runtime_error naming `fileFlag`
// when the file cannot be read or holds no secret.
std::string secretFrom(const std::string& value, const std::string& file, const char* fileFlag,
                       const char* envVar);

}  // namespace ifmesh::cli
