// File checksums and manifest checksums.
#include "cltv/storage/manifest.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include <fmt/format.h>

#include "cltv/error.h"
#include "cltv/sha256.h"

namespace cltv::storage {

nlohmann::ordered_json file_checksums(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) names.push_back(fs::relative(entry.path(), dir).generic_string());
  }
  std::sort(names.begin(), names.end());
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  for (const auto& name : names) {
    if (name == manifest_file_name) continue;
    const fs::path path = fs::path(dir) / name;
    files[name] = {{"sha256", sha256_file_hex(path.string())}, {"bytes", fs::file_size(path)}};
  }
  return files;
}

std::string manifest_checksum(nlohmann::ordered_json manifest) {
  manifest.erase("manifest_sha256");
  return sha256_hex(manifest.dump());
}

void verify_listed_files(const std::string& dir, const nlohmann::ordered_json& manifest, const std::string& what,
                         const std::string& hint) {
  namespace fs = std::filesystem;
  const fs::path root(dir);
  if (manifest.at("manifest_sha256").get<std::string>() != manifest_checksum(manifest)) {
    throw_model(fmt::format("'{}' was altered: its checksum does not match", (root / manifest_file_name).string()), hint);
  }
  for (const auto& [name, entry] : manifest.at("files").items()) {
    const fs::path path = root / name;
    if (!fs::exists(path)) throw_model(fmt::format("{} '{}' lacks its file '{}'", what, dir, name), hint);
    if (fs::file_size(path) != entry.at("bytes").get<uintmax_t>() ||
        sha256_file_hex(path.string()) != entry.at("sha256").get<std::string>()) {
      throw_model(fmt::format("{} file '{}' is truncated or altered: its SHA-256 does not match the manifest", what,
                              path.string()),
                  hint);
    }
  }
}

}  // namespace cltv::storage
