// g_socket_receive_message() is interposed for libnice's UDP reads (libnice_caller.hpp tells its
// calls apart; every other caller gets GLib's own function).
//
// libnice reads a socket one datagram per call until a read would block, so each wake-up cost a
// recvmsg() per datagram plus one more that only learnt the socket was empty, and that last one
// made GLib build a GError (message from g_strerror) for libnice to throw away. Here one
// recvmmsg() takes up to kDatagrams datagrams and libnice's following calls are served from them.
// When that read came back short the socket was empty at the time, so the call after the last
// datagram answers "would block" without asking the kernel: a datagram arriving meanwhile keeps
// the descriptor readable (the I/O loop's epoll is level-triggered) and the next round reads it.
//
// Each thread keeps one batch, for the socket it last read: libnice drains a socket within one
// dispatch. Datagrams still held when another socket is read belong to a socket libnice stopped
// reading mid-drain (its source or callback went away, i.e. it is closing): they are dropped, as
// the network could have dropped them. A source address is handed out as the GSocketAddress made
// for that socket's previous datagram when the sender is the same (GSocketAddress is immutable),
// instead of two new GObjects per datagram.
#include <dlfcn.h>
#include <gio/gio.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "libnice_caller.hpp"

namespace {

using ReceiveMessage = gssize (*)(GSocket*, GSocketAddress**, GInputVector*, gint,
                                  GSocketControlMessage***, gint*, gint*, GCancellable*, GError**);

ReceiveMessage glibReceiveMessage() {
  static const auto next =
      reinterpret_cast<ReceiveMessage>(dlsym(RTLD_NEXT, "g_socket_receive_message"));
  return next;
}

// The GSocketAddress of a socket's last sender, kept on the socket itself (GObject data), so it
// lives exactly as long as the socket.
struct LastSender {
  sockaddr_storage address{};
  socklen_t length = 0;
  GSocketAddress* object = nullptr;

  static void destroy(gpointer data) {
    auto* sender = static_cast<LastSender*>(data);
    if (sender->object != nullptr) g_object_unref(sender->object);
    g_free(sender);
  }
};

GQuark lastSenderQuark() {
  static const GQuark quark = g_quark_from_static_string("ifmesh-last-sender");
  return quark;
}

GSocketAddress* senderAddress(GSocket* socket, const sockaddr_storage& address, socklen_t length) {
  auto* sender = static_cast<LastSender*>(g_object_get_qdata(G_OBJECT(socket), lastSenderQuark()));
  if (sender == nullptr) {
    sender = g_new0(LastSender, 1);
    g_object_set_qdata_full(G_OBJECT(socket), lastSenderQuark(), sender, &LastSender::destroy);
  }
  if (sender->object == nullptr || sender->length != length ||
      std::memcmp(&sender->address, &address, length) != 0) {
    GSocketAddress* made =
        g_socket_address_new_from_native(const_cast<sockaddr_storage*>(&address), length);
    if (made == nullptr) return nullptr;
    if (sender->object != nullptr) g_object_unref(sender->object);
    std::memcpy(&sender->address, &address, length);
    sender->length = length;
    sender->object = made;
  }
  return G_SOCKET_ADDRESS(g_object_ref(sender->object));
}

class ReceiveBatch {
 public:
  ReceiveBatch() : storage_(std::make_unique_for_overwrite<std::byte[]>(kDatagrams * kSlotBytes)) {
    for (std::size_t i = 0; i < kDatagrams; ++i)
      slots_[i] = {storage_.get() + i * kSlotBytes, kSlotBytes};
  }
  ReceiveBatch(const ReceiveBatch&) = delete;
  ReceiveBatch& operator=(const ReceiveBatch&) = delete;
  ~ReceiveBatch() { forget(); }

  // The datagram's length, 0 for "would block", or nothing when GLib must answer (an error).
  std::optional<gssize> receive(GSocket* socket, GSocketAddress** address, GInputVector* vectors,
                                gint numVectors, gint* flags) {
    if (socket != owner_) forget();
    if (next_ == count_) {
      if (drained_) {  // set only with owner_ == socket
        forget();
        return 0;
      }
      int got = read(g_socket_get_fd(socket));
      if (got <= 0) {
        forget();
        if (got == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return std::nullopt;
      }
      if (owner_ == nullptr) owner_ = G_SOCKET(g_object_ref(socket));
      count_ = static_cast<std::size_t>(got);
      next_ = 0;
      drained_ = count_ < kDatagrams;
    }
    const std::size_t index = next_++;
    const auto* data = static_cast<const std::byte*>(slots_[index].iov_base);
    const std::size_t length = headers_[index].msg_len;
    std::size_t copied = 0;
    for (gint i = 0; numVectors < 0 ? vectors[i].buffer != nullptr : i < numVectors; ++i) {
      if (copied == length) break;
      std::size_t n = std::min(vectors[i].size, length - copied);
      std::memcpy(vectors[i].buffer, data + copied, n);
      copied += n;
    }
    // As recvmsg() into the caller's buffers would have: the excess is lost and flagged.
    *flags = copied < length ? MSG_TRUNC : 0;
    if (address != nullptr)
      *address = senderAddress(socket, sources_[index], headers_[index].msg_hdr.msg_namelen);
    return static_cast<gssize>(copied);
  }

 private:
  // Enough for a burst of full-size SCTP packets; each slot holds the largest UDP payload.
  static constexpr std::size_t kDatagrams = 16;
  static constexpr std::size_t kSlotBytes = 65536;

  int read(int fd) {
    for (std::size_t i = 0; i < kDatagrams; ++i) {
      headers_[i] = {};
      headers_[i].msg_hdr.msg_name = &sources_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      headers_[i].msg_hdr.msg_iov = &slots_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
    }
    int got;
    do {
      got = recvmmsg(fd, headers_.data(), kDatagrams, MSG_DONTWAIT, nullptr);
    } while (got < 0 && errno == EINTR);
    return got;
  }

  void forget() {
    if (owner_ != nullptr) g_object_unref(owner_);
    owner_ = nullptr;
    count_ = next_ = 0;
    drained_ = false;
  }

  std::unique_ptr<std::byte[]> storage_;
  std::array<iovec, kDatagrams> slots_{};
  std::array<sockaddr_storage, kDatagrams> sources_{};
  std::array<mmsghdr, kDatagrams> headers_{};
  GSocket* owner_ = nullptr;  // a reference, so the pointer cannot be reused while datagrams wait
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  bool drained_ = false;
};

// Per thread: an interposer has nowhere else to keep state, and each socket is read by one thread.
ReceiveBatch& receiveBatch() {
  thread_local ReceiveBatch batch;
  return batch;
}

}  // namespace

IFMESH_GLIB_INTERPOSER gssize g_socket_receive_message(GSocket* socket, GSocketAddress** address,
                                                       GInputVector* vectors, gint num_vectors,
                                                       GSocketControlMessage*** messages,
                                                       gint* num_messages, gint* flags,
                                                       GCancellable* cancellable, GError** error) {
  // Only libnice's plain datagram reads: no peeking, no control messages, no cancellable.
  if (socket != nullptr && messages == nullptr && num_messages == nullptr &&
      cancellable == nullptr && flags != nullptr && *flags == 0 &&
      ifmesh::rtc::calledFromLibnice(__builtin_return_address(0)) &&
      !g_socket_get_blocking(socket) &&
      g_socket_get_socket_type(socket) == G_SOCKET_TYPE_DATAGRAM) {
    if (auto n = receiveBatch().receive(socket, address, vectors, num_vectors, flags)) return *n;
  }
  return glibReceiveMessage()(socket, address, vectors, num_vectors, messages, num_messages, flags,
                              cancellable, error);
}
