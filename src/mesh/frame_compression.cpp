#include "mesh/frame_compression.hpp"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "ifmesh/error.hpp"

namespace ifmesh::detail {

namespace {
constexpr char kMagic[4] = {'I', 'F', 'Z', '1'};

// One compression and one decompression context per thread, kept: ZSTD_compress and
// ZSTD_decompress make and free one per call, allocating and clearing hundreds of KiB of tables
// for a frame of a few KiB.
struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Null when zstd could not allocate one: the frame then goes out uncompressed.
ZSTD_CCtx* compressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> context(ZSTD_createCCtx());
  return context.get();
}

ZSTD_DCtx* decompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> context(ZSTD_createDCtx());
  if (!context) throw Error(Errc::Internal, "zstd: out of memory for a decompression context");
  return context.get();
}
}  // namespace

std::optional<std::string> compressFrame(std::string_view text, int level) {
  ZSTD_CCtx* context = compressionContext();
  if (!context) return std::nullopt;
  std::string out(sizeof kMagic + ZSTD_compressBound(text.size()), '\0');
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  // ZSTD_compress writes the content size into the frame header, which bounds decompression.
  std::size_t n = ZSTD_compressCCtx(context, out.data() + sizeof kMagic, out.size() - sizeof kMagic,
                                    text.data(), text.size(), level);
  if (ZSTD_isError(n) || sizeof kMagic + n >= text.size()) return std::nullopt;
  out.resize(sizeof kMagic + n);
  return out;
}

std::string decompressFrame(std::span<const std::byte> message, std::size_t maxBytes) {
  auto bad = [](const std::string& why) {
    return Error(Errc::MalformedFrame, "compressed frame: " + why);
  };
  if (message.size() < sizeof kMagic || std::memcmp(message.data(), kMagic, sizeof kMagic) != 0)
    throw bad("unknown binary frame");
  const void* data = message.data() + sizeof kMagic;
  std::size_t size = message.size() - sizeof kMagic;
  unsigned long long original = ZSTD_getFrameContentSize(data, size);
  if (original == ZSTD_CONTENTSIZE_ERROR) throw bad("not a zstd frame");
  if (original == ZSTD_CONTENTSIZE_UNKNOWN) throw bad("original size not recorded");
  if (original > maxBytes)
    throw bad("original size " + std::to_string(original) + " exceeds " + std::to_string(maxBytes));
  // Exactly one frame, nothing after it.
  std::size_t frameSize = ZSTD_findFrameCompressedSize(data, size);
  if (ZSTD_isError(frameSize)) throw bad(ZSTD_getErrorName(frameSize));
  if (frameSize != size) throw bad("trailing bytes after the zstd frame");
  std::string out(static_cast<std::size_t>(original), '\0');
  std::size_t n = ZSTD_decompressDCtx(decompressionContext(), out.data(), out.size(), data, size);
  if (ZSTD_isError(n)) throw bad(ZSTD_getErrorName(n));
  if (n != out.size()) throw bad("size differs from the recorded original size");
  return out;
}

}  // namespace ifmesh::detail
