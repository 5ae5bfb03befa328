// EventStream (event_stream.hpp): the shared buffer between the scheduler thread and the event loop.
#include "event_stream.hpp"

namespace tenx::serve {

void EventStream::resume_locked() {
  if (suspended_) {
    suspended_ = false;
    MHD_resume_connection(connection_);
  }
}

void EventStream::push(const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || ending_) return;
  pending_ += bytes;
  resume_locked();
}

void EventStream::end(std::function<std::string()> finish) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || ending_) return;
  ending_ = true;
  finish_ = std::move(finish);
  resume_locked();
}

ssize_t EventStream::read(char* buf, size_t max) {
  std::function<std::string()> finish;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sent_ == pending_.size() && ending_ && !ended_) {
      finish = std::move(finish_);
      ended_ = true;
    }
  }
  // Outside the lock: the closing events may read the request's result (a future).
  std::string tail = finish ? finish() : std::string();
  std::lock_guard<std::mutex> lock(mu_);
  pending_ += tail;
  if (sent_ < pending_.size()) {
    const size_t n = std::min(max, pending_.size() - sent_);
    std::copy(pending_.begin() + static_cast<std::ptrdiff_t>(sent_),
              pending_.begin() + static_cast<std::ptrdiff_t>(sent_ + n), buf);
    sent_ += n;
    if (sent_ == pending_.size()) {
      pending_.clear();
      sent_ = 0;
    }
    return static_cast<ssize_t>(n);
  }
  if (ended_) return MHD_CONTENT_READER_END_OF_STREAM;
  suspended_ = true;  // nothing yet: wait for the next push without polling
  MHD_suspend_connection(connection_);
  return 0;
}

ssize_t EventStream::read(void* cls, uint64_t /*pos*/, char* buf, size_t max) {
  return (*static_cast<std::shared_ptr<EventStream>*>(cls))->read(buf, max);
}

void EventStream::release(void* cls) {
  auto* self = static_cast<std::shared_ptr<EventStream>*>(cls);
  {
    std::lock_guard<std::mutex> lock((*self)->mu_);
    (*self)->closed_ = true;
    (*self)->suspended_ = false;
  }
  (*self)->cancelled_->store(true);  // sent or abandoned: either way nothing more is needed
  delete self;
}

MHD_Response* EventStream::response() {
  auto* self = new std::shared_ptr<EventStream>(shared_from_this());
  MHD_Response* r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, &EventStream::read, self,
                                                      &EventStream::release);
  if (r == nullptr) {
    delete self;
    return nullptr;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  return r;
}

}  // namespace tenx::serve
