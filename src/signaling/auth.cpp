#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

#include "hex.hpp"
#include "ifmesh/signaling.hpp"

namespace ifmesh::signaling {

namespace {

std::string hmacHex(const std::string& secret, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  std::string out;
  ifmesh::detail::appendHex(out, mac, length);
  return out;
}

}  // namespace

std::string makeAuthToken(const std::string& secret, const std::string& agentId,
                          std::chrono::system_clock::time_point expiry) {
  auto unix = std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count();
  std::string signedPart = agentId + "." + std::to_string(unix);
  return signedPart + "." + hmacHex(secret, signedPart);
}

bool verifyAuthToken(const std::string& secret, const std::string& agentId,
                     const std::string& token, std::chrono::seconds maxLifetime) {
  auto macDot = token.rfind('.');
  if (macDot == std::string::npos || macDot == 0) return false;
  auto expDot = token.rfind('.', macDot - 1);
  if (expDot == std::string::npos) return false;
  if (token.compare(0, expDot, agentId) != 0 || expDot != agentId.size()) return false;
  long long expiry = 0;
  const char* first = token.data() + expDot + 1;
  const char* last = token.data() + macDot;
  auto [ptr, ec] = std::from_chars(first, last, expiry);
  if (ec != std::errc() || ptr != last) return false;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  if (expiry <= now || expiry - now > maxLifetime.count()) return false;
  std::string expected = hmacHex(secret, token.substr(0, macDot));
  std::string given = token.substr(macDot + 1);
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

}  // namespace ifmesh::signaling
