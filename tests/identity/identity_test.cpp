// Ed25519 identities, signed IFMessages, the replay rule and the hello's identity proof.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/replay_guard.hpp"

namespace ifmesh {
namespace {

using namespace std::chrono_literals;

struct TempDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("ifmesh-identity-" + std::to_string(::getpid()) + "-" + newTraceId());
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(Identity, SignsAndVerifiesAndRejectsOtherKeysAndData) {
  auto a = AgentIdentity::generate(), b = AgentIdentity::generate();
  EXPECT_EQ(a.publicKey().size(), 44u);
  auto sig = a.sign("hello");
  EXPECT_EQ(sig.size(), 88u);
  EXPECT_TRUE(AgentIdentity::verify(a.publicKey(), "hello", sig));
  EXPECT_FALSE(AgentIdentity::verify(b.publicKey(), "hello", sig));
  EXPECT_FALSE(AgentIdentity::verify(a.publicKey(), "hellO", sig));
  EXPECT_FALSE(AgentIdentity::verify(a.publicKey(), "hello", sig.substr(4)));
  EXPECT_FALSE(AgentIdentity::verify("garbage", "hello", sig));
  EXPECT_FALSE(AgentIdentity::verify(a.publicKey(), "hello", ""));
  EXPECT_FALSE(AgentIdentity::verify(a.publicKey(), "hello", std::string(88, '=')));
}

TEST(Identity, KeyFileIsCreatedPrivateAndLoadedBack) {
  TempDir dir;
  auto path = (dir.path / "agent.pem").string();
  auto created = AgentIdentity::loadOrCreate(path);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto loaded = AgentIdentity::loadOrCreate(path);
  EXPECT_EQ(loaded.publicKey(), created.publicKey());
  EXPECT_TRUE(AgentIdentity::verify(created.publicKey(), "x", loaded.sign("x")));
}

TEST(Identity, SavingReplacesTheKeyFileWholeAndLeavesNothingBeside) {
  TempDir dir;
  auto path = (dir.path / "agent.pem").string();
  AgentIdentity::loadOrCreate(path);
  // A temporary file left by a crash while saving is overwritten, not read.
  std::ofstream(path + ".tmp") << "cut short";
  auto replacement = AgentIdentity::generate();
  replacement.savePem(path);
  EXPECT_EQ(AgentIdentity::loadPem(path).publicKey(), replacement.publicKey());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  // A key file that cannot be written (its directory is gone) is an error, and no key is lost.
  EXPECT_THROW(replacement.savePem((dir.path / "missing" / "agent.pem").string()), Error);
}

TEST(Identity, BadKeyFilesGiveClearErrors) {
  TempDir dir;
  auto expectError = [](const std::string& path, const std::string& words) {
    try {
      AgentIdentity::loadPem(path);
      ADD_FAILURE() << "loaded " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument);
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expectError((dir.path / "missing.pem").string(), "cannot open");
  auto junk = dir.path / "junk.pem";
  std::ofstream(junk) << "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n";
  expectError(junk.string(), "no PEM private key");
  auto ec = dir.path / "ec.pem";
  ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                         ec.string() + " 2>/dev/null")
                            .c_str()),
            0);
  expectError(ec.string(), "not an Ed25519 key");
}

TEST(Identity, Base64IsStrict) {
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64Decode(""), "");
  EXPECT_FALSE(base64Decode("Zm9vYg="));    // length
  EXPECT_FALSE(base64Decode("Zm9v Yg=="));  // whitespace
  EXPECT_FALSE(base64Decode("Zm9vYh=="));   // non-canonical trailing bits
  EXPECT_FALSE(base64Decode("Zm=vYg=="));   // padding inside
  EXPECT_FALSE(PublicKey::parse(base64Encode(std::string(31, 'k'))));
  EXPECT_TRUE(PublicKey::parse(AgentIdentity::generate().publicKey()));
}

IFMessage sample() {
  IFMessage m;
  m.id = "id-1";
  m.timestamp = isoTimestampNow();
  m.source = "alice";
  m.destination = "bob";
  m.sequence = 1;
  m.incarnation = 77;
  m.payload = {{"z", 1}, {"a", {1.5, "x", nullptr}}, {"m", {{"k", "v"}}}};
  return m;
}

TEST(SignedMessage, SurvivesTheWireAndCatchesEveryChangedField) {
  auto alice = AgentIdentity::generate();
  auto key = *PublicKey::parse(alice.publicKey());
  auto m = sample();
  signMessage(m, alice);
  auto back = ifmessageFromJson(serialize(m));
  EXPECT_EQ(back.signature, m.signature);
  EXPECT_EQ(back.incarnation, 77u);
  EXPECT_TRUE(verifyMessage(back, key));
  // Field order on the wire does not matter; the canonical form fixes it.
  auto reordered = nlohmann::json::parse(serialize(m));
  EXPECT_TRUE(verifyMessage(ifmessageFromJsonValue(reordered), key));
  std::vector<std::function<void(IFMessage&)>> changes = {
      [](IFMessage& x) { x.id = "id-2"; },
      [](IFMessage& x) { x.timestamp = isoTimestampNow() + " "; },
      [](IFMessage& x) { x.level = 3; },
      [](IFMessage& x) { x.source = "mallory"; },
      [](IFMessage& x) { x.destination = "carol"; },
      [](IFMessage& x) { x.sequence = 2; },
      [](IFMessage& x) { x.priority = MessagePriority::High; },
      [](IFMessage& x) { x.traceId = "t"; },
      [](IFMessage& x) { x.incarnation = 78; },
      [](IFMessage& x) { x.payload["z"] = 2; },
      [](IFMessage& x) { x.payload["extra"] = true; },
      [](IFMessage& x) { x.payload["a"][0] = 1.5000001; },
      [](IFMessage& x) { x.signature[10] = x.signature[10] == 'A' ? 'B' : 'A'; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto changed = back;
    changes[i](changed);
    EXPECT_FALSE(verifyMessage(changed, key)) << "change " << i;
  }
  EXPECT_FALSE(verifyMessage(back, *PublicKey::parse(AgentIdentity::generate().publicKey())));
}

TEST(SignedMessage, BadSignatureFieldsAreInvalidArgumentsNotCrashes) {
  auto j = nlohmann::json::parse(serialize(sample()));
  j["signature"] = 5;
  EXPECT_THROW(ifmessageFromJsonValue(j), Error);
  j["signature"] = "";
  j["incarnation"] = -1;
  EXPECT_THROW(ifmessageFromJsonValue(j), Error);
  j["incarnation"] = "1";
  EXPECT_THROW(ifmessageFromJsonValue(j), Error);
}

TEST(Timestamps, ParseStrictIso8601Utc) {
  using detail::parseIsoTimestampMs;
  EXPECT_EQ(parseIsoTimestampMs("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parseIsoTimestampMs("2026-11-24T19:50:08.123Z"), 1795549808123);
  EXPECT_EQ(parseIsoTimestampMs("2026-11-24T19:50:08Z"), 1795549808000);
  EXPECT_EQ(parseIsoTimestampMs("2026-11-24T19:50:08.123456Z"), 1795549808123);
  for (const char* bad :
       {"", "now", "2026-11-24T19:50:08.123", "2026-11-24 19:50:08Z", "2026-13-24T19:50:08Z",
        "2026-11-24T19:50:08.Z", "2026-11-24T19:50:08ZZ", "2026-1-24T19:50:08Z"})
    EXPECT_FALSE(parseIsoTimestampMs(bad)) << bad;
}

TEST(Timestamps, FormatAndParseAgreeAcrossCalendarEdges) {
  using namespace std::chrono;
  using detail::parseIsoTimestampMs;
  EXPECT_EQ(isoTimestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  const auto leapDayEnd = sys_days{2024y / February / 29} + 23h + 59min + 59s + 999ms;
  EXPECT_EQ(isoTimestamp(leapDayEnd), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(isoTimestamp(leapDayEnd + 1ms), "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(isoTimestamp(sys_days{2026y / December / 31} + 23h + 5min + 7s + 40ms),
            "2026-12-31T23:05:07.040Z");
  // Every 7 h 13 min 17.123 s over ten years: formatting and parsing invert each other.
  for (auto t = sys_days{2020y / January / 1} + 0ms; t < sys_days{2030y / January / 1};
       t += 7h + 13min + 17s + 123ms)
    ASSERT_EQ(parseIsoTimestampMs(isoTimestamp(t)), t.time_since_epoch().count())
        << isoTimestamp(t);
  // As timegm did: a day past the month's end counts on; a leap second is the next minute's 0.
  EXPECT_EQ(parseIsoTimestampMs("2026-02-30T00:00:00Z"),
            parseIsoTimestampMs("2026-03-02T00:00:00Z"));
  EXPECT_EQ(parseIsoTimestampMs("2016-12-31T23:59:60Z"),
            parseIsoTimestampMs("2017-01-01T00:00:00Z"));
  for (const char* bad : {"+026-11-24T19:50:08Z", " 2026-11-24T19:50:08Z", "2026-11-24T19:5:08Z",
                          "2026-11-24T24:00:00Z", "2026-00-24T19:50:08Z", "2026-11-00T19:50:08Z"})
    EXPECT_FALSE(parseIsoTimestampMs(bad)) << bad;
}

TEST(ReplayGuard, SequencesPerLaneTimeWindowAndRestarts) {
  detail::ReplayGuard guard(120s);
  auto now = std::chrono::system_clock::now();
  auto at = [&](std::chrono::milliseconds offset, std::uint64_t seq, std::uint64_t inc,
                MessagePriority p = MessagePriority::Normal) {
    IFMessage m = sample();
    m.sequence = seq;
    m.incarnation = inc;
    m.priority = p;
    m.timestamp = isoTimestamp(now + offset);
    return m;
  };
  auto admit = [&](const IFMessage& m) {
    const char* r = guard.admit(m, now);
    return std::string(r ? r : "ok");
  };
  EXPECT_EQ(admit(at(-10s, 1, 5)), "ok");
  EXPECT_EQ(admit(at(-9s, 1, 5)), "replay");                     // same lane, same sequence
  EXPECT_EQ(admit(at(-9s, 1, 5, MessagePriority::High)), "ok");  // lanes are separate
  EXPECT_EQ(admit(at(-8s, 3, 5)), "ok");                         // gaps are fine
  EXPECT_EQ(admit(at(-8s, 2, 5)), "replay");                     // but never backwards
  EXPECT_EQ(admit(at(-121s, 4, 5)), "stale_timestamp");
  EXPECT_EQ(admit(at(121s, 4, 5)), "stale_timestamp");
  EXPECT_EQ(admit(at(-1s, 0, 5)), "bad_sequence");
  auto junk = at(0s, 4, 5);
  junk.timestamp = "yesterday";
  EXPECT_EQ(admit(junk), "bad_timestamp");
  // Another incarnation older than what we took: an old process's message replayed.
  EXPECT_EQ(admit(at(-20s, 9, 6)), "replay");
  // A newer one: the source restarted and numbers from 1 again.
  EXPECT_EQ(admit(at(-5s, 1, 6)), "ok");
  EXPECT_EQ(admit(at(-4s, 2, 6)), "ok");
  // The previous process's messages are now replays, whatever their sequence.
  EXPECT_EQ(admit(at(-8s, 4, 5)), "replay");
  EXPECT_EQ(admit(at(-5s, 2, 6)), "replay");
  // Sources are independent.
  auto other = at(-5s, 1, 5);
  other.source = "carol";
  EXPECT_EQ(admit(other), "ok");
}

// A source's state is kept while any message it was admitted for is fresh, and forgotten after:
// memory follows the sources active within one window, and forgetting lets no replay through.
TEST(ReplayGuard, ForgetsSourcesOnlyOnceTheirMessagesAreStale) {
  detail::ReplayGuard guard(120s);
  const auto start = std::chrono::system_clock::now();
  auto message = [&](const std::string& source, std::chrono::system_clock::time_point at) {
    IFMessage m = sample();
    m.source = source;
    m.sequence = 1;
    m.incarnation = 5;
    m.timestamp = isoTimestamp(at);
    return m;
  };
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(guard.admit(message("agent-" + std::to_string(i), start), start), nullptr);
  const IFMessage kept = message("agent-0", start);
  EXPECT_STREQ(guard.admit(kept, start + 119s), "replay");  // still remembered within the window
  EXPECT_EQ(guard.sources(), 1000u);
  // One window later every one of them is forgotten, and their messages are stale.
  const auto later = start + 121s;
  ASSERT_EQ(guard.admit(message("newcomer", later), later), nullptr);
  EXPECT_EQ(guard.sources(), 1u);
  EXPECT_STREQ(guard.admit(kept, later), "stale_timestamp");
}

TEST(HelloProof, BindsKeyFingerprintIncarnationAndBothIds) {
  auto alice = AgentIdentity::generate();
  auto key = *PublicKey::parse(alice.publicKey());
  std::string fp = "AB:CD:EF";
  detail::link::Hello hello;
  hello.incarnation = 42;
  hello.fingerprint = fp;
  hello.signature = alice.sign(detail::helloSigningInput("alice", 42, fp, "bob"));
  auto check = [&](const detail::link::Hello& h, const PublicKey* k, const std::string& from,
                   const std::string& to, const std::string& remoteFp) {
    const char* r = detail::verifyHello(h, k, from, to, remoteFp);
    return std::string(r ? r : "ok");
  };
  EXPECT_EQ(check(hello, &key, "alice", "bob", fp), "ok");
  EXPECT_EQ(check(hello, nullptr, "alice", "bob", fp), "unknown_peer_key");
  EXPECT_EQ(check(hello, &key, "alice", "bob", "AB:CD:00"), "fingerprint_mismatch");
  EXPECT_EQ(check(hello, &key, "alice", "bob", ""), "fingerprint_mismatch");
  EXPECT_EQ(check(hello, &key, "alice", "carol", fp), "bad_signature");  // meant for bob
  EXPECT_EQ(check(hello, &key, "mallory", "bob", fp), "bad_signature");
  auto otherInc = hello;
  otherInc.incarnation = 43;
  EXPECT_EQ(check(otherInc, &key, "alice", "bob", fp), "bad_signature");
  auto unsignedHello = hello;
  unsignedHello.signature.clear();
  EXPECT_EQ(check(unsignedHello, &key, "alice", "bob", fp), "missing_signature");
  // A "sig" that is not a string decodes as no signature at all.
  auto decoded = detail::link::decode(R"({"t":"hello","recv":0,"inc":42,"fp":"AB:CD:EF","sig":7})");
  EXPECT_EQ(check(std::get<detail::link::Hello>(decoded.at(0)), &key, "alice", "bob", fp),
            "missing_signature");
}

}  // namespace
}  // namespace ifmesh
