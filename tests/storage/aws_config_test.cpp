// AWS credentials and region resolution: the documented order (environment, then the profile in
// the shared files), and failures that say what was looked at without revealing any secret.
#include <gtest/gtest.h>

#include <string>

#include "cltv/storage/s3.h"
#include "support/s3_server.h"
#include "support/test_support.h"

namespace cltv::storage {
namespace {

using test::ScopedEnv;

// Every variable the resolution reads, unset; files pointed into DIR (which may not hold them).
ScopedEnv clean_aws_environment(const test::TempDir& dir) {
  return ScopedEnv{{"AWS_ACCESS_KEY_ID", std::nullopt},
                   {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                   {"AWS_SESSION_TOKEN", std::nullopt},
                   {"AWS_PROFILE", std::nullopt},
                   {"AWS_REGION", std::nullopt},
                   {"AWS_DEFAULT_REGION", std::nullopt},
                   {"AWS_SHARED_CREDENTIALS_FILE", dir.path("credentials")},
                   {"AWS_CONFIG_FILE", dir.path("config")}};
}

const char* const kCredentialsFile =
    "# written by aws configure\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = default-secret-value\n"
    "\n"
    "[work]\n"
    "aws_access_key_id=AKIDWORK\n"
    "aws_secret_access_key=work-secret-value\n"
    "aws_session_token = work-session-token\n"
    "s3 =\n"
    "  max_concurrent_requests = 20\n";

TEST(S3Credentials, EnvironmentComesBeforeTheCredentialsFile) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  dir.write("credentials", kCredentialsFile);
  ScopedEnv keys{{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}, {"AWS_SESSION_TOKEN", "env-token"}};
  const AwsCredentials credentials = resolve_aws_credentials();
  EXPECT_EQ(credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(credentials.secret_access_key, "env-secret");
  EXPECT_EQ(credentials.session_token, "env-token");
  EXPECT_EQ(credentials.source, "environment");
}

TEST(S3Credentials, DefaultProfileOfTheSharedCredentialsFile) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  dir.write("credentials", kCredentialsFile);
  const AwsCredentials credentials = resolve_aws_credentials();
  EXPECT_EQ(credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(credentials.secret_access_key, "default-secret-value");
  EXPECT_EQ(credentials.session_token, "");
  EXPECT_EQ(credentials.source, "profile 'default' in " + dir.path("credentials"));
}

TEST(S3Credentials, AwsProfileSelectsItsSectionWithSessionToken) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  dir.write("credentials", kCredentialsFile);
  ScopedEnv profile{{"AWS_PROFILE", "work"}};
  const AwsCredentials credentials = resolve_aws_credentials();
  EXPECT_EQ(credentials.access_key_id, "AKIDWORK");
  EXPECT_EQ(credentials.secret_access_key, "work-secret-value");
  EXPECT_EQ(credentials.session_token, "work-session-token");
  EXPECT_EQ(credentials.source, "profile 'work' in " + dir.path("credentials"));
}

TEST(S3Credentials, HomeDirectoryFileWhenNoFileVariableIsSet) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  ScopedEnv home{{"HOME", dir.path("home")}, {"AWS_SHARED_CREDENTIALS_FILE", std::nullopt}};
  std::filesystem::create_directories(dir.path("home/.aws"));
  dir.write("home/.aws/credentials", kCredentialsFile);
  EXPECT_EQ(resolve_aws_credentials().source, "profile 'default' in " + dir.path("home") + "/.aws/credentials");
}

TEST(S3Credentials, MissingCredentialsAreAConfigErrorNamingWhereItLooked) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  std::string message;
  EXPECT_EQ(test::error_kind_of([] { resolve_aws_credentials(); }, &message), ErrorKind::config);
  EXPECT_NE(message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << message;
  EXPECT_NE(message.find(dir.path("credentials")), std::string::npos) << message;
}

TEST(S3Credentials, UnknownProfileErrorRevealsNoSecret) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  dir.write("credentials", kCredentialsFile);
  ScopedEnv profile{{"AWS_PROFILE", "absent"}};
  try {
    resolve_aws_credentials();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string text = std::string(e.what()) + " " + e.hint();
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(text.find("absent"), std::string::npos) << text;
    for (const char* secret : {"default-secret-value", "work-secret-value", "work-session-token"}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
    }
  }
}

TEST(S3Credentials, SecretWithoutKeyIdErrorRevealsNoSecret) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  ScopedEnv secret{{"AWS_SECRET_ACCESS_KEY", "lonely-secret-value"}};
  try {
    resolve_aws_credentials();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string text = std::string(e.what()) + " " + e.hint();
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(text.find("AWS_ACCESS_KEY_ID"), std::string::npos) << text;
    EXPECT_EQ(text.find("lonely-secret-value"), std::string::npos) << text;
  }
}

TEST(S3Region, EnvironmentVariablesInOrderThenConfigFileThenUsEast1) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  EXPECT_EQ(resolve_aws_region(), "us-east-1");

  dir.write("config",
            "[default]\nregion = eu-west-1\n\n[profile work]\noutput = json\nregion=ap-southeast-2\n"
            "[work]\nregion = wrong-section-1\n");
  EXPECT_EQ(resolve_aws_region(), "eu-west-1");
  {
    ScopedEnv profile{{"AWS_PROFILE", "work"}};
    EXPECT_EQ(resolve_aws_region(), "ap-southeast-2");
  }
  ScopedEnv default_region{{"AWS_DEFAULT_REGION", "sa-east-1"}};
  EXPECT_EQ(resolve_aws_region(), "sa-east-1");
  ScopedEnv region{{"AWS_REGION", "ca-central-1"}};
  EXPECT_EQ(resolve_aws_region(), "ca-central-1");
}

TEST(S3Region, ProfileWithoutRegionFallsBackToUsEast1) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  dir.write("config", "[default]\nregion = eu-west-1\n[profile other]\noutput = json\n");
  ScopedEnv profile{{"AWS_PROFILE", "other"}};
  EXPECT_EQ(resolve_aws_region(), "us-east-1");
}

TEST(S3Region, MalformedRegionIsAConfigError) {
  test::TempDir dir;
  const ScopedEnv env = clean_aws_environment(dir);
  ScopedEnv region{{"AWS_REGION", "eu-west-1:evil"}};
  EXPECT_EQ(test::error_kind_of([] { resolve_aws_region(); }), ErrorKind::config);
}

}  // namespace
}  // namespace cltv::storage
