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

// Throws model error (naming WHAT, e.g. "model" or "run", and HINT) unless MANIFEST's own checksum
// holds and every file it lists is under DIR with its size and SHA-256; json errors for a manifest
// lacking those keys are the caller's to translate.
void verify_listed_files(const std::string& dir, const nlohmann::ordered_json& manifest, const std::string& what,
                         const std::string& hint);

}  // namespace cltv::storage
