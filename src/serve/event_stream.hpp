#pragma once
// A server-sent-events response body fed from the scheduler thread and drained by libmicrohttpd's
// event thread (docs/serve.md, "Streaming"). The event thread's content reader takes what is
// there; with nothing there it suspends the connection and the next push resumes it, so a stream
// waiting for the model costs no thread and no busy loop. When the connection ends (the client
// left, or the stream was sent), `cancelled` is set so that the request's sequences stop at their
// next token and free their slots.
#include <microhttpd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace tenx::serve {

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  explicit EventStream(MHD_Connection* connection) : connection_(connection) {}

  // From the scheduler thread: more bytes of the body. Ignored once the connection has ended.
  void push(const std::string& bytes);
  // The producer has nothing more to push until the reader asks: `finish` is called from the
  // event thread (in the reader) to write the closing events, then the body ends.
  void end(std::function<std::string()> finish);

  // A response whose body is this stream (chunked, text/event-stream), or null.
  MHD_Response* response();

  const std::shared_ptr<std::atomic<bool>>& cancelled() const { return cancelled_; }

 private:
  static ssize_t read(void* cls, uint64_t pos, char* buf, size_t max);
  static void release(void* cls);
  ssize_t read(char* buf, size_t max);
  void resume_locked();

  MHD_Connection* connection_;
  std::mutex mu_;
  std::string pending_;
  size_t sent_ = 0;  // bytes of pending_ already given to the reader
  bool suspended_ = false, ending_ = false, ended_ = false, closed_ = false;
  std::function<std::string()> finish_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace tenx::serve
