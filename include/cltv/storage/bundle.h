// Model bundles: a directory holding a trained model's own files and a manifest (format version,
// model kind, creation time, cltv version, feature contract, pipeline settings, metrics, and the
// SHA-256 of the training input and of every file). Written atomically; loading verifies it all.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cltv/models/model.h"
#include "cltv/storage/location.h"

namespace cltv::storage {

// 2: every model saves its predictive distribution; version 1 bundles are refused (retrain).
inline constexpr int bundle_format_version = 2;
// A run directory keeps its bundle in this subdirectory; a models/ folder's LATEST file holds the
// name of the newest complete run beside it.
inline constexpr const char* run_bundle_dir = "bundle";
inline constexpr const char* latest_pointer_name = "LATEST";
// A run directory is built under "<run>.incomplete" and renamed when complete.
inline constexpr const char* incomplete_run_suffix = ".incomplete";

struct BundleInfo {
  std::string model_kind;
  std::string created_utc;   // filled by save_bundle
  std::string cltv_version;  // filled by save_bundle
  std::vector<std::string> feature_names;
  // Pipeline settings and results as JSON text (features, cleaning, windows, population, level
  // cuts, training and validation metrics, hyperparameters); kept verbatim in the manifest.
  std::string pipeline_json = "{}";
  std::string training_input_sha256;
};

// Saves MODEL and INFO into the directory LOCATION (replacing a previous bundle there) atomically;
// remote locations get the files first and the manifest last. WRITE_EXTRA, when given, adds files
// (charts) to the bundle directory before the manifest checksums everything.
void save_bundle(const Location& location, const models::Model& model, BundleInfo info,
                 const std::function<void(const std::string& dir)>& write_extra = {});

// Throws unless a bundle may be written at LOCATION: a local directory must be new, empty or a cltv
// bundle (whose manifest lists everything in it), never the current directory. Lets commands
// refuse before any work; save_bundle checks again.
void check_bundle_destination(const Location& location);

struct LoadedBundle {
  BundleInfo info;
  std::unique_ptr<models::Model> model;
};

// Where the bundle LOCATION names is: a bundle directory; a run directory (its bundle/); or a LATEST
// pointer (the run it names, beside it). Locally or on S3. A pointer must be a small regular file
// holding one run name (its content is never shown); an incomplete run is refused.
Location resolve_bundle_location(Location location);

// The run named by the LATEST pointer at LOCATION: a small regular file (never a link) holding one
// run name on one line; anything else is a model error that does not show the content.
std::string read_latest_pointer(const Location& location);

// Loads and verifies the bundle at LOCATION (see resolve_bundle_location; remote bundles are
// downloaded to a temporary directory first): refuses a missing or altered file, a checksum
// mismatch, or a newer format version, with a model error saying which.
LoadedBundle load_bundle(const Location& location);
// The same for the bundle directory at exactly LOCATION (no pointer, run or completeness check):
// for a run loading the bundle it has just written.
LoadedBundle load_bundle_at(const Location& location);

// Throws a model error when NAMES differ from the bundle's feature contract, naming the first
// difference.
void check_feature_contract(const BundleInfo& info, const std::vector<std::string>& names);

}  // namespace cltv::storage
