#include "common/testing/probes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/sync.h"

namespace switchboard::testing {
namespace {

using google::protobuf::io::CodedInputStream;

// Length-delimited fields numbered `field` in a serialized message.
std::vector<std::string> LengthDelimitedFields(const std::string& bytes, uint32_t field) {
  std::vector<std::string> found;
  CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                         static_cast<int>(bytes.size()));
  while (uint32_t tag = input.ReadTag()) {
    const uint32_t wire_type = tag & 7;
    if (wire_type == 2) {
      uint32_t length;
      std::string value;
      if (!input.ReadVarint32(&length) || !input.ReadString(&value, static_cast<int>(length)))
        break;
      if ((tag >> 3) == field) found.push_back(std::move(value));
    } else if (wire_type == 0) {
      uint64_t ignored;
      if (!input.ReadVarint64(&ignored)) break;
    } else if (wire_type == 1) {
      uint64_t ignored;
      if (!input.ReadLittleEndian64(&ignored)) break;
    } else if (wire_type == 5) {
      uint32_t ignored;
      if (!input.ReadLittleEndian32(&ignored)) break;
    } else {
      break;
    }
  }
  return found;
}

class ReflectionCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  void Start(grpc::GenericStub& stub) {
    // ServerReflectionRequest{list_services: ""} is field 7, empty.
    const std::string request("\x3a\x00", 2);
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    stub.PrepareBidiStreamingCall(
        &context_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {}, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool ok) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (ok) {
      std::vector<grpc::Slice> slices;
      if (response_.Dump(&slices).ok()) {
        for (const auto& slice : slices) {
          received_.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
    }
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Fire();
  }

  absl::StatusOr<std::string> Await() {
    done_.Wait();
    if (!status_.ok()) return absl::UnavailableError(status_.error_message());
    return received_;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string received_;
  grpc::Status status_;
  OneShot done_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ListServicesViaReflection(const std::string& target) {
  grpc::GenericStub stub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  ReflectionCall call;
  call.Start(stub);
  absl::StatusOr<std::string> response = call.Await();
  if (!response.ok()) return response.status();
  // ServerReflectionResponse.list_services_response (6) → ListServiceResponse.service (1)
  // → ServiceResponse.name (1).
  std::vector<std::string> names;
  for (const std::string& list : LengthDelimitedFields(*response, 6)) {
    for (const std::string& service : LengthDelimitedFields(list, 1)) {
      for (const std::string& name : LengthDelimitedFields(service, 1)) names.push_back(name);
    }
  }
  return names;
}

RawCallResult CallRaw(const std::string& target, const std::string& method,
                      const std::string& request) {
  grpc::GenericStub stub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_bytes(&slice, 1);
  grpc::ByteBuffer response_bytes;
  RawCallResult result;
  OneShot done;
  stub.UnaryCall(&context, method, {}, &request_bytes, &response_bytes,
                 [&](const grpc::Status& status) {
                   result.status = status;
                   done.Fire();
                 });
  done.Wait();
  std::vector<grpc::Slice> slices;
  if (result.status.ok() && response_bytes.Dump(&slices).ok()) {
    for (const auto& piece : slices) {
      result.response.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
    }
  }
  return result;
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot send GET ", path));
  }
  std::string response;
  char chunk[8192];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof(chunk))) > 0) response.append(chunk, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (!absl::StartsWith(response, "HTTP/1.") || body == std::string::npos) {
    return absl::UnavailableError(absl::StrCat("malformed response to GET ", path));
  }
  if (response.find(" 200 ") == std::string::npos) {
    return absl::UnavailableError(response.substr(0, response.find("\r\n")));
  }
  return response.substr(body + 4);
}

absl::StatusOr<std::string> FetchMetrics(int port) { return HttpGet(port, "/metrics"); }

absl::StatusOr<double> SampleValue(const std::string& page, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.size() > series.size() && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      double value;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) return value;
    }
  }
  return absl::NotFoundError(absl::StrCat("no sample ", series));
}

}  // namespace switchboard::testing
