#include "common/security.h"

#include <memory>
#include <utility>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status.h"

ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of this service: serve TLS, and present it to peers");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle for client certificates; when set, mutual TLS is required");
ABSL_FLAG(std::string, tls_peer_ca_file, "",
          "PEM CA bundle to verify the services this one calls (default: --tls_client_ca_file, "
          "else the system's roots)");
ABSL_FLAG(std::string, access_policy_file, "",
          "YAML or JSON access policy: principals, their roles and rate limits");
ABSL_FLAG(std::string, token_file, "",
          "bearer tokens accepted, as \"<principal> <sha256 hex>\" lines (hashes only)");
ABSL_FLAG(std::string, peer_token_file, "",
          "a bearer token this service presents to the services it calls");

// Defaults sized for the manifests' pods (1-2 GiB): with RocksDB's memtables
// and cache they keep a service's memory under 512 MiB at any offered load.
ABSL_FLAG(int64_t, max_calls_in_flight, 256,
          "unary calls served at once; beyond, calls are refused with RESOURCE_EXHAUSTED and a "
          "retry delay (0: no limit)");
ABSL_FLAG(int64_t, max_call_bytes_in_flight, int64_t{64} << 20,
          "request bytes of the calls served at once (0: no limit)");
ABSL_FLAG(int64_t, max_commit_bytes, int64_t{64} << 20,
          "bytes waiting to be made durable; beyond, writes are refused until the disk catches "
          "up (0: no limit)");
ABSL_FLAG(int64_t, max_streams, 4096, "server streams open at once (0: no limit)");

namespace switchboard {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio MemoryBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
}

// gRPC reads the PEM files only when it builds the server or a channel, and
// then blames the address; they are checked here, where the flag is known.
absl::Status CheckCertificates(const std::string& pem, absl::string_view what,
                               const std::string& path) {
  Bio bio = MemoryBio(pem);
  int count = 0;
  while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free) != nullptr) {
    ++count;
  }
  if (count == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " ", path, " holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyOfCertificate(const std::string& key_pem, const std::string& key_path,
                                   const std::string& cert_pem, const std::string& cert_path) {
  Bio key_bio = MemoryBio(key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file ", key_path, " holds no unencrypted PEM private key"));
  }
  Bio cert_bio = MemoryBio(cert_pem);
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (cert == nullptr || X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file ", key_path, " is not the key of --tls_cert_file ", cert_path));
  }
  return absl::OkStatus();
}

}  // namespace

SecurityFiles SecurityFilesFromFlags() {
  return {
      .tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file),
      .tls_key_file = absl::GetFlag(FLAGS_tls_key_file),
      .tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file),
      .tls_peer_ca_file = absl::GetFlag(FLAGS_tls_peer_ca_file),
      .access_policy_file = absl::GetFlag(FLAGS_access_policy_file),
      .token_file = absl::GetFlag(FLAGS_token_file),
      .peer_token_file = absl::GetFlag(FLAGS_peer_token_file),
  };
}

absl::StatusOr<Security> LoadSecurity(const SecurityFiles& files, Clock& clock,
                                      prometheus::Registry& registry) {
  const bool tls = !files.tls_cert_file.empty();
  if (tls != !files.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (!tls && !files.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca_file needs --tls_cert_file");
  }
  if (tls && files.access_policy_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file needs --access_policy_file: without one every caller could do anything");
  }
  if (files.access_policy_file.empty() && !files.token_file.empty()) {
    return absl::InvalidArgumentError("--token_file needs --access_policy_file");
  }

  Security security;
  std::string cert;
  std::string key;
  if (tls) {
    ASSIGN_OR_RETURN(cert, ReadSecurityFile(files.tls_cert_file, "--tls_cert_file"));
    ASSIGN_OR_RETURN(key, ReadSecurityFile(files.tls_key_file, "--tls_key_file"));
    RETURN_IF_ERROR(CheckCertificates(cert, "--tls_cert_file", files.tls_cert_file));
    RETURN_IF_ERROR(CheckKeyOfCertificate(key, files.tls_key_file, cert, files.tls_cert_file));
    grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    options.pem_key_cert_pairs.push_back({key, cert});
    if (!files.tls_client_ca_file.empty()) {
      ASSIGN_OR_RETURN(options.pem_root_certs,
                       ReadSecurityFile(files.tls_client_ca_file, "--tls_client_ca_file"));
      RETURN_IF_ERROR(CheckCertificates(options.pem_root_certs, "--tls_client_ca_file",
                                        files.tls_client_ca_file));
      options.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    security.server_credentials = grpc::SslServerCredentials(options);
  }

  const std::string& peer_ca =
      files.tls_peer_ca_file.empty() ? files.tls_client_ca_file : files.tls_peer_ca_file;
  if (tls || !peer_ca.empty()) {
    grpc::SslCredentialsOptions options;
    if (!peer_ca.empty()) {
      ASSIGN_OR_RETURN(options.pem_root_certs, ReadSecurityFile(peer_ca, "peer CA bundle"));
      RETURN_IF_ERROR(CheckCertificates(options.pem_root_certs, "peer CA bundle", peer_ca));
    }
    options.pem_cert_chain = cert;
    options.pem_private_key = key;
    security.peer_credentials = grpc::SslCredentials(options);
  } else {
    security.peer_credentials = grpc::InsecureChannelCredentials();
  }
  if (!files.peer_token_file.empty()) {
    if (!tls && peer_ca.empty()) {
      return absl::InvalidArgumentError(
          "--peer_token_file needs TLS to the peers (--tls_peer_ca_file or --tls_cert_file): a "
          "token is never sent in plaintext");
    }
    ASSIGN_OR_RETURN(std::string token,
                     ReadSecurityFile(files.peer_token_file, "--peer_token_file"));
    security.peer_credentials = grpc::CompositeChannelCredentials(
        security.peer_credentials,
        grpc::AccessTokenCredentials(std::string(absl::StripAsciiWhitespace(token))));
  }

  std::unique_ptr<Authenticator> authenticator;
  if (!files.access_policy_file.empty()) {
    ASSIGN_OR_RETURN(authenticator,
                     Authenticator::Load(files.access_policy_file, files.token_file));
  }
  log::Info("security", {{"tls", tls},
                         {"mutual_tls", !files.tls_client_ca_file.empty()},
                         {"access_policy_file", files.access_policy_file},
                         {"token_file", files.token_file},
                         {"peers_over_tls", tls || !peer_ca.empty()}});
  security.gate = std::make_unique<CallGate>(std::move(authenticator), clock, registry);
  return security;
}

ServerConfig SecureServerConfigFromFlags(const Security& security) {
  ServerConfig config = ServerConfigFromFlags();
  config.credentials = security.server_credentials;
  config.authenticates_callers = security.gate->authenticates();
  return config;
}

Capacity::Limits CapacityLimitsFromFlags() {
  return {.calls = absl::GetFlag(FLAGS_max_calls_in_flight),
          .call_bytes = absl::GetFlag(FLAGS_max_call_bytes_in_flight),
          .commit_bytes = absl::GetFlag(FLAGS_max_commit_bytes),
          .streams = absl::GetFlag(FLAGS_max_streams)};
}

}  // namespace switchboard
