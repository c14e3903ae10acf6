// LoadSecurity from files made at test time: which flag combinations it
// refuses, how it reports files it cannot use, and, on 127.0.0.1, that the
// credentials and gate it returns do what the flags say (mutual TLS, the
// caller named by its certificate, a peer token sent over TLS).
#include "common/security.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/server_context.h>
#include <prometheus/registry.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/authenticator.h"
#include "common/status.h"
#include "common/testing/echo.grpc.pb.h"
#include "common/testing/subprocess.h"

namespace switchboard {
namespace {

using testing::EchoRequest;
using testing::EchoResponse;
using testing::EchoService;
using ::testing::HasSubstr;

constexpr char kOpsToken[] = "ops-secret-token-0123456789";

constexpr char kPolicy[] = R"(
principals:
  - {name: svc, roles: [service]}
  - {name: crm, roles: [submitter], sources: [crm]}
  - {name: ops, roles: [operator]}
)";

// Answers with the name of the caller its gate admits, or the gate's
// refusal.
class WhoAmIService final : public EchoService::CallbackService {
 public:
  explicit WhoAmIService(CallGate& gate) : gate_(gate) {}

  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoRequest* /*request*/, EchoResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<const Caller*> caller = gate_.Admit(*context);
    if (!caller.ok()) {
      reactor->Finish(ToGrpcStatus(caller.status()));
    } else {
      response->set_payload((*caller)->name());
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

 private:
  CallGate& gate_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class LoadSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("common_security_test"));
    auto script = testing::Subprocess::Start("/bin/bash",
                                             {SWITCHBOARD_SOURCE_DIR "/scripts/gen-test-certs.sh",
                                              Path("certs"), "svc", "crm", "stranger"},
                                             {});
    ASSERT_TRUE(script.ok()) << script.status();
    ASSERT_EQ((*script)->Wait(absl::Seconds(60)).value_or(-1), 0) << "gen-test-certs.sh failed";
    std::ofstream(Path("policy.yaml")) << kPolicy;
    std::ofstream(Path("tokens")) << "ops " << Authenticator::HashToken(kOpsToken) << "\n";
    std::ofstream(Path("peer-token")) << "  " << kOpsToken << "\n\n";
    std::ofstream(Path("garbage.pem")) << "this is not PEM\n";
    std::ofstream(Path("empty.pem")) << "";
    std::ofstream(Path("bad-role.yaml")) << "principals: [{name: a, roles: [admin]}]\n";
    std::ofstream(Path("not-yaml.yaml")) << "principals: [unclosed\n";
    std::ofstream(Path("bad-tokens")) << "ops not-a-hash\n";
  }

  static void TearDownTestSuite() {
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(dir_, nullptr); }

  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string Cert(const std::string& name) { return Path("certs/" + name + ".pem"); }
  static std::string Key(const std::string& name) { return Path("certs/" + name + ".key"); }

  // TLS with this service's certificate and an access policy.
  static SecurityFiles Tls() {
    SecurityFiles files;
    files.tls_cert_file = Cert("svc");
    files.tls_key_file = Key("svc");
    files.access_policy_file = Path("policy.yaml");
    files.token_file = Path("tokens");
    return files;
  }

  // Tls() with client certificates from the test CA required.
  static SecurityFiles MutualTls() {
    SecurityFiles files = Tls();
    files.tls_client_ca_file = Cert("ca");
    return files;
  }

  absl::StatusOr<Security> Load(const SecurityFiles& files) {
    return LoadSecurity(files, clock_, registry_);
  }

  // Client credentials presenting certificate `identity` ("" for none) and
  // trusting the test CA.
  static std::shared_ptr<grpc::ChannelCredentials> ClientTls(const std::string& identity) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(Cert("ca"));
    if (!identity.empty()) {
      options.pem_cert_chain = ReadFile(Cert(identity));
      options.pem_private_key = ReadFile(Key(identity));
    }
    return grpc::SslCredentials(options);
  }

  // The caller name the server on `port` admits, calling with
  // `credentials` and, if given, an authorization header.
  static absl::StatusOr<std::string> WhoAmI(int port,
                                            std::shared_ptr<grpc::ChannelCredentials> credentials,
                                            const std::string& authorization = "",
                                            const std::string& on_behalf_of = "") {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one handshake per identity
    auto stub = EchoService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port), std::move(credentials), args));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    if (!on_behalf_of.empty()) context.AddMetadata(kOnBehalfOfMetadata, on_behalf_of);
    EchoResponse response;
    grpc::Status status = stub->Echo(&context, EchoRequest(), &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response.payload();
  }

  // Counter values of family `name` that are not zero, keyed by their
  // labels as "name=value,name=value".
  std::map<std::string, double> Counted(const std::string& name) {
    std::map<std::string, double> counted;
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        if (metric.counter.value == 0) continue;
        std::string key;
        for (const auto& label : metric.label) {
          absl::StrAppend(&key, key.empty() ? "" : ",", label.name, "=", label.value);
        }
        counted[key] = metric.counter.value;
      }
    }
    return counted;
  }

  static std::string* dir_;
  FakeClock clock_;
  prometheus::Registry registry_;
};

std::string* LoadSecurityTest::dir_ = nullptr;

TEST_F(LoadSecurityTest, WithoutFilesTheServiceIsPlaintextAndAuthenticatesNobody) {
  absl::StatusOr<Security> security = Load({});
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->server_credentials, nullptr);
  EXPECT_NE(security->peer_credentials, nullptr);
  ASSERT_NE(security->gate, nullptr);
  EXPECT_FALSE(security->gate->authenticates());
  grpc::ServerContext context;
  absl::StatusOr<const Caller*> caller = security->gate->Admit(context);
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_TRUE((*caller)->local());
  EXPECT_EQ(Counted("switchboard_calls_admitted_total"),
            (std::map<std::string, double>{{"caller_class=local", 1}}))
      << "the gate counts into the registry given";

  const ServerConfig config = SecureServerConfigFromFlags(*security);
  EXPECT_EQ(config.credentials, nullptr);
  EXPECT_FALSE(config.authenticates_callers);
  EXPECT_EQ(config.grpc_listen, ServerConfigFromFlags().grpc_listen);
}

TEST_F(LoadSecurityTest, ACertificateAndItsKeyGoTogether) {
  SecurityFiles cert_only = Tls();
  cert_only.tls_key_file.clear();
  SecurityFiles key_only = Tls();
  key_only.tls_cert_file.clear();
  for (const SecurityFiles& files : {cert_only, key_only}) {
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(security.status().message(), "--tls_cert_file and --tls_key_file go together");
  }
}

TEST_F(LoadSecurityTest, AClientCaNeedsACertificate) {
  SecurityFiles files;
  files.tls_client_ca_file = Cert("ca");
  files.access_policy_file = Path("policy.yaml");
  absl::StatusOr<Security> security = Load(files);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(security.status().message(), HasSubstr("--tls_client_ca_file needs --tls_cert_file"));
}

TEST_F(LoadSecurityTest, TlsWithoutAnAccessPolicyIsRefused) {
  for (SecurityFiles files : {Tls(), MutualTls()}) {
    files.access_policy_file.clear();
    files.token_file.clear();
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(security.status().message(),
                HasSubstr("--tls_cert_file needs --access_policy_file"));
  }
}

TEST_F(LoadSecurityTest, ATokenFileNeedsAnAccessPolicy) {
  SecurityFiles files;
  files.token_file = Path("tokens");
  absl::StatusOr<Security> security = Load(files);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(security.status().message(), HasSubstr("--token_file needs --access_policy_file"));
}

TEST_F(LoadSecurityTest, APeerTokenIsNeverSentInPlaintext) {
  SecurityFiles plaintext;
  plaintext.peer_token_file = Path("peer-token");
  SecurityFiles with_policy = plaintext;
  with_policy.access_policy_file = Path("policy.yaml");
  for (const SecurityFiles& files : {plaintext, with_policy}) {
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(security.status().message(), HasSubstr("--peer_token_file needs TLS"));
  }
  // Over TLS to the peers, verified by a peer CA or with a certificate of
  // its own, it is accepted.
  SecurityFiles peer_ca = plaintext;
  peer_ca.tls_peer_ca_file = Cert("ca");
  SecurityFiles tls = Tls();
  tls.peer_token_file = Path("peer-token");
  for (const SecurityFiles& files : {peer_ca, tls}) {
    absl::StatusOr<Security> security = Load(files);
    EXPECT_TRUE(security.ok()) << security.status();
  }
}

TEST_F(LoadSecurityTest, AFileThatCannotBeReadIsNotFoundNamingItsFlagAndPath) {
  const std::string missing = Path("no-such-file");
  const struct {
    std::string SecurityFiles::*field;
    SecurityFiles base;
    const char* what;
  } cases[] = {
      {&SecurityFiles::tls_cert_file, Tls(), "--tls_cert_file"},
      {&SecurityFiles::tls_key_file, Tls(), "--tls_key_file"},
      {&SecurityFiles::tls_client_ca_file, MutualTls(), "--tls_client_ca_file"},
      {&SecurityFiles::tls_peer_ca_file, Tls(), "peer CA bundle"},
      {&SecurityFiles::tls_peer_ca_file, SecurityFiles{}, "peer CA bundle"},
      {&SecurityFiles::peer_token_file, Tls(), "--peer_token_file"},
      {&SecurityFiles::token_file, Tls(), "--token_file"},
  };
  for (const auto& [field, base, what] : cases) {
    SecurityFiles files = base;
    files.*field = missing;
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kNotFound) << what;
    EXPECT_THAT(security.status().message(), HasSubstr(absl::StrCat(what, " ", missing))) << what;
  }
  // The policy is read by the Authenticator, whose message names the path.
  SecurityFiles files = Tls();
  files.access_policy_file = missing;
  absl::StatusOr<Security> security = Load(files);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(security.status().message(), HasSubstr(missing));
}

// A directory opens as a stream that reads nothing; given for a file (a
// mounted secret's directory instead of the file in it, say) it must not load
// as an empty certificate, key, CA bundle or token.
TEST_F(LoadSecurityTest, ADirectoryIsAFileThatCannotBeRead) {
  for (std::string SecurityFiles::*field :
       {&SecurityFiles::tls_cert_file, &SecurityFiles::tls_key_file,
        &SecurityFiles::tls_client_ca_file, &SecurityFiles::peer_token_file}) {
    SecurityFiles files = MutualTls();
    files.*field = *dir_;
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(security.status().message(), HasSubstr(*dir_));
  }
}

// gRPC reads the PEM files only when it builds the server, and then blames
// the address ("cannot serve gRPC on ..."); an empty client CA bundle would
// even start and fail every handshake. A broken file is refused at load,
// naming its flag.
TEST_F(LoadSecurityTest, CertificatesAndKeysThatDoNotParseAreInvalidArgument) {
  const struct {
    std::string SecurityFiles::*field;
    std::string path;
    const char* flag;
  } cases[] = {
      {&SecurityFiles::tls_cert_file, Path("garbage.pem"), "--tls_cert_file"},
      {&SecurityFiles::tls_cert_file, Path("empty.pem"), "--tls_cert_file"},
      {&SecurityFiles::tls_key_file, Path("garbage.pem"), "--tls_key_file"},
      {&SecurityFiles::tls_key_file, Key("crm"), "--tls_key_file"},
      {&SecurityFiles::tls_client_ca_file, Path("garbage.pem"), "--tls_client_ca_file"},
      {&SecurityFiles::tls_client_ca_file, Path("empty.pem"), "--tls_client_ca_file"},
      {&SecurityFiles::tls_peer_ca_file, Path("garbage.pem"), "peer CA"},
  };
  for (const auto& [field, path, flag] : cases) {
    SecurityFiles files = MutualTls();
    files.*field = path;
    absl::StatusOr<Security> security = Load(files);
    EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument) << flag << " " << path;
    EXPECT_THAT(security.status().message(), HasSubstr(flag)) << path;
  }
}

TEST_F(LoadSecurityTest, ABadPolicyOrTokenFileIsInvalidArgumentSayingWhatIsWrong) {
  SecurityFiles bad_role = Tls();
  bad_role.access_policy_file = Path("bad-role.yaml");
  bad_role.token_file.clear();
  absl::StatusOr<Security> security = Load(bad_role);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(security.status().message(), HasSubstr("unknown role \"admin\""));

  SecurityFiles not_yaml = Tls();
  not_yaml.access_policy_file = Path("not-yaml.yaml");
  not_yaml.token_file.clear();
  security = Load(not_yaml);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(security.status().message(), HasSubstr(Path("not-yaml.yaml")));

  SecurityFiles bad_tokens = Tls();
  bad_tokens.token_file = Path("bad-tokens");
  security = Load(bad_tokens);
  EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(security.status().message(), HasSubstr("token file line 1"));
}

TEST_F(LoadSecurityTest, MutualTlsAdmitsCallersByTheirCertificate) {
  absl::StatusOr<Security> security = Load(MutualTls());
  ASSERT_TRUE(security.ok()) << security.status();
  ASSERT_NE(security->server_credentials, nullptr);
  ASSERT_TRUE(security->gate->authenticates());
  const ServerConfig config = SecureServerConfigFromFlags(*security);
  EXPECT_EQ(config.credentials, security->server_credentials);
  EXPECT_TRUE(config.authenticates_callers);

  WhoAmIService service(*security->gate);
  auto host = ServiceHost::Start(config, {{&service, EchoService::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  const int port = (*host)->grpc_port();

  EXPECT_EQ(WhoAmI(port, ClientTls("crm")).value_or("refused"), "crm");
  // The service's own credentials for its peers present its certificate
  // and trust the client CA.
  EXPECT_EQ(WhoAmI(port, security->peer_credentials).value_or("refused"), "svc");
  // A bearer token, when present, decides who is calling.
  EXPECT_EQ(WhoAmI(port, ClientTls("crm"), absl::StrCat("Bearer ", kOpsToken)).value_or("refused"),
            "ops");

  absl::StatusOr<std::string> stranger = WhoAmI(port, ClientTls("stranger"));
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(stranger.status().message(), HasSubstr("names no principal"));

  // Without a certificate the test CA signed, or without TLS, there is no
  // call at all.
  for (const char* identity : {"", "rogue", "expired"}) {
    EXPECT_EQ(WhoAmI(port, ClientTls(identity)).status().code(), absl::StatusCode::kUnavailable)
        << "certificate \"" << identity << "\"";
  }
  EXPECT_EQ(WhoAmI(port, grpc::InsecureChannelCredentials()).status().code(),
            absl::StatusCode::kUnavailable);

  EXPECT_EQ(Counted("switchboard_calls_admitted_total"),
            (std::map<std::string, double>{{"caller_class=operator", 1},
                                           {"caller_class=service", 1},
                                           {"caller_class=submitter", 1}}));
  EXPECT_EQ(Counted("switchboard_calls_refused_total"),
            (std::map<std::string, double>{{"caller_class=unknown,reason=permission_denied", 1}}));
}

// A partition forwarding a call (common/forwarding.h) names the caller it
// admitted; the owner believes that only from a service's certificate.
TEST_F(LoadSecurityTest, OnlyAServiceOverMutualTlsCallsOnBehalfOfAnother) {
  absl::StatusOr<Security> security = Load(MutualTls());
  ASSERT_TRUE(security.ok()) << security.status();
  WhoAmIService service(*security->gate);
  auto host = ServiceHost::Start(SecureServerConfigFromFlags(*security),
                                 {{&service, EchoService::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  const int port = (*host)->grpc_port();

  // svc (role service, by its certificate) speaks for crm.
  EXPECT_EQ(WhoAmI(port, security->peer_credentials, "", "crm").value_or("refused"), "crm");
  // Nobody else may, and nobody may speak for a principal the policy lacks.
  absl::StatusOr<std::string> submitter = WhoAmI(port, ClientTls("crm"), "", "ops");
  EXPECT_EQ(submitter.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(submitter.status().message(), HasSubstr("crm may not call on behalf of"));
  absl::StatusOr<std::string> unknown = WhoAmI(port, security->peer_credentials, "", "nobody");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no principal \"nobody\""));
  // A caller known by its bearer token is refused too.
  absl::StatusOr<std::string> by_token =
      WhoAmI(port, security->peer_credentials, absl::StrCat("Bearer ", kOpsToken), "crm");
  EXPECT_EQ(by_token.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(LoadSecurityTest, APeerTokenIsPresentedOverTlsVerifiedByThePeerCa) {
  // A server with TLS but no client certificates: callers bring tokens.
  absl::StatusOr<Security> server = Load(Tls());
  ASSERT_TRUE(server.ok()) << server.status();
  WhoAmIService service(*server->gate);
  auto host = ServiceHost::Start(SecureServerConfigFromFlags(*server),
                                 {{&service, EchoService::service_full_name()}},
                                 std::make_shared<prometheus::Registry>());
  ASSERT_TRUE(host.ok()) << host.status();
  const int port = (*host)->grpc_port();

  // A client of it with no certificate of its own: only a peer CA and the
  // token (whose file has blank space around it).
  SecurityFiles client_files;
  client_files.tls_peer_ca_file = Cert("ca");
  client_files.peer_token_file = Path("peer-token");
  FakeClock clock;
  prometheus::Registry registry;
  absl::StatusOr<Security> client = LoadSecurity(client_files, clock, registry);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->server_credentials, nullptr) << "it serves plaintext";
  EXPECT_EQ(WhoAmI(port, client->peer_credentials).value_or("refused"), "ops");

  // The same without the token is nobody.
  client_files.peer_token_file.clear();
  client = LoadSecurity(client_files, clock, registry);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(WhoAmI(port, client->peer_credentials).status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace switchboard
