#pragma once
// See libnice_receive_batch.cpp: libnice's datagram reads, batched (recvmmsg) and without the
// extra read that only learns the socket is empty.

namespace ifmesh::rtc {

// Does nothing; calling it keeps libnice_receive_batch.o (and so the interposer it defines) in
// every static link of the library.
void anchorLibniceReceiveBatch();

}  // namespace ifmesh::rtc
