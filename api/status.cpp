// Status: names of error codes and message formatting.
#include "recur/status.hpp"

namespace recur {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok: return "ok";
    case Errc::io: return "io";
    case Errc::bad_magic: return "bad_magic";
    case Errc::unsupported_version: return "unsupported_version";
    case Errc::truncated: return "truncated";
    case Errc::bad_header: return "bad_header";
    case Errc::bad_metadata: return "bad_metadata";
    case Errc::bad_tensor: return "bad_tensor";
    case Errc::checksum_mismatch: return "checksum_mismatch";
    case Errc::invalid_model: return "invalid_model";
    case Errc::non_finite: return "non_finite";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::unsupported: return "unsupported";
    case Errc::out_of_memory: return "out_of_memory";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(errc_name(code_)) + ": " + message_;
}

Status& Status::with_context(const std::string& context) {
  if (!ok() && !context.empty()) message_ = context + ": " + message_;
  return *this;
}

}  // namespace recur
