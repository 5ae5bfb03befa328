// tenx serve against hostile and unauthorized clients, on loopback only and bounded in time and
// count: slow-header and slow-body sockets do not delay a normal request and are closed at their
// deadlines; the per-client and total connection caps answer 503; the API key (401 in OpenAI's
// error shape); a non-loopback --host without a key is refused at startup.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve_fixture.hpp"
#include "tenx/serve/access.hpp"
#include "tenx/serve/server.hpp"

namespace tenx::serve::limits_test {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::unique_ptr<Server> make_server(ServerOptions o) {
  o.port = 0;
  o.model_id = "tiny";
  o.max_tokens_limit = 64;
  o.scheduler.parallel = 2;
  o.scheduler.n_ctx = 128;
  o.scheduler.max_batch = 64;
  const auto& m = test::serve_model();
  return std::make_unique<Server>(m.model, m.tokenizer, o);
}

// A TCP connection from `source` (any 127.x.y.z: all of 127/8 is loopback on Linux), so that
// attackers and the normal client are different client addresses as they would be in the wild.
struct Socket {
  int fd = -1;
  Socket(const char* source, int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) close_now();
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) close_now();
  }
  ~Socket() { close_now(); }
  Socket(const Socket&) = delete;
  Socket(Socket&& o) noexcept : fd(o.fd) { o.fd = -1; }
  void close_now() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  void send_text(const std::string& s) const { (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  // What the server sent until it closed, or nullopt when it kept the connection open for `wait`.
  std::optional<std::string> read_until_closed(std::chrono::milliseconds wait) const {
    std::string got;
    const auto until = Clock::now() + wait;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
};

httplib::Result complete(int port, const std::string& key = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  return c.Post("/v1/completions", h, R"({"model":"tiny","prompt":"Hello","max_tokens":3})", "application/json");
}

TEST(ServeLimits, SlowClientsDoNotDelayANormalRequestAndCloseAtTheirDeadlines) {
  ServerOptions o;
  o.header_timeout_s = 1.0;
  o.body_timeout_s = 1.5;
  auto server = make_server(o);
  const int port = server->start();
  // 200 sockets that send a request line and one header, 40 from each of 5 addresses (under
  // the per-client cap of 64), and 20 that announce a body and send one byte of it.
  std::vector<Socket> slow_heads, slow_bodies;
  for (int i = 0; i < 200; ++i) {
    const std::string source = "127.0.7." + std::to_string(1 + i % 5);
    slow_heads.emplace_back(source.c_str(), port);
    ASSERT_GE(slow_heads.back().fd, 0) << i;
    slow_heads.back().send_text("POST /v1/completions HTTP/1.1\r\nHost: x\r\n");
  }
  for (int i = 0; i < 20; ++i) {
    slow_bodies.emplace_back("127.0.8.1", port);
    ASSERT_GE(slow_bodies.back().fd, 0) << i;
    slow_bodies.back().send_text("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  }
  const auto asked = Clock::now();
  auto r = complete(port);
  const auto took = Clock::now() - asked;
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_GE(server->counts().open_connections, 220u);
  // The deadlines close every slow socket (the server closes them: recv sees the end).
  for (const Socket& s : slow_heads) EXPECT_TRUE(s.read_until_closed(std::chrono::seconds(5)).has_value());
  for (const Socket& s : slow_bodies) EXPECT_TRUE(s.read_until_closed(std::chrono::seconds(5)).has_value());
  const ServerCounts c = server->counts();
  EXPECT_EQ(c.header_deadline, 200u);
  EXPECT_EQ(c.body_deadline, 20u);
  // Every closed connection is counted down (else the per-client cap would fill up for good).
  const auto closing = Clock::now();
  while (server->counts().open_connections > 0 && Clock::now() - closing < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server->counts().open_connections, 0u);
  // And the server still answers.
  auto again = complete(port);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(ServeLimits, ConnectionsOverTheCapsAreAnswered503) {
  ServerOptions o;
  o.max_connections = 6;
  o.max_connections_per_client = 3;
  auto server = make_server(o);
  const int port = server->start();
  std::vector<Socket> held;
  for (int i = 0; i < 3; ++i) held.emplace_back("127.0.9.1", port);
  Socket fourth("127.0.9.1", port);
  const auto refused = fourth.read_until_closed(std::chrono::seconds(3));
  ASSERT_TRUE(refused.has_value()) << "the 4th connection from one address was kept open";
  EXPECT_EQ(refused->rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << *refused;
  const json body = json::parse(refused->substr(refused->find("\r\n\r\n") + 4));
  EXPECT_EQ(body["error"]["code"], "too_many_connections");
  EXPECT_EQ(body["error"]["type"], "unavailable_error");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("127.0.9.1"), std::string::npos);
  // Held connections are not closed by the refusal; another address still gets in...
  for (const Socket& s : held) EXPECT_FALSE(s.read_until_closed(std::chrono::milliseconds(50)).has_value());
  for (int i = 0; i < 3; ++i) held.emplace_back("127.0.9.2", port);
  while (server->counts().open_connections < 6) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  // ...up to the total cap of 6.
  Socket seventh("127.0.9.3", port);
  const auto over_total = seventh.read_until_closed(std::chrono::seconds(3));
  ASSERT_TRUE(over_total.has_value());
  EXPECT_NE(over_total->find("--max-connections"), std::string::npos) << *over_total;
  const ServerCounts c = server->counts();
  EXPECT_EQ(c.refused_per_client, 1u);
  EXPECT_EQ(c.refused_total, 1u);
  // Once connections close, clients are served again.
  held.clear();
  while (server->counts().open_connections > 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto r = complete(port);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServeLimits, ApiKeyIsRequiredAndAnswered401InOpenAIsShape) {
  ServerOptions o;
  o.api_key = "sk-tenx-test-key";
  auto server = make_server(o);
  const int port = server->start();
  for (const std::string& key : {std::string(), std::string("sk-tenx-test-kez"), std::string("sk-tenx-test-key2"),
                                 std::string("sk-tenx")}) {
    SCOPED_TRACE(key);
    auto r = complete(port, key);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
    const json j = json::parse(r->body);
    // OpenAI's answer to a wrong key: {"error":{"message":...,"type":"invalid_request_error",
    // "param":null,"code":"invalid_api_key"}}.
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_EQ(j["error"]["code"], "invalid_api_key");
    EXPECT_TRUE(j["error"]["param"].is_null());
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  }
  auto ok = complete(port, "sk-tenx-test-key");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  httplib::Client c("127.0.0.1", port);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
  auto health = c.Get("/health");  // for load balancers: no key
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(server->counts().unauthorized, 5u);
}

// A client that leaves while its completion waits (its connection suspended) costs the server
// nothing more: the completion runs, the answer has nowhere to go, the next client is served.
TEST(ServeLimits, ClientsLeavingMidRequestDoNotDisturbTheServer) {
  auto server = make_server(ServerOptions{});
  const int port = server->start();
  const std::string body = R"({"model":"tiny","prompt":"Once upon a time","max_tokens":8})";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  server->scheduler().set_paused(true);  // so that every request is still waiting when its client goes
  for (int i = 0; i < 20; ++i) {
    Socket s("127.0.10.1", port);
    s.send_text(request);
  }
  // Bounded waits: a failure here is a finding, not a hang.
  auto wait_for = [](auto done) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (!done() && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return server->scheduler().stats().waiting_requests == 20; }));
  server->scheduler().set_paused(false);
  ASSERT_TRUE(wait_for([&] { return server->scheduler().stats().requests == 20; }));
  auto r = complete(port);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  const auto closing = Clock::now();
  while (server->counts().open_connections > 0 && Clock::now() - closing < std::chrono::seconds(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server->counts().open_connections, 0u);
}

// Stopping answers the requests still waiting for a slot with 503 before the connections close.
TEST(ServeLimits, StopAnswersWaitingRequests503) {
  auto server = make_server(ServerOptions{});
  const int port = server->start();
  server->scheduler().set_paused(true);
  int status = 0;
  std::string answer;
  std::thread client([&] {
    auto r = complete(port);
    status = r ? r->status : -1;
    if (r) answer = r->body;
  });
  while (server->scheduler().stats().waiting_requests < 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  server->stop();
  client.join();
  ASSERT_EQ(status, 503) << answer;
  EXPECT_EQ(json::parse(answer)["error"]["code"], "shutting_down");
}

TEST(ServeAccess, ConstantTimeEqualAndBearer) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abd", "abc"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "abc"));
  EXPECT_FALSE(constant_time_equal(std::string("ab\0", 3), "ab"));
  EXPECT_TRUE(bearer_matches("Bearer k1", "k1"));
  EXPECT_TRUE(bearer_matches("bearer  k1 ", "k1"));
  EXPECT_FALSE(bearer_matches(nullptr, "k1"));
  EXPECT_FALSE(bearer_matches("Basic k1", "k1"));
  EXPECT_FALSE(bearer_matches("Bearer", "k1"));
  EXPECT_FALSE(bearer_matches("Bearer k2", "k1"));
}

TEST(ServeAccess, LoopbackHosts) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
  EXPECT_FALSE(is_loopback_host("192.168.0.1"));
  EXPECT_FALSE(is_loopback_host(""));
}

// The CLI refuses a non-loopback address without a key before it loads the model or binds.
TEST(ServeAccess, CliRefusesNonLoopbackWithoutKey) {
  const std::string path = test::serve_model().model.file.path;
  const std::string cmd = std::string("env -u TENX_API_KEY ") + TENX_BINARY + " serve " + path +
                          " --host 0.0.0.0 --port 0 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  EXPECT_EQ(WEXITSTATUS(status), 2) << out;
  EXPECT_NE(out.find("--host 0.0.0.0: is not a loopback address and no API key is set"), std::string::npos) << out;
  EXPECT_NE(out.find("--insecure"), std::string::npos) << out;
  EXPECT_EQ(out.find("listening"), std::string::npos) << out;
}

}  // namespace tenx::serve::limits_test
