#include "usage.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>

#include "ifmesh/error.hpp"
#include "ifmesh/signaling.hpp"
#include "rtc/ice_server_url.hpp"
#include "signaling/signaling_url.hpp"

namespace ifmesh::cli {

int reportingErrors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return kExitFailure;
  }
}

std::string flagError(const std::string& flag, const std::string& value, const std::string& why) {
  std::string shown;
  for (char c : value.substr(0, 200)) shown += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  if (value.size() > 200) shown += "...";
  return flag + " '" + shown + "': " + why;
}

void checkSignalingUrl(const std::string& flag, const std::string& url) {
  try {
    signaling::parseSignalingUrl(url);
  } catch (const Error& e) {
    throw UsageError(flagError(flag, url, e.what()));
  }
}

void checkIceServerUrl(const std::string& flag, const std::string& url) {
  try {
    rtc::parseIceServerUrl(url);
  } catch (const Error&) {
    throw UsageError(
        flagError(flag, url, "expected stun:HOST[:PORT] or turn:HOST[:PORT][?transport=udp|tcp]"));
  }
}

void checkAgentId(const std::string& flag, const std::string& id) {
  if (!signaling::isValidAgentId(id))
    throw UsageError(flagError(flag, id,
                               "an agent id is 1 to " +
                                   std::to_string(signaling::kMaxAgentIdLength) +
                                   " characters of A-Z a-z 0-9 . _ : @ -"));
}

std::chrono::seconds parseDuration(const std::string& flag, const std::string& text) {
  unsigned long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string unit(end, text.data() + text.size());
  unsigned long long scale = unit.empty() || unit == "s" ? 1
                             : unit == "m"               ? 60
                             : unit == "h"               ? 3600
                             : unit == "d"               ? 86400
                                                         : 0;
  if (ec != std::errc() || end == text.data() || scale == 0 || value == 0 ||
      value > 10ULL * 365 * 86400 / scale)
    throw UsageError(flagError(flag, text, "expected a duration such as 90s, 15m, 1h or 7d"));
  return std::chrono::seconds(value * scale);
}

namespace {

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t bestDistance = 3;  // more edits than this is a different word
  for (const auto& c : candidates) {
    std::size_t d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace ifmesh::cli
