// Manifests of published directories (model bundles, runs): the SHA-256 and size of every file,
// and a checksum of the manifest itself, defined once for writers and verifiers.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace cltv::storage {

inline constexpr const char* manifest_file_name = "manifest.json";

// {relative path ('/'-separated): {"sha256", "bytes"}} of every regular file under DIR except a
// top-level manifest.json, in path order.
nlohmann::ordered_json file_checksums(const std::string& dir);

// The SHA-256 of MANIFEST's compact JSON text without its "manifest_sha256" key.
std::string manifest_checksum(nlohmann::ordered_json manifest);

}  // namespace cltv::storage
