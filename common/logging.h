// Structured JSON logs to stderr, one object per line, written by spdlog.
//
//   log::Info("listening", {{"grpc", "127.0.0.1:50051"}, {"port", 50051}});
// prints
//   {"time":"2026-11-23T07:35:56.123456Z","level":"info","service":"switchboard-intake",
//    "msg":"listening","grpc":"127.0.0.1:50051","port":50051}
#ifndef SWITCHBOARD_COMMON_LOGGING_H_
#define SWITCHBOARD_COMMON_LOGGING_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace switchboard::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// One key and its value, rendered as a JSON member.
class Field {
 public:
  Field(absl::string_view key, absl::string_view value);
  Field(absl::string_view key, const char* value) : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, const std::string& value) : Field(key, absl::string_view(value)) {}
  Field(absl::string_view key, int value) : Field(key, static_cast<int64_t>(value)) {}
  Field(absl::string_view key, int64_t value);
  Field(absl::string_view key, uint64_t value);
  Field(absl::string_view key, double value);
  Field(absl::string_view key, bool value);
  Field(absl::string_view key, absl::Duration value);
  Field(absl::string_view key, const absl::Status& value);

  const std::string& json() const { return json_; }

 private:
  std::string json_;
};

// Sets the service name and minimum level; call once at start. Before it,
// lines go to stderr with service "switchboard" at level info.
void Init(absl::string_view service, Level level);

// Parses "debug", "info", "warning" or "error".
bool ParseLevel(absl::string_view text, Level* level);

void Write(Level level, absl::string_view message, std::initializer_list<Field> fields);

inline void Debug(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, message, fields);
}
inline void Info(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, message, fields);
}
inline void Warning(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, message, fields);
}
inline void Error(absl::string_view message, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, message, fields);
}

}  // namespace switchboard::log

#endif  // SWITCHBOARD_COMMON_LOGGING_H_
