#include "common/page_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fingerprint.h"
#include "common/status.h"

namespace switchboard {
namespace {

constexpr absl::string_view kVersion = "v1";
constexpr size_t kKeyBytes = 32;
constexpr size_t kMacBytes = 16;  // HMAC-SHA256, truncated

std::string RandomKey() {
  std::string key(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), kKeyBytes) != 1) std::abort();
  return key;
}

// Set once, before serving, by LoadPageTokenKey; read on every list call.
std::string& Key() {
  static std::string* const key = new std::string(RandomKey());
  return *key;
}

std::string Mac(absl::string_view payload) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), Key().data(), static_cast<int>(Key().size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), kMacBytes);
}

absl::Status InvalidToken(absl::string_view why) {
  return InvalidArgumentWithViolations(absl::StrCat("invalid page_token: ", why),
                                       {{"page_token", std::string(why)}});
}

// The key file: the key, then the first kCheckBytes of its SHA-256, so that
// a damaged file is refused at start instead of making every token handed
// out so far fail. A file of the bare key is the format before the check.
constexpr size_t kCheckBytes = 8;

std::string KeyCheck(absl::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), kCheckBytes);
}

// Written whole and synced under a temporary name, then renamed and the
// directory synced: a crash leaves the old state or the whole file, never a
// short file that would keep the service from starting.
absl::Status WriteKeyFile(const std::string& data_dir, const std::string& path,
                          const std::string& key) {
  const std::string contents = key + KeyCheck(key);
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return absl::InternalError(absl::StrCat("cannot create ", temporary, ": ", strerror(errno)));
  const bool written =
      write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
      fsync(fd) == 0;
  const int write_errno = errno;
  close(fd);
  if (!written) {
    return absl::InternalError(
        absl::StrCat("cannot write ", temporary, ": ", strerror(write_errno)));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error)
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", error.message()));
  if (const int dir = open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadPageTokenKey(const std::string& data_dir) {
  const std::string path = data_dir + "/page-token.key";
  const std::string what_to_do =
      "; remove it to make a new one (page tokens handed out so far stop working)";
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream bytes;
    bytes << in.rdbuf();
    const std::string contents = bytes.str();
    if (contents.size() == kKeyBytes) {
      // The format before the check: add it.
      RETURN_IF_ERROR(WriteKeyFile(data_dir, path, contents));
      Key() = contents;
      return absl::OkStatus();
    }
    if (contents.size() != kKeyBytes + kCheckBytes) {
      return absl::DataLossError(absl::StrCat(path, " is not a page-token key (", contents.size(),
                                              " bytes, not ", kKeyBytes + kCheckBytes, ")",
                                              what_to_do));
    }
    const std::string key = contents.substr(0, kKeyBytes);
    if (KeyCheck(key) != contents.substr(kKeyBytes)) {
      return absl::DataLossError(
          absl::StrCat(path, " is damaged (its checksum does not match)", what_to_do));
    }
    Key() = key;
    return absl::OkStatus();
  }
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", data_dir, ": ", error.message()));
  }
  const std::string key = RandomKey();
  RETURN_IF_ERROR(WriteKeyFile(data_dir, path, key));
  Key() = key;
  return absl::OkStatus();
}

std::string EncodePageToken(absl::string_view kind, absl::string_view query,
                            absl::string_view position) {
  const std::string payload =
      absl::StrCat(kVersion, "\n", kind, "\n", Fingerprint(query), "\n", position);
  return absl::WebSafeBase64Escape(absl::StrCat(payload, Mac(payload)));
}

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view kind,
                                            absl::string_view query) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kMacBytes) {
    return InvalidToken("not a page token");
  }
  const absl::string_view payload = absl::string_view(raw).substr(0, raw.size() - kMacBytes);
  const std::string expected = Mac(payload);
  if (CRYPTO_memcmp(expected.data(), raw.data() + payload.size(), kMacBytes) != 0) {
    return InvalidToken("not made by this service, or altered");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(payload, absl::MaxSplits('\n', 3));
  uint64_t fingerprint;
  if (parts.size() != 4 || parts[0] != kVersion || !absl::SimpleAtoi(parts[2], &fingerprint)) {
    return InvalidToken("not a page token");
  }
  if (parts[1] != kind) return InvalidToken("made for another list");
  if (fingerprint != Fingerprint(query)) return InvalidToken("made for another filter");
  return std::string(parts[3]);
}

absl::StatusOr<int> PageSize(int requested, int default_size, int max_size) {
  if (requested == 0) return default_size;
  if (requested < 0 || requested > max_size) {
    return InvalidArgumentWithViolations(
        absl::StrCat("page_size must be between 0 and ", max_size),
        {{"page_size", absl::StrCat("must be between 0 and ", max_size, ", got ", requested)}});
  }
  return requested;
}

}  // namespace switchboard
