#pragma once
// How the CLI reports what a user got wrong: a UsageError is one line on stderr ("error: ...")
// and exit code 2; any other failure is one line and exit code 1. Plus the checks every command
// runs on its arguments before it starts anything.
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ifmesh::cli {

constexpr int kExitFailure = 1;  // the command could not do its job
constexpr int kExitUsage = 2;    // the command line is wrong

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs a command's body: a UsageError exits 2, any other exception 1, each as one line on stderr.
int reportingErrors(const std::function<int()>& body);

// "--flag 'value': why" (the value cut at 200 characters and stripped of control characters).
std::string flagError(const std::string& flag, const std::string& value, const std::string& why);

// Each throws UsageError naming the flag and the value.
void checkSignalingUrl(const std::string& flag, const std::string& url);
void checkIceServerUrl(const std::string& flag, const std::string& url);
void checkAgentId(const std::string& flag, const std::string& id);
// "30s", "15m", "1h", "7d" or a number of seconds.
std::chrono::seconds parseDuration(const std::string& flag, const std::string& text);

// The candidate closest to `word` by edit distance, or "" when none is close.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace ifmesh::cli
