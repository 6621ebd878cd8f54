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

inline constexpr int bundle_format_version = 1;
// A run directory keeps its bundle in this subdirectory; a models/ folder's LATEST file holds the
// name of the newest complete run beside it.
inline constexpr const char* run_bundle_dir = "bundle";
inline constexpr const char* latest_pointer_name = "LATEST";

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
void save_bundle(const std::string& location, const models::Model& model, BundleInfo info,
                 const std::function<void(const std::string& dir)>& write_extra = {});

struct LoadedBundle {
  BundleInfo info;
  std::unique_ptr<models::Model> model;
};

// Where the bundle named by TEXT is: a bundle directory; a run directory (its bundle/); or a LATEST
// pointer (the run it names, beside it). Locally or on S3.
Location resolve_bundle_location(const std::string& text);

// Loads and verifies the bundle at LOCATION (see resolve_bundle_location; remote bundles are
// downloaded to a temporary directory first): refuses a missing or altered file, a checksum
// mismatch, or a newer format version, with a model error saying which.
LoadedBundle load_bundle(const std::string& location);

// Throws a model error when NAMES differ from the bundle's feature contract, naming the first
// difference.
void check_feature_contract(const BundleInfo& info, const std::vector<std::string>& names);

}  // namespace cltv::storage
