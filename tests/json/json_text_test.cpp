// The JSON writer and reader against nlohmann::json itself: the same text written, the same
// values read, the same texts refused (the fuzzer fuzz_json does the same on random input).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/json_reader.hpp"
#include "json/json_validate.hpp"
#include "json/json_writer.hpp"
#include "json_depth.hpp"

namespace ifmesh::detail::json {
namespace {

using Json = nlohmann::json;

// Reads `text` both ways and compares: refused by both, or the same value (types included:
// their dumps tell 1 from 1.0).
void expectSameRead(const std::string& text) {
  Json ours = parse(text);
  Json theirs = Json::parse(text, nullptr, false);
  ASSERT_EQ(ours.is_discarded(), theirs.is_discarded()) << "text: " << text;
  // The checker takes what the reader takes, but for the two whole-document corners it refuses
  // (a byte order mark, bytes after a NUL).
  const bool documentCorner = text.find('\0') != std::string::npos || text.starts_with("\xEF\xBB");
  if (!documentCorner) {
    EXPECT_EQ(check(text, 1000).ok, !ours.is_discarded()) << "text: " << text;
  }
  if (ours.is_discarded()) return;
  EXPECT_EQ(ours, theirs) << "text: " << text;
  EXPECT_EQ(ours.dump(), theirs.dump()) << "text: " << text;
}

TEST(JsonReader, ReadsWhatNlohmannReads) {
  const std::vector<std::string> texts = {"{}",
                                          "[]",
                                          "null",
                                          "true",
                                          "false",
                                          "0",
                                          "-0",
                                          "1",
                                          "-1",
                                          "0.5",
                                          "-0.0",
                                          "1e5",
                                          "1E+5",
                                          "1e-5",
                                          "123456789012345678",
                                          "18446744073709551615",
                                          "18446744073709551616",
                                          "-9223372036854775808",
                                          "-9223372036854775809",
                                          "1e308",
                                          "1e-400",
                                          R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})",
                                          " \t\r\n{ \"a\" : [ 1 , 2 ] } \n",
                                          R"({"a":1,"a":2})",
                                          R"({"a":{"x":1},"a":[2]})",
                                          R"("plain")",
                                          R"("q\"b\\s\/n\n")",
                                          R"("\b\f\n\r\t")",
                                          R"("\u0041\u00e9\u4e2d")",
                                          R"("\ud83d\ude00")",
                                          R"("\u0000")",
                                          "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"",
                                          "\xEF\xBB\xBF{\"bom\":1}",
                                          R"([[[[[[[[[[1]]]]]]]]]])",
                                          R"({"k":"")" + std::string(5000, 'x') + R"("})",
                                          R"(["a","b",{"c":[1,2,{"d":null}]}])",
                                          std::string("1\0", 2),
                                          std::string("{} \0junk", 8)};
  for (const auto& t : texts) expectSameRead(t);
}

TEST(JsonReader, RefusesWhatNlohmannRefuses) {
  const std::vector<std::string> texts = {"",
                                          " ",
                                          "{",
                                          "}",
                                          "[",
                                          "]",
                                          "[1,]",
                                          "[,1]",
                                          "{\"a\"}",
                                          "{\"a\":}",
                                          "{\"a\":1,}",
                                          "{a:1}",
                                          "01",
                                          "-",
                                          "-a",
                                          "1.",
                                          ".5",
                                          "+1",
                                          "1e",
                                          "1e+",
                                          "0x10",
                                          "NaN",
                                          "Infinity",
                                          "1e400",
                                          "-1e400",
                                          "tru",
                                          "nul",
                                          "falsey",
                                          "truex",
                                          "[1 2]",
                                          "{\"a\":1 \"b\":2}",
                                          "\"open",
                                          "\"bad \\x escape\"",
                                          "\"\\u12\"",
                                          "\"\\u12G4\"",
                                          "\"\\ud800\"",
                                          "\"\\udc00\"",
                                          "\"\\ud800\\u0041\"",
                                          "\"\\ud800x\"",
                                          std::string("\"nul\0in\"", 8),
                                          "\"tab\tin\"",
                                          "\"\xc0\xaf\"",
                                          "\"\xe0\x80\xaf\"",
                                          "\"\xed\xa0\x80\"",
                                          "\"\xf4\x90\x80\x80\"",
                                          "\"\xff\"",
                                          "\"\xc3\"",
                                          "\"\xe4\xb8\"",
                                          "\xEF\xBB{}",
                                          "{} {}",
                                          "1 2",
                                          "// c\n1",
                                          "/* c */1",
                                          std::string("\0", 1),
                                          std::string("[1\0]", 4)};
  for (const auto& t : texts) expectSameRead(t);
}

TEST(JsonReader, DeepTextGoesToNlohmann) {
  std::string deep = std::string(600, '[') + std::string(600, ']');
  expectSameRead(deep);
  expectSameRead(std::string(600, '[') + std::string(599, ']'));
}

// One pass: the depth it reports is the one a bracket count outside strings gives, and text
// deeper than the bound is refused, never parsed.
TEST(JsonReader, BoundedReadReportsTheDepthAndRefusesDeeperText) {
  struct Case {
    std::string text;
    std::size_t depth;
  };
  for (const auto& c : std::vector<Case>{{"1", 0},
                                         {"\"[[{\"", 0},
                                         {"{}", 1},
                                         {"[1,[2,[3]],{\"a\":{\"b\":1}}]", 3},
                                         {"{\"s\":\"]]]\",\"t\":[[\"{{\"]]}", 3}}) {
    auto r = parseBounded(c.text, 3);
    EXPECT_FALSE(r.tooDeep) << c.text;
    EXPECT_EQ(r.depth, c.depth) << c.text;
    EXPECT_EQ(r.value, Json::parse(c.text)) << c.text;
  }
  auto deep = parseBounded("[[[[1]]]]", 3);
  EXPECT_TRUE(deep.tooDeep);
  EXPECT_TRUE(deep.value.is_discarded());
  auto bad = parseBounded("[[1]", 3);
  EXPECT_FALSE(bad.tooDeep);
  EXPECT_TRUE(bad.value.is_discarded());
}

// The checker's depth is the reader's, and it refuses deeper text the same way.
TEST(JsonCheck, ReportsTheReadersDepthAndRefusesDeeperText) {
  for (std::string text : {"1", "\"[[{\"", "{}", "[1,[2,[3]],{\"a\":{\"b\":1}}]",
                           "{\"s\":\"]]]\",\"t\":[[\"{{\"]]}", " [[[1]]] "}) {
    auto read = parseBounded(text, 3);
    auto checked = check(text, 3);
    EXPECT_TRUE(checked.ok) << text;
    EXPECT_FALSE(checked.tooDeep) << text;
    EXPECT_EQ(checked.depth, read.depth) << text;
  }
  auto deep = check("[[[[1]]]]", 3);
  EXPECT_FALSE(deep.ok);
  EXPECT_TRUE(deep.tooDeep);
  // Deep text costs no stack: refused at the bound.
  EXPECT_TRUE(check(std::string(200000, '['), 100).tooDeep);
  // A value found inside a larger text, after its enclosing levels.
  const std::string inner = R"({"x":[1,{"y":"}"}],"z":2})";
  auto scan = scanValue(inner.data() + 5, inner.data() + inner.size(), 1, 10);
  ASSERT_NE(scan.end, nullptr);
  EXPECT_EQ(std::string(inner.data() + 5, scan.end), R"([1,{"y":"}"}])");
  EXPECT_EQ(scan.depth, 3u);
  EXPECT_TRUE(scanValue(inner.data() + 5, inner.data() + inner.size(), 1, 2).tooDeep);
}

// A RawMember's value stays its text, checked: byte for byte, at any depth, refused when it
// is not JSON or nests too deep; the same name elsewhere is parsed as usual.
TEST(JsonReader, KeepsRawMembersAsTheirText) {
  const RawMember raw{"m", "payload"};
  const std::string text =
      R"({"m":{"id":1,"payload": {"z" : [1, 2.50],"a":"\u00e9"} },"payload":{"b":1},)"
      R"("f":[{"m":{"payload":"s"}},{"m":{"payload":[[7]]}}]})";
  auto r = parseBounded(text, 10, &raw);
  ASSERT_FALSE(r.value.is_discarded());
  EXPECT_EQ(r.value["m"]["payload"], R"({"z" : [1, 2.50],"a":"\u00e9"})");
  EXPECT_EQ(r.value["m"]["id"], 1);
  EXPECT_EQ(r.value["payload"], Json::parse(R"({"b":1})"));
  EXPECT_EQ(r.value["f"][0]["m"]["payload"], "\"s\"");
  EXPECT_EQ(r.value["f"][1]["m"]["payload"], "[[7]]");
  EXPECT_EQ(r.depth, parseBounded(text, 10).depth);
  EXPECT_TRUE(parseBounded(R"({"m":{"payload":[1,]}})", 10, &raw).value.is_discarded());
  EXPECT_TRUE(parseBounded(R"({"m":{"payload":"\ud800"}})", 10, &raw).value.is_discarded());
  EXPECT_TRUE(parseBounded(R"({"m":{"payload":[[[1]]]}})", 4, &raw).tooDeep);
  EXPECT_FALSE(parseBounded(R"({"m":{"payload":[[1]]}})", 4, &raw).tooDeep);
}

// The depth of a value is the depth of its text, below the cap and past it (both stop at
// cap + 1), for containers nested in objects and arrays, beside strings full of brackets.
TEST(JsonDepth, AValueMeasuresAsItsText) {
  std::vector<Json> values = {1,
                              "[[{",
                              Json::object(),
                              Json::array(),
                              Json::parse(R"([1,[2,[3]],{"a":{"b":1}}])"),
                              Json::parse(R"({"s":"]]]","t":[["{{"]],"u":[]})")};
  Json deep = 1;
  for (int i = 0; i < 120; ++i) deep = (i % 2) ? Json{{"k", deep}} : Json::array({deep, "x"});
  values.push_back(deep);
  for (const auto& v : values)
    for (std::size_t cap : {0u, 1u, 2u, 3u, 99u, 100u, 150u}) {
      const std::string text = v.dump();
      const std::size_t fromText = ::ifmesh::detail::jsonNestingDepth(std::string_view(text), cap);
      const std::size_t fromValue = ::ifmesh::detail::valueNestingDepth(v, cap);
      if (fromText > cap)
        EXPECT_GT(fromValue, cap) << text.substr(0, 80) << " cap " << cap;
      else
        EXPECT_EQ(fromValue, fromText) << text.substr(0, 80) << " cap " << cap;
    }
}

void expectSameWrite(const Json& value) {
  std::string theirs;
  try {
    theirs = value.dump();
  } catch (const Json::type_error& e) {
    EXPECT_THROW(dump(value), Json::type_error);
    return;
  }
  EXPECT_EQ(dump(value), theirs);
}

TEST(JsonWriter, WritesWhatNlohmannWrites) {
  expectSameWrite(Json::object());
  expectSameWrite(Json::array());
  expectSameWrite(nullptr);
  expectSameWrite(true);
  expectSameWrite(-7);
  expectSameWrite(std::uint64_t{18446744073709551615ULL});
  expectSameWrite(std::int64_t{-9223372036854775807LL - 1});
  expectSameWrite(0.1);
  expectSameWrite(1.0);
  expectSameWrite(1e300);
  expectSameWrite(std::nan(""));
  std::string controls;
  for (int c = 0; c < 0x80; ++c) controls += static_cast<char>(c);
  expectSameWrite(controls);
  expectSameWrite(std::string(3000, 'y') + "\"" + std::string(17, 'z') + "\\");
  expectSameWrite("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80");
  expectSameWrite(Json{{"b", 1}, {"a", {1, "two", nullptr, 3.5}}, {"\xc3\xa9", {{"x", "\n"}}}});
  expectSameWrite(Json::binary({1, 2, 3}));
}

TEST(JsonWriter, RefusesInvalidUtf8AsNlohmannDoes) {
  for (std::string bad :
       {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe4\xb8"}) {
    expectSameWrite(bad);
    expectSameWrite(Json{{"k", bad}});
    expectSameWrite(Json{{bad, 1}});
  }
}

TEST(JsonWriter, RoundTripsThroughTheReader) {
  Json value = {{"text", std::string(2000, 'q') + "\xe2\x82\xac\"\\\t"},
                {"numbers", {0, -1, 18446744073709551615ULL, 2.5}},
                {"nested", {{"a", {{"b", {{"c", Json::array()}}}}}}}};
  EXPECT_EQ(parse(dump(value)), value);
}

}  // namespace
}  // namespace ifmesh::detail::json
