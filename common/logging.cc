#include "common/logging.h"

#include <memory>

#include <google/protobuf/stubs/logging.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/utf8.h"

namespace switchboard::log {
namespace {

std::string Member(absl::string_view key, absl::string_view raw_value) {
  std::string json = "\"";
  AppendJsonEscaped(key, json);
  absl::StrAppend(&json, "\":", raw_value);
  return json;
}

std::string Quoted(absl::string_view text) {
  std::string json = "\"";
  AppendJsonEscaped(text, json);
  json.push_back('"');
  return json;
}

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> MakeLogger(absl::string_view service) {
  auto logger = std::make_shared<spdlog::logger>(std::string(service),
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // The payload (%v) is a list of JSON members built by Write().
  logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%v})",
                      spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static auto* logger = new std::shared_ptr<spdlog::logger>(MakeLogger("switchboard"));
  return *logger;
}

// Routes protobuf's own messages (e.g. about invalid UTF-8 in a request)
// into the structured log.
void ProtobufLogHandler(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  const Level ours = level >= google::protobuf::LOGLEVEL_ERROR ? Level::kWarning : Level::kDebug;
  Write(ours, message, {{"component", "protobuf"}, {"file", filename}, {"line", line}});
}

}  // namespace

Field::Field(absl::string_view key, absl::string_view value) : json_(Member(key, Quoted(value))) {}
Field::Field(absl::string_view key, int64_t value) : json_(Member(key, absl::StrCat(value))) {}
Field::Field(absl::string_view key, uint64_t value) : json_(Member(key, absl::StrCat(value))) {}
Field::Field(absl::string_view key, double value) : json_(Member(key, absl::StrCat(value))) {}
Field::Field(absl::string_view key, bool value) : json_(Member(key, value ? "true" : "false")) {}
Field::Field(absl::string_view key, absl::Duration value)
    : json_(Member(key, absl::StrCat(absl::ToDoubleSeconds(value)))) {}
Field::Field(absl::string_view key, const absl::Status& value)
    : json_(Member(key, Quoted(value.ok() ? "OK"
                                          : absl::StrCat(StatusCodeName(value.code()), ": ",
                                                         value.message())))) {}

void Init(absl::string_view service, Level level) {
  auto logger = MakeLogger(service);
  logger->set_level(ToSpdlog(level));
  Logger() = std::move(logger);
  google::protobuf::SetLogHandler(&ProtobufLogHandler);
}

bool ParseLevel(absl::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warning")
    *level = Level::kWarning;
  else if (text == "error")
    *level = Level::kError;
  else
    return false;
  return true;
}

void Write(Level level, absl::string_view message, std::initializer_list<Field> fields) {
  const auto& logger = Logger();
  const auto spd_level = ToSpdlog(level);
  if (!logger->should_log(spd_level)) return;
  std::string payload = Member("msg", Quoted(message));
  for (const Field& field : fields) absl::StrAppend(&payload, ",", field.json());
  logger->log(spd_level, spdlog::string_view_t(payload));
}

}  // namespace switchboard::log
