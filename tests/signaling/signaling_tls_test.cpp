// The signaling server and client over wss:// (TLS) on 127.0.0.1, with self-signed certificates
// made here through the OpenSSL 3 API in a temporary directory.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "ifmesh/signaling.hpp"

namespace ifmesh::signaling {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

template <class T, void (*Free)(T*)>
using OsslPtr = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

struct CertFiles {
  std::string cert, key;
};

// A self-signed P-256 certificate whose subjectAltName is IP:<ip>; it is its own CA.
CertFiles makeSelfSigned(const fs::path& dir, const std::string& name, const std::string& ip) {
  OsslPtr<EVP_PKEY, EVP_PKEY_free> key(EVP_EC_gen("P-256"));
  OsslPtr<X509, X509_free> x509(X509_new());
  if (!key || !x509) throw std::runtime_error("OpenSSL: cannot make a key or certificate");
  X509_set_version(x509.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x509.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600);
  X509_set_pubkey(x509.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(x509.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x509.get(), subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x509.get(), x509.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:" + ip},
                            std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")}}) {
    OsslPtr<X509_EXTENSION, X509_EXTENSION_free> ext(
        X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(x509.get(), ext.get(), -1) != 1)
      throw std::runtime_error("OpenSSL: cannot add extension " + value);
  }
  if (X509_sign(x509.get(), key.get(), EVP_sha256()) == 0)
    throw std::runtime_error("OpenSSL: cannot sign the certificate");
  CertFiles files{(dir / (name + "-cert.pem")).string(), (dir / (name + "-key.pem")).string()};
  OsslPtr<BIO, BIO_free_all> certOut(BIO_new_file(files.cert.c_str(), "w"));
  OsslPtr<BIO, BIO_free_all> keyOut(BIO_new_file(files.key.c_str(), "w"));
  if (!certOut || !keyOut || PEM_write_bio_X509(certOut.get(), x509.get()) != 1 ||
      PEM_write_bio_PrivateKey(keyOut.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot write PEM files in " + dir.string());
  return files;
}

// Records onError reports; thread-safe (they arrive on the client I/O thread).
struct Errors {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> seen;
  void attach(Client& c) {
    c.onError([this](const std::string& code, const std::string& message) {
      std::lock_guard lock(mutex);
      seen.emplace_back(code, message);
    });
  }
  std::size_t count(const std::string& code) {
    std::lock_guard lock(mutex);
    return std::count_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == code; });
  }
  std::string first() {
    std::lock_guard lock(mutex);
    return seen.empty() ? "" : seen.front().first + ": " + seen.front().second;
  }
  bool waitFor(const std::string& code, std::size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count(code) < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }
};

class SignalingTls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ifmesh-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    server_ = makeSelfSigned(dir_, "server", "127.0.0.1");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ServerConfig tlsServer(const CertFiles& files) const {
    ServerConfig c;
    c.port = 0;
    c.tlsCertFile = files.cert;
    c.tlsKeyFile = files.key;
    return c;
  }
  ClientConfig wssClient(const Server& s, const std::string& id, std::string ca) const {
    ClientConfig c;
    c.url = "wss://127.0.0.1:" + std::to_string(s.port());
    c.agentId = id;
    c.tlsCaFile = std::move(ca);
    return c;
  }

  fs::path dir_;
  CertFiles server_;
};

TEST_F(SignalingTls, TwoClientsRegisterOverWssAndRelayAnOffer) {
  Server server(tlsServer(server_));
  server.start();
  Client alice(wssClient(server, "alice", server_.cert)),
      bob(wssClient(server, "bob", server_.cert));
  std::promise<nlohmann::json> got;
  bob.onRelay([&](const std::string& from, const std::string& type, const nlohmann::json& m) {
    if (type == "offer") got.set_value(nlohmann::json{{"from", from}, {"sdp", m["offer"]["sdp"]}});
  });
  alice.connect();
  ASSERT_TRUE(alice.waitRegistered(10s));
  bob.connect();
  ASSERT_TRUE(bob.waitRegistered(10s));
  EXPECT_EQ(bob.agents(), std::vector<std::string>{"alice"});
  alice.send("bob", "offer", {{"from", "mallory"}, {"offer", {{"type", "offer"}, {"sdp", "v=0"}}}});
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto m = f.get();
  EXPECT_EQ(m["from"], "alice");
  EXPECT_EQ(m["sdp"], "v=0");
  EXPECT_EQ(server.agentCount(), 2u);
}

TEST_F(SignalingTls, WrongCaFailsWithTlsErrorRetriesAndNeverRegisters) {
  Server server(tlsServer(server_));
  server.start();
  CertFiles other = makeSelfSigned(dir_, "other", "127.0.0.1");
  ClientConfig config = wssClient(server, "eve", other.cert);
  config.reconnectInitial = 20ms;
  config.reconnectMax = 50ms;
  Errors errors;
  {
    Client eve(config);
    errors.attach(eve);
    eve.connect();
    EXPECT_TRUE(errors.waitFor("tls_error", 3, 10s)) << errors.first();  // keeps retrying
    EXPECT_FALSE(eve.isRegistered());
    EXPECT_EQ(server.agentCount(), 0u);
  }  // closing mid-retry neither hangs nor crashes
  EXPECT_NE(errors.first().find("certificate"), std::string::npos) << errors.first();
  EXPECT_EQ(errors.count("tls_error"), errors.seen.size()) << "only tls_error expected";

  // Verification off accepts the same certificate (testing only).
  config.tlsVerifyPeer = false;
  config.agentId = "lax";
  Client lax(config);
  lax.connect();
  EXPECT_TRUE(lax.waitRegistered(10s));
}

TEST_F(SignalingTls, CertificateForAnotherIpIsRejected) {
  CertFiles elsewhere = makeSelfSigned(dir_, "elsewhere", "127.0.0.2");
  Server server(tlsServer(elsewhere));
  server.start();
  ClientConfig config = wssClient(server, "a", elsewhere.cert);  // trusted, but not for this IP
  config.autoReconnect = false;
  Client a(config);
  Errors errors;
  errors.attach(a);
  a.connect();
  ASSERT_TRUE(errors.waitFor("tls_error", 1, 10s));
  EXPECT_NE(errors.first().find("IP address mismatch"), std::string::npos) << errors.first();
  EXPECT_FALSE(a.isRegistered());
}

TEST_F(SignalingTls, PlainClientIsDroppedAndTlsClientsStillServed) {
  Server server(tlsServer(server_));
  server.start();
  Client a(wssClient(server, "a", server_.cert));
  std::promise<std::string> joined;
  a.onAgentJoined([&](const std::string& id) { joined.set_value(id); });
  a.connect();
  ASSERT_TRUE(a.waitRegistered(10s));

  {  // a raw ws:// handshake fails: the server wants TLS
    namespace beast = boost::beast;
    boost::asio::io_context io;
    beast::websocket::stream<beast::tcp_stream> ws(io);
    beast::get_lowest_layer(ws).connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port()));
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::error_code ec;
    ws.handshake("127.0.0.1", "/", ec);
    EXPECT_TRUE(ec);
  }
  ClientConfig plainConfig;
  plainConfig.url = "ws://127.0.0.1:" + std::to_string(server.port());
  plainConfig.agentId = "plain";
  plainConfig.reconnectInitial = 20ms;
  {
    Client plain(plainConfig);
    plain.connect();
    EXPECT_FALSE(plain.waitRegistered(1s));
  }
  EXPECT_TRUE(a.isRegistered());
  Client b(wssClient(server, "b", server_.cert));
  b.connect();
  ASSERT_TRUE(b.waitRegistered(10s));
  auto j = joined.get_future();
  ASSERT_EQ(j.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(j.get(), "b");
  EXPECT_EQ(server.agentCount(), 2u);
}

TEST_F(SignalingTls, PingsKeepIdleClientsAndDropSilentOnes) {
  ServerConfig config = tlsServer(server_);
  config.pingInterval = 100ms;
  Server server(config);
  server.start();
  Client idle(wssClient(server, "idle", server_.cert));
  std::promise<std::string> left;
  idle.onAgentLeft([&](const std::string& id) { left.set_value(id); });
  idle.connect();
  ASSERT_TRUE(idle.waitRegistered(10s));

  // A client that registers and then never reads again, so never answers a ping.
  namespace beast = boost::beast;
  boost::asio::io_context io;
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.set_verify_mode(boost::asio::ssl::verify_none);
  beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> mute(io, ctx);
  beast::get_lowest_layer(mute).connect(
      boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server.port()));
  mute.next_layer().handshake(boost::asio::ssl::stream_base::client);
  mute.handshake("127.0.0.1", "/");
  mute.write(boost::asio::buffer(std::string(R"({"type":"register","agent_id":"mute"})")));
  beast::flat_buffer reply;
  mute.read(reply);
  EXPECT_NE(beast::buffers_to_string(reply.data()).find("registered"), std::string::npos);

  auto f = left.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), "mute");
  std::this_thread::sleep_for(500ms);  // five ping intervals: the idle client answered them
  EXPECT_TRUE(idle.isRegistered());
  EXPECT_EQ(server.agentCount(), 1u);
}

// An oversized frame closes the connection and the agent leaves, over ws:// and wss:// alike.
TEST_F(SignalingTls, FrameLimitActsAsOverPlainWebSocket) {
  for (bool tls : {false, true}) {
    ServerConfig config = tls ? tlsServer(server_) : ServerConfig{};
    config.port = 0;
    config.maxFrameBytes = 1024;
    Server server(config);
    server.start();
    ClientConfig cc = wssClient(server, "big", server_.cert);
    if (!tls) cc.url = "ws://127.0.0.1:" + std::to_string(server.port());
    cc.autoReconnect = false;
    Client big(cc);
    Errors errors;
    errors.attach(big);
    std::promise<void> disconnected;
    big.onDisconnected([&] { disconnected.set_value(); });
    big.connect();
    ASSERT_TRUE(big.waitRegistered(10s));
    big.send("nobody", "offer", {{"blob", std::string(4096, 'x')}});
    EXPECT_EQ(disconnected.get_future().wait_for(10s), std::future_status::ready) << tls;
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(server.agentCount(), 0u) << tls;
    EXPECT_EQ(errors.count("too_large"), 0u) << "Beast closes before the error could be sent";
  }
}

TEST_F(SignalingTls, BadCertificateOrKeyFilesThrow) {
  auto startWith = [&](std::string cert, std::string key) {
    ServerConfig c;
    c.port = 0;
    c.tlsCertFile = std::move(cert);
    c.tlsKeyFile = std::move(key);
    Server server(c);
    try {
      server.start();
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("started");
  };
  std::string missing = (dir_ / "missing-key.pem").string();
  EXPECT_NE(startWith(server_.cert, missing).find("missing-key.pem"), std::string::npos);
  EXPECT_NE(startWith(server_.cert, "").find("both"), std::string::npos);
  EXPECT_NE(startWith(server_.key, server_.key).find("certificate"), std::string::npos);
  CertFiles other = makeSelfSigned(dir_, "other", "127.0.0.1");
  EXPECT_NE(startWith(server_.cert, other.key).find("does not match"), std::string::npos);
  EXPECT_EQ(startWith(server_.cert, server_.key), "started");

  ClientConfig cc;
  cc.url = "wss://127.0.0.1:1";
  cc.agentId = "x";
  cc.tlsCaFile = (dir_ / "missing-ca.pem").string();
  EXPECT_THROW(Client{cc}, std::runtime_error);
}

}  // namespace
}  // namespace ifmesh::signaling

namespace ifmesh::signaling {
namespace {

// A raw TLS 1.2 handshake offering only `ciphers`; true when it completes.
bool handshakeWith(const Server& server, const char* ciphers) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context context(asio::ssl::context::tls_client);
  SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(context.native_handle(), ciphers);
  context.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, context);
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
  boost::system::error_code ec;
  stream.handshake(asio::ssl::stream_base::client, ec);
  return !ec;
}

// TLS 1.2 only with forward-secret AEAD suites: CBC and SHA-1 suites are refused.
TEST_F(SignalingTls, OnlyModernCipherSuitesAreAccepted) {
  Server server(tlsServer(server_));
  server.start();
  EXPECT_TRUE(handshakeWith(server, "ECDHE-ECDSA-AES128-GCM-SHA256"));
  EXPECT_TRUE(handshakeWith(server, "ECDHE-ECDSA-CHACHA20-POLY1305"));
  EXPECT_FALSE(handshakeWith(server, "ECDHE-ECDSA-AES128-SHA"));
  EXPECT_FALSE(handshakeWith(server, "ECDHE-ECDSA-AES256-SHA384"));
}

}  // namespace
}  // namespace ifmesh::signaling
