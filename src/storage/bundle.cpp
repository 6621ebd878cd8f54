// Model bundle writing and verified loading.
#include "cltv/storage/bundle.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/models/registry.h"
#include "cltv/sha256.h"
#include "cltv/text.h"
#include "cltv/storage/location.h"
#include "cltv/storage/manifest.h"
#include "cltv/time.h"
#include "cltv/version.h"

namespace cltv::storage {
namespace {

namespace fs = std::filesystem;

std::string sibling_name(const fs::path& dir, const char* tag) {
  std::random_device random;
  return (dir.parent_path() / fmt::format(".{}.{}-{}-{:08x}", dir.filename().string(), tag, ::getpid(), random()))
      .string();
}

void save_bundle_directory(const std::string& dir, const models::Model& model, BundleInfo info,
                           const std::function<void(const std::string& dir)>& write_extra) {
  fs::path target = fs::path(dir);
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent)) {
    throw_io(fmt::format("cannot write model '{}': directory '{}' does not exist", dir, parent.string()),
             "create the parent directory first");
  }
  if (fs::exists(target) && !fs::is_directory(target)) {
    throw_io(fmt::format("cannot write model '{}': a file of that name exists", dir), "choose another --out");
  }
  const fs::path staging = sibling_name(target, "staging");
  fs::create_directory(staging);
  try {
    model.save(staging.string());
    if (write_extra) write_extra(staging.string());
    info.created_utc = format_utc(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
    info.cltv_version = version;
    nlohmann::ordered_json manifest;
    manifest["format_version"] = bundle_format_version;
    manifest["model_kind"] = info.model_kind;
    manifest["created_utc"] = info.created_utc;
    manifest["cltv_version"] = info.cltv_version;
    manifest["feature_names"] = info.feature_names;
    manifest["pipeline"] = nlohmann::ordered_json::parse(info.pipeline_json);
    manifest["training_input_sha256"] = info.training_input_sha256;
    for (const auto& entry : fs::directory_iterator(staging)) {
      if (!entry.is_regular_file()) throw_internal(fmt::format("model wrote a non-file '{}'", entry.path().string()));
    }
    manifest["files"] = file_checksums(staging.string());
    manifest["manifest_sha256"] = manifest_checksum(manifest);
    io::write_file_atomically((staging / manifest_file_name).string(), manifest.dump(2) + "\n");

    // Swap the staged bundle in; a previous bundle is moved aside first and removed after.
    std::string previous;
    if (fs::exists(target)) {
      previous = sibling_name(target, "previous");
      fs::rename(target, previous);
    }
    fs::rename(staging, target);
    if (!previous.empty()) fs::remove_all(previous);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
}

LoadedBundle load_bundle_directory(const std::string& dir) {
  const fs::path root(dir);
  const fs::path manifest_path = root / manifest_file_name;
  if (!fs::is_directory(root)) {
    throw_io(fmt::format("model '{}' does not exist or is not a directory", dir), "give the --out of cltv train");
  }
  if (!fs::exists(manifest_path)) {
    throw_model(fmt::format("model '{}' has no {}", dir, manifest_file_name), "the bundle is incomplete; train it again");
  }
  nlohmann::ordered_json manifest;
  try {
    manifest = nlohmann::ordered_json::parse(io::read_whole_file(manifest_path.string()));
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("'{}' is damaged: {}", manifest_path.string(), e.what()), "train the model again");
  }
  try {
    const int format = manifest.at("format_version").get<int>();
    if (format > bundle_format_version) {
      throw_model(fmt::format("model '{}' has format version {}, newer than this cltv ({}) reads", dir, format,
                              bundle_format_version),
                  "upgrade cltv");
    }
    if (manifest.at("manifest_sha256").get<std::string>() != manifest_checksum(manifest)) {
      throw_model(fmt::format("'{}' was altered: its checksum does not match", manifest_path.string()),
                  "train the model again or restore the original bundle");
    }
    for (const auto& [name, entry] : manifest.at("files").items()) {
      const fs::path path = root / name;
      if (!fs::exists(path)) throw_model(fmt::format("model '{}' lacks its file '{}'", dir, name), "the bundle is incomplete");
      if (fs::file_size(path) != entry.at("bytes").get<uintmax_t>() ||
          sha256_file_hex(path.string()) != entry.at("sha256").get<std::string>()) {
        throw_model(fmt::format("model file '{}' is truncated or altered: its SHA-256 does not match the manifest",
                                path.string()),
                    "train the model again or restore the original bundle");
      }
    }
    LoadedBundle loaded;
    loaded.info.model_kind = manifest.at("model_kind").get<std::string>();
    loaded.info.created_utc = manifest.at("created_utc").get<std::string>();
    loaded.info.cltv_version = manifest.at("cltv_version").get<std::string>();
    loaded.info.feature_names = manifest.at("feature_names").get<std::vector<std::string>>();
    loaded.info.pipeline_json = manifest.at("pipeline").dump();
    loaded.info.training_input_sha256 = manifest.at("training_input_sha256").get<std::string>();
    loaded.model = models::make_model(loaded.info.model_kind);
    loaded.model->load(dir);
    return loaded;
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("'{}' is missing a field or has a wrong type: {}", manifest_path.string(), e.what()),
                "train the model again");
  }
}

// Downloads the bundle at LOCATION into DIR: the manifest, then every file it lists (loading
// verifies them).
void download_bundle(const Location& location, const std::string& dir) {
  const std::string manifest_path = (fs::path(dir) / manifest_file_name).string();
  fetch_to(location.child(manifest_file_name), manifest_path);
  try {
    const auto manifest = nlohmann::ordered_json::parse(io::read_whole_file(manifest_path));
    for (const auto& [name, entry] : manifest.at("files").items()) {
      if (name.find('/') != std::string::npos || name == ".." || name == ".") {
        throw_model(fmt::format("bundle '{}' lists a file outside it: '{}'", location.text(), name));
      }
      fetch_to(location.child(name), (fs::path(dir) / name).string());
    }
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("bundle '{}' has a damaged manifest: {}", location.text(), e.what()), "train the model again");
  }
}

}  // namespace

void save_bundle(const std::string& location, const models::Model& model, BundleInfo info,
                 const std::function<void(const std::string& dir)>& write_extra) {
  const OutputStaging output(location);
  save_bundle_directory(output.path(), model, std::move(info), write_extra);
  output.publish();
}

Location resolve_bundle_location(const std::string& text) {
  Location location = parse_location(text);
  if (location.name() == latest_pointer_name) {
    const std::string pointer = read_text(location);
    const std::string run = std::string(trim(pointer));
    if (run.empty() || run.find('/') != std::string::npos || run == "." || run == "..") {
      throw_model(fmt::format("'{}' does not name a run (it holds \"{}\")", location.text(), trim(pointer).substr(0, 80)),
                  "a LATEST pointer holds one run name, such as 20191001T000000Z; run cltv run again");
    }
    location = location.parent().child(run);
  }
  if (location.name() != run_bundle_dir && exists(location.child(fmt::format("{}/{}", run_bundle_dir, manifest_file_name)))) {
    location = location.child(run_bundle_dir);
  }
  return location;
}

LoadedBundle load_bundle(const std::string& location_text) {
  const Location location = resolve_bundle_location(location_text);
  if (!location.is_remote()) return load_bundle_directory(location.path);
  const TemporaryDirectory dir;
  download_bundle(location, dir.path());
  try {
    return load_bundle_directory(dir.path());
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("bundle '{}': {}", location.text(), e.what()), e.hint());
  }
}

void check_feature_contract(const BundleInfo& info, const std::vector<std::string>& names) {
  const auto& expected = info.feature_names;
  for (size_t i = 0; i < std::max(expected.size(), names.size()); ++i) {
    const std::string want = i < expected.size() ? expected[i] : "(none)";
    const std::string got = i < names.size() ? names[i] : "(none)";
    if (want != got) {
      throw_model(fmt::format("features do not match the model: column {} is '{}' but the model expects '{}' "
                              "({} features here, {} in the model)",
                              i + 1, got, want, names.size(), expected.size()),
                  "score data with the same units and --feature-months the model was trained on");
    }
  }
}

}  // namespace cltv::storage
