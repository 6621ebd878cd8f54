// Locating published runs and loading them, verified, from local disk or S3.
#include "cltv/storage/run.h"

#include <fmt/format.h>

#include <filesystem>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/manifest.h"

namespace cltv::storage {
namespace fs = std::filesystem;
namespace {

constexpr const char* kRunHint = "use a complete run (runs/<run> or models/<run>) or models/LATEST, or publish it again";

// A manifest-listed name that stays inside the run: relative, without "." or ".." parts.
bool is_inside(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (const auto& part : fs::path(name)) {
    if (part == "." || part == "..") return false;
  }
  return true;
}

nlohmann::ordered_json read_manifest(const std::string& path, const std::string& run) {
  try {
    nlohmann::ordered_json manifest = nlohmann::ordered_json::parse(io::read_whole_file(path));
    if (!manifest.contains("run") || !manifest.contains("files")) {
      throw_model(fmt::format("'{}' is not a cltv run (its manifest has no run name or file list)", run), kRunHint);
    }
    for (const auto& [name, entry] : manifest.at("files").items()) {
      if (!is_inside(name)) throw_model(fmt::format("run '{}' lists a file outside it", run), kRunHint);
    }
    return manifest;
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("run '{}' has a damaged manifest: {}", run, e.what()), kRunHint);
  }
}

}  // namespace

void refuse_incomplete_run(const Location& location) {
  const std::string path = location.is_remote() ? location.key : fs::path(location.path).lexically_normal().string();
  for (const auto& part : fs::path(path)) {
    if (part.string().ends_with(incomplete_run_suffix)) {
      throw_model(fmt::format("'{}' is an incomplete run: cltv run did not finish it", location.text()),
                  "use a complete run (runs/<run>, without .incomplete) or models/LATEST");
    }
  }
}

Location resolve_run_location(Location location) {
  if (location.name() == latest_pointer_name) location = location.parent().child(read_latest_pointer(location));
  refuse_incomplete_run(location);
  return location;
}

LocalRun load_run(const Location& location) {
  LocalRun run;
  run.location = location.text();
  if (location.is_remote()) {
    run.download = std::make_shared<TemporaryDirectory>();
    run.dir = run.download->path();
    const std::string manifest_path = (fs::path(run.dir) / manifest_file_name).string();
    fetch_to(location.child(manifest_file_name), manifest_path);
    run.manifest = read_manifest(manifest_path, run.location);
    for (const auto& [name, entry] : run.manifest.at("files").items()) {
      const fs::path local = fs::path(run.dir) / name;
      fs::create_directories(local.parent_path());
      fetch_to(location.child(name), local.string());
    }
  } else {
    run.dir = location.path;
    const fs::path manifest_path = fs::path(run.dir) / manifest_file_name;
    if (!fs::is_regular_file(manifest_path)) {
      throw_model(fmt::format("'{}' is not a cltv run: it has no {}", run.location, manifest_file_name), kRunHint);
    }
    run.manifest = read_manifest(manifest_path.string(), run.location);
  }
  try {
    verify_listed_files(run.dir, run.manifest, "run", kRunHint);
    run.name = run.manifest.at("run").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw_model(fmt::format("run '{}' has a damaged manifest: {}", run.location, e.what()), kRunHint);
  }
  return run;
}

}  // namespace cltv::storage
