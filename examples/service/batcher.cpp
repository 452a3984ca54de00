// The micro-batch queue and its workers, and run_group: stack, run once, split.
#include "batcher.hpp"

#include <algorithm>
#include <cstring>

namespace recur::service {

namespace {

int http_status_for(const Status& s) {
  switch (s.code()) {
    case Errc::invalid_argument:
    case Errc::non_finite: return 400;
    case Errc::out_of_memory: return 503;
    default: return 500;
  }
}

// Copies rows [b0, b0+nb) of every one of `rows` blocks of (B, width) from `src` (rows, B,
// width) into dst (rows, nb, width).
void gather_state(const std::vector<float>& src, int64_t rows, int64_t B, int64_t width,
                  int64_t b0, int64_t nb, std::vector<float>& dst) {
  dst.resize(static_cast<size_t>(rows * nb * width));
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(dst.data() + r * nb * width, src.data() + (r * B + b0) * width,
                sizeof(float) * static_cast<size_t>(nb * width));
  }
}

}  // namespace

void run_group(const Model& model, const std::vector<const PredictRequest*>& requests,
               const std::vector<PredictResult*>& results, int run_threads) {
  const int64_t I = model.input_size();
  const int64_t T = requests.front()->seq_len;
  int64_t total = 0;  // sequences in the group
  bool any_lengths = false;
  for (const PredictRequest* r : requests) {
    total += r->batch;
    any_lengths = any_lengths || !r->lengths.empty();
  }

  // Stack x (total, T, I) and lengths (total) unless there is only one request.
  std::vector<float> stacked_x;
  std::vector<int32_t> stacked_lengths;
  RunInput in;
  in.seq_len = T;
  in.batch = total;
  in.layout = Layout::batch_first;  // the service's JSON is batch-major
  if (requests.size() == 1) {
    in.x = requests.front()->x.data();
    if (any_lengths) in.lengths = requests.front()->lengths.data();
  } else {
    stacked_x.reserve(static_cast<size_t>(total * T * I));
    for (const PredictRequest* r : requests) {
      stacked_x.insert(stacked_x.end(), r->x.begin(), r->x.end());
      if (any_lengths) {
        if (r->lengths.empty()) {
          stacked_lengths.insert(stacked_lengths.end(), static_cast<size_t>(r->batch), static_cast<int32_t>(T));
        } else {
          stacked_lengths.insert(stacked_lengths.end(), r->lengths.begin(), r->lengths.end());
        }
      }
    }
    in.x = stacked_x.data();
    if (any_lengths) in.lengths = stacked_lengths.data();
  }

  RunOptions opt;
  opt.threads = run_threads;
  Result<RunOutput> out = model.run(in, opt);
  if (!out) {
    for (PredictResult* res : results) {
      res->http_status = http_status_for(out.status());
      res->error = out.status().to_string();
    }
    return;
  }

  // Split: y is (total, T, O) or (total, O) — rows of whole sequences, contiguous per request.
  const int64_t per_sequence = static_cast<int64_t>(out->y.size()) / total;
  int64_t b0 = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    const PredictRequest& req = *requests[i];
    PredictResult& res = *results[i];
    res.http_status = 200;
    res.y_shape = out->y_shape;
    res.y_shape[0] = req.batch;
    if (requests.size() == 1) {
      res.y = std::move(out->y);
    } else {
      const auto first = out->y.begin() + b0 * per_sequence;
      res.y.assign(first, first + req.batch * per_sequence);
    }
    if (req.return_state) {
      const int64_t rows = out->h_shape[0], width = out->h_shape[2];
      gather_state(out->h_n, rows, total, width, b0, req.batch, res.h_n);
      res.h_shape = {rows, req.batch, width};
      if (!out->c_n.empty()) {
        const int64_t cwidth = out->c_shape[2];
        gather_state(out->c_n, rows, total, cwidth, b0, req.batch, res.c_n);
        res.c_shape = {rows, req.batch, cwidth};
      }
    }
    b0 += req.batch;
  }
}

MicroBatcher::MicroBatcher(const Model& model, const BatcherOptions& options, Metrics& metrics)
    : model_(model), options_(options), metrics_(metrics) {
  const int n = std::max(1, options_.workers);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
}

MicroBatcher::~MicroBatcher() { stop(); }

void MicroBatcher::Arrival::end() {
  if (!owner_) return;
  {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    --owner_->announced_;
  }
  owner_->work_cv_.notify_all();
  owner_ = nullptr;
}

MicroBatcher::Arrival MicroBatcher::announce() {
  std::lock_guard<std::mutex> lock(mu_);
  ++announced_;
  return Arrival(this);
}

PredictResult MicroBatcher::predict(const PredictRequest& request, Arrival& arrival) {
  PredictResult result;
  Job job;
  job.request = &request;
  job.result = &result;
  job.queued_at = std::chrono::steady_clock::now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      result.http_status = 503;
      result.error = "the server is shutting down";
      return result;
    }
    if (queued_sequences_ + request.batch > options_.max_queued && !queue_.empty()) {
      result.http_status = 503;
      result.error = "overloaded: " + std::to_string(queued_sequences_) +
                     " sequences already queued (limit " + std::to_string(options_.max_queued) + ")";
      return result;
    }
    queue_.push_back(&job);
    queued_sequences_ += request.batch;
  }
  arrival.end();  // notifies the workers
  std::unique_lock<std::mutex> lock(mu_);
  job.done_cv.wait(lock, [&] { return job.done; });
  return result;
}

void MicroBatcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void MicroBatcher::work() {
  using clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (queue_.empty()) {
      if (stopping_) return;
      work_cv_.wait(lock);
      continue;
    }
    // The oldest job decides T and the deadline; count what is queued with the same T.
    const Job* first = queue_.front();
    const int64_t T = first->request->seq_len;
    int64_t same_t = 0;
    for (const Job* j : queue_) {
      if (j->request->seq_len == T) same_t += j->request->batch;
    }
    const clock::time_point deadline = first->queued_at + options_.window;
    if (!stopping_ && same_t < options_.max_batch && announced_ > 0 && clock::now() < deadline) {
      work_cv_.wait_until(lock, deadline);  // more may join; re-check everything after
      continue;
    }

    // Take jobs with this T in queue order up to max_batch sequences (the first always).
    std::vector<Job*> group;
    int64_t sequences = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      Job* j = *it;
      if (j->request->seq_len == T &&
          (group.empty() || sequences + j->request->batch <= options_.max_batch)) {
        group.push_back(j);
        sequences += j->request->batch;
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    queued_sequences_ -= sequences;
    lock.unlock();

    std::vector<const PredictRequest*> requests;
    std::vector<PredictResult*> results;
    for (Job* j : group) {
      requests.push_back(j->request);
      results.push_back(j->result);
    }
    try {
      run_group(model_, requests, results, options_.run_threads);
    } catch (const std::exception& e) {  // allocation of the stacked buffers
      for (PredictResult* r : results) {
        r->http_status = 503;
        r->error = std::string("could not run the batch: ") + e.what();
      }
    }
    metrics_.record_batch(sequences, static_cast<int64_t>(group.size()));

    lock.lock();
    for (Job* j : group) {
      j->done = true;
      j->done_cv.notify_one();  // under the lock: the job lives on its submitter's stack
    }
  }
}

}  // namespace recur::service
