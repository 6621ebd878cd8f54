// File checksums and manifest checksums.
#include "cltv/storage/manifest.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

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

}  // namespace cltv::storage
