// AWS credentials and region resolution: the environment first, then the shared credentials and
// config files (INI), in the order the AWS CLI documents. Secret values never reach a message. And
// the endpoint settings from the environment.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cltv/error.h"
#include "cltv/storage/s3.h"
#include "cltv/text.h"

namespace cltv::storage {
namespace {

using IniSection = std::map<std::string, std::string>;
using IniFile = std::map<std::string, IniSection>;

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string home_directory() {
  std::string home = environment("HOME");
  if (!home.empty()) return home;
  const passwd* entry = ::getpwuid(::getuid());
  return entry != nullptr && entry->pw_dir != nullptr ? std::string(entry->pw_dir) : std::string();
}

// FILE_VARIABLE's value, else ~/.aws/DEFAULT_NAME.
std::string aws_file_path(const char* file_variable, const char* default_name) {
  std::string path = environment(file_variable);
  if (!path.empty()) return path;
  return fmt::format("{}/.aws/{}", home_directory(), default_name);
}

// Sections of an AWS-style INI file, or nullopt when it cannot be read. Indented lines continue a
// nested setting (e.g. "s3 =" blocks) and are skipped; lines starting with '#' or ';' are comments.
std::optional<IniFile> read_ini(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  IniFile sections;
  IniSection* current = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    const std::string_view text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      current = &sections[std::string(trim(text.substr(1, text.size() - 2)))];
      continue;
    }
    const auto equals = text.find('=');
    if (current == nullptr || equals == std::string::npos) continue;
    (*current)[std::string(trim(text.substr(0, equals)))] = trim(text.substr(equals + 1));
  }
  return sections;
}

std::string profile_name() {
  const std::string profile = environment("AWS_PROFILE");
  return profile.empty() ? std::string("default") : profile;
}

std::string value_or_empty(const IniSection& section, const std::string& name) {
  const auto found = section.find(name);
  return found == section.end() ? std::string() : found->second;
}

const char* const kCredentialsHint =
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the profile's aws_access_key_id and "
    "aws_secret_access_key to the shared credentials file (see `aws configure`)";

}  // namespace

AwsCredentials resolve_aws_credentials() {
  const std::string key_id = environment("AWS_ACCESS_KEY_ID");
  const std::string secret = environment("AWS_SECRET_ACCESS_KEY");
  if (!key_id.empty() || !secret.empty()) {
    if (key_id.empty() || secret.empty()) {
      throw_config(fmt::format("incomplete AWS credentials in the environment: {} is set but {} is not",
                               key_id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                               key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"),
                   kCredentialsHint);
    }
    return {key_id, secret, environment("AWS_SESSION_TOKEN"), "environment"};
  }

  const std::string path = aws_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const std::string profile = profile_name();
  const std::optional<IniFile> file = read_ini(path);
  if (!file) {
    throw_config(fmt::format("no AWS credentials found: AWS_ACCESS_KEY_ID is not set and the shared "
                             "credentials file '{}' cannot be read (profile '{}')",
                             path, profile),
                 kCredentialsHint);
  }
  const auto section = file->find(profile);
  if (section == file->end()) {
    throw_config(fmt::format("no AWS credentials found: AWS_ACCESS_KEY_ID is not set and '{}' has no "
                             "profile [{}]",
                             path, profile),
                 kCredentialsHint);
  }
  AwsCredentials credentials{value_or_empty(section->second, "aws_access_key_id"),
                             value_or_empty(section->second, "aws_secret_access_key"),
                             value_or_empty(section->second, "aws_session_token"),
                             fmt::format("profile '{}' in {}", profile, path)};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    throw_config(fmt::format("profile [{}] in '{}' lacks aws_access_key_id or aws_secret_access_key "
                             "(SSO, role and process credentials are not supported)",
                             profile, path),
                 kCredentialsHint);
  }
  return credentials;
}

std::string resolve_aws_region() {
  std::string region = environment("AWS_REGION");
  if (region.empty()) region = environment("AWS_DEFAULT_REGION");
  if (region.empty()) {
    const std::string path = aws_file_path("AWS_CONFIG_FILE", "config");
    if (const std::optional<IniFile> file = read_ini(path)) {
      // The config file names profiles "[profile NAME]", except "[default]".
      const std::string profile = profile_name();
      std::vector<std::string> section_names{fmt::format("profile {}", profile)};
      if (profile == "default") section_names.insert(section_names.begin(), profile);
      for (const std::string& section_name : section_names) {
        const auto section = file->find(section_name);
        if (section != file->end()) {
          region = value_or_empty(section->second, "region");
          if (!region.empty()) break;
        }
      }
    }
  }
  if (region.empty()) return "us-east-1";
  if (region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    throw_config(fmt::format("AWS region '{}' is not a region name", region),
                 "use a name such as eu-west-1 in AWS_REGION or the profile's region setting");
  }
  return region;
}

S3Options s3_options_from_environment() {
  S3Options options;
  options.endpoint = environment("AWS_ENDPOINT_URL");
  return options;
}

}  // namespace cltv::storage
