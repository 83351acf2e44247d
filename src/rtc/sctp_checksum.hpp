#pragma once
// The CRC32c checksum of an SCTP packet (RFC 9260), which ifmesh computes itself:
// usrsctp runs with its checksum "offloaded" (usrsctp_enable_crc32c_offload), so it leaves the
// field of the packets it sends at 0 and does not check the field of the packets it receives.
// Every packet arrives inside a DTLS record whose AES-GCM tag already proved it unaltered, so a
// second check adds nothing. The packets sent still carry a correct checksum, which a peer
// checks. With SSE4.2 (x86-64) the CPU's crc32 instruction computes it, else usrsctp's table.
#include <cstddef>
#include <cstdint>

namespace ifmesh::rtc {

// The value of an SCTP common header's checksum field for `packet` (its checksum field 0), as
// the four bytes at offset 8 hold it in memory: usrsctp_crc32c(packet, length).
std::uint32_t sctpChecksum(const void* packet, std::size_t length);

// Writes sctpChecksum into the checksum field of `packet` (a full SCTP packet, at least its
// 12-byte common header, checksum field 0). Shorter buffers are left as they are.
void fillSctpChecksum(void* packet, std::size_t length);

}  // namespace ifmesh::rtc
