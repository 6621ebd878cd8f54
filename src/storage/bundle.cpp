// Model bundle writing and verified loading.
#include "cltv/storage/bundle.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string_view>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/models/registry.h"
#include "cltv/sha256.h"
#include "cltv/storage/location.h"
#include "cltv/storage/manifest.h"
#include "cltv/storage/run.h"
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

// The first entry of the directory DIR that a cltv bundle there would not hold ("" when DIR is
// empty or a bundle whose manifest lists every other entry): only such a directory may be replaced.
std::string foreign_entry(const fs::path& dir) {
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  const fs::path manifest_path = dir / manifest_file_name;
  if (fs::is_regular_file(fs::symlink_status(manifest_path))) {
    try {
      const auto manifest = nlohmann::ordered_json::parse(io::read_whole_file(manifest_path.string()));
      if (manifest.contains("model_kind") && manifest.contains("format_version")) files = manifest.at("files");
    } catch (const nlohmann::json::exception&) {
      return manifest_file_name;  // not a cltv manifest
    }
    if (files.empty()) return manifest_file_name;
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const bool listed = name == manifest_file_name ? !files.empty() : files.contains(name);
    if (!listed || !fs::is_regular_file(fs::symlink_status(dir / name))) return name;
  }
  return {};
}

// Refuses a target that is the current directory (or holds it), a file, or a directory that is not
// a cltv bundle: a model never replaces what it did not write.
void check_bundle_target(const std::string& dir, const fs::path& target) {
  std::error_code error;
  const fs::path resolved = fs::weakly_canonical(fs::absolute(target), error);
  const fs::path cwd = fs::current_path();
  const auto mismatch = std::mismatch(resolved.begin(), resolved.end(), cwd.begin(), cwd.end());
  if (!error && mismatch.first == resolved.end()) {
    throw_config(fmt::format("cannot write model '{}': it is the current directory or holds it", dir),
                 "give --out a new directory name, such as --out model");
  }
  if (!fs::exists(fs::symlink_status(target))) return;
  if (!fs::is_directory(fs::symlink_status(target))) {
    throw_io(fmt::format("cannot write model '{}': a file of that name exists", dir), "choose another --out");
  }
  const std::string foreign = foreign_entry(target);
  if (!foreign.empty()) {
    throw_io(fmt::format("cannot write model '{}': the directory exists and is not a cltv model bundle (it holds "
                         "'{}'); it was left untouched",
                         dir, foreign),
             "give --out a new or empty directory; only a bundle written by cltv is replaced");
  }
}

// The bundle directory DIR names ("out/" -> "out"), checked as a place to write a bundle.
fs::path bundle_target(const std::string& dir) {
  fs::path target = fs::path(dir);
  if (target.filename().empty()) target = target.parent_path();
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!fs::is_directory(parent)) {
    throw_io(fmt::format("cannot write model '{}': directory '{}' does not exist", dir, parent.string()),
             "create the parent directory first");
  }
  check_bundle_target(dir, target);
  return target;
}

void save_bundle_directory(const std::string& dir, const models::Model& model, BundleInfo info,
                           const std::function<void(const std::string& dir)>& write_extra) {
  const fs::path target = bundle_target(dir);
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
    if (format < bundle_format_version) {
      throw_model(fmt::format("model '{}' has format version {}, from a cltv without predictive distributions "
                              "(this cltv reads version {})",
                              dir, format, bundle_format_version),
                  "retrain the model with this cltv (cltv train)");
    }
    verify_listed_files(dir, manifest, "model", "train the model again or restore the original bundle");
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

// A run name: what claim_run_id makes (20191001T000000Z, 20191001T000000Z-2), or any short name of
// letters, digits, '-', '_' and '.' not starting with '.'.
bool is_run_name(std::string_view name) {
  constexpr size_t max_length = 64;
  if (name.empty() || name.size() > max_length || name.front() == '.' || name.ends_with(incomplete_run_suffix)) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

// Never echoes the content: a pointer may have been replaced by a link to a secret.
std::string read_latest_pointer(const Location& location) {
  constexpr uint64_t max_bytes = 128;
  const std::string hint = "a LATEST pointer is a small file holding one run name, such as 20191001T000000Z; "
                           "run cltv run again to rewrite it";
  if (location.is_remote()) {
    const std::optional<int64_t> size = s3_client(location).size_of(location.bucket, location.key);
    if (!size) throw_io(fmt::format("'{}' does not exist", location.text()), "check the path");
    if (static_cast<uint64_t>(*size) > max_bytes) {
      throw_model(fmt::format("'{}' is not a LATEST pointer: it is too large", location.text()), hint);
    }
  } else {
    const fs::file_status status = fs::symlink_status(location.path);
    if (!fs::exists(status)) throw_io(fmt::format("'{}' does not exist", location.path), "check the path");
    if (!fs::is_regular_file(status) || fs::file_size(location.path) > max_bytes) {
      throw_model(fmt::format("'{}' is not a LATEST pointer: it is a link, not a regular file, or too large",
                              location.path),
                  hint);
    }
  }
  const std::string text = read_text(location);
  std::string_view run = text;
  if (run.ends_with('\n')) run.remove_suffix(1);
  if (run.ends_with('\r')) run.remove_suffix(1);
  if (!is_run_name(run)) {
    throw_model(fmt::format("'{}' does not hold a valid run name (content not shown)", location.text()), hint);
  }
  return std::string(run);
}

void check_bundle_destination(const Location& location) {
  if (!location.is_remote()) bundle_target(location.path);
}

void save_bundle(const Location& location, const models::Model& model, BundleInfo info,
                 const std::function<void(const std::string& dir)>& write_extra) {
  const OutputStaging output(location);
  save_bundle_directory(output.path(), model, std::move(info), write_extra);
  output.publish();
}

Location resolve_bundle_location(Location location) {
  if (location.name() == latest_pointer_name) location = location.parent().child(read_latest_pointer(location));
  refuse_incomplete_run(location);
  if (location.name() != run_bundle_dir && exists(location.child(fmt::format("{}/{}", run_bundle_dir, manifest_file_name)))) {
    location = location.child(run_bundle_dir);
  }
  return location;
}

LoadedBundle load_bundle(const Location& location) {
  return load_bundle_at(resolve_bundle_location(location));
}

LoadedBundle load_bundle_at(const Location& location) {
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
