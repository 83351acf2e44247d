// zstd in LOW mode on real agents (LOW forced by thresholds the link always exceeds), and the
// decoder's defences against bad compressed frames.
#include <gtest/gtest.h>
#include <zstd.h>

#include "ifmesh/error.hpp"
#include "mesh/frame_compression.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;

std::span<const std::byte> bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(AgentCompression, LowModeCompressesAndDeliversIntactExactlyOnce) {
  auto server = startSignaling();
  auto ac = meshAgentConfig("a", *server);
  ac.bandwidth.checkInterval = 10ms;
  // Any backlog at all steps down, and LOW never steps back up.
  ac.bandwidth.thresholds = {1, 2, 0, 0};
  Agent a(ac), b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  a.connect("b");
  ASSERT_TRUE(waitFor([&] { return !a.peers().empty(); }));
  int n = 0;
  std::string warm(16 * 1024, 'w');
  ASSERT_TRUE(waitFor(
      [&] {
        for (int i = 0; i < 20; ++i) {
          IFMessage m = numbered(n++);
          m.payload["blob"] = warm;
          a.send("b", m);
        }
        return a.getQualityMode() == QualityMode::Low;
      },
      20s));
  int first = n;
  std::vector<std::string> blobs;
  for (int i = 0; i < 200; ++i) {
    std::string blob;
    for (int k = 0; k < 400; ++k) blob += "row " + std::to_string(i * 1000 + k) + ";";
    blobs.push_back(blob);
    IFMessage m = numbered(n++);
    m.payload["blob"] = blob;
    a.send("b", m);
  }
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= static_cast<std::size_t>(n); }, 30s));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0; }));
  std::this_thread::sleep_for(200ms);
  auto stats = a.getBandwidthStats();
  EXPECT_GT(stats.compressedFrames, 0u);
  EXPECT_GT(stats.bytesBeforeCompression, 0u);
  EXPECT_GT(stats.bytesAfterCompression, 0u);
  EXPECT_LT(stats.bytesAfterCompression, stats.bytesBeforeCompression / 2);
  std::lock_guard lock(inbox.mutex);
  ASSERT_EQ(inbox.messages.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto& m = inbox.messages[i];
    ASSERT_EQ(m.payload["n"].get<int>(), i);
    ASSERT_EQ(m.sequence, static_cast<std::uint64_t>(i) + 1);
    if (i >= first) {
      ASSERT_EQ(m.payload["blob"].get<std::string>(), blobs[i - first]);
    }
  }
}

TEST(FrameCompression, RoundTripAndOnlyWhenSmaller) {
  std::string text = "{\"t\":\"msg\"," + std::string(5000, 'a') + "}";
  auto z = detail::compressFrame(text, 3);
  ASSERT_TRUE(z);
  EXPECT_LT(z->size(), text.size());
  EXPECT_EQ(z->substr(0, 4), "IFZ1");
  EXPECT_EQ(detail::decompressFrame(bytes(*z), text.size()), text);
  EXPECT_FALSE(detail::compressFrame("{}", 3));  // would grow
}

TEST(FrameCompression, CorruptFramesAreRejectedWithAClearError) {
  std::string text(20000, 'q');
  auto z = *detail::compressFrame(text, 3);
  auto rejects = [](const std::string& frame, std::size_t cap, const char* what) {
    try {
      detail::decompressFrame(bytes(frame), cap);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedFrame) << what;
    }
  };
  rejects("", 1 << 20, "empty");
  rejects("XXXX" + z.substr(4), 1 << 20, "bad magic");
  rejects("IFZ1", 1 << 20, "magic only");
  rejects(z.substr(0, z.size() - 3), 1 << 20, "truncated");
  rejects(z + "junk", 1 << 20, "trailing bytes");
  std::string flipped = z;
  for (std::size_t i = 10; i < flipped.size(); i += 3) flipped[i] = static_cast<char>(~flipped[i]);
  rejects(flipped, 1 << 20, "corrupted body");
  rejects(z, text.size() - 1, "over the cap");
  // A bomb: 64 MiB of zeros in a few KiB, refused from its header before allocating anything.
  std::string zeros(64 << 20, '\0');
  auto bomb = *detail::compressFrame(zeros, 1);
  EXPECT_LT(bomb.size(), 64u * 1024);
  rejects(bomb, 256 * 1024, "bomb");
  // A frame without its original size recorded.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string unknown(ZSTD_compressBound(text.size()), '\0');
  std::size_t n = ZSTD_compress2(cctx, unknown.data(), unknown.size(), text.data(), text.size());
  ZSTD_freeCCtx(cctx);
  ASSERT_FALSE(ZSTD_isError(n));
  unknown.resize(n);
  rejects("IFZ1" + unknown, 1 << 20, "unknown size");
}

}  // namespace
}  // namespace ifmesh
