// The JSON reader, checker and writer (src/json) against nlohmann::json on any bytes: they
// refuse the same texts, read the same values, and write the same text for them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "json/json_reader.hpp"
#include "json/json_validate.hpp"
#include "json/json_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small depth limit on our side so the hand-over to nlohmann is fuzzed too.
  auto ours = ifmesh::detail::json::parse(text, 8);
  auto theirs = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  FUZZ_CHECK(ours.is_discarded() == theirs.is_discarded());
  // The checker refuses two whole-document corners the parsers take: a byte order mark and
  // bytes after a NUL; and text nested deeper than its bound, which parse() hands over.
  if (text.find('\0') == std::string_view::npos && !text.starts_with("\xEF\xBB\xBF")) {
    auto checked = ifmesh::detail::json::check(text, 8);
    if (!checked.tooDeep) FUZZ_CHECK(checked.ok == !theirs.is_discarded());
  }
  if (ours.is_discarded()) {
    // Any bytes as a string value: written as nlohmann writes them, or refused as it refuses.
    std::string theirsText;
    bool theirsOk = true;
    try {
      theirsText = nlohmann::json(std::string(text)).dump();
    } catch (const nlohmann::json::type_error&) {
      theirsOk = false;
    }
    bool oursOk = true;
    std::string oursText;
    try {
      oursText = ifmesh::detail::json::dump(nlohmann::json(std::string(text)));
    } catch (const nlohmann::json::type_error&) {
      oursOk = false;
    }
    FUZZ_CHECK(oursOk == theirsOk && oursText == theirsText);
    return 0;
  }
  const std::string theirsText = theirs.dump();
  FUZZ_CHECK(ours == theirs);
  FUZZ_CHECK(ours.dump() == theirsText);
  FUZZ_CHECK(ifmesh::detail::json::dump(theirs) == theirsText);
  return 0;
}
