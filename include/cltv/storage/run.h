// Published runs (the directories `cltv run` writes under runs/ and publishes under models/): where
// one is, and bringing one local with every file verified against its manifest.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cltv/storage/location.h"

namespace cltv::storage {

// A model error when LOCATION is inside an incomplete run ("<run>.incomplete").
void refuse_incomplete_run(const Location& location);

// The run LOCATION names: a run directory, or a LATEST pointer (the run it names, beside it); local
// or S3. An incomplete run is refused.
Location resolve_run_location(Location location);

// A run brought local and verified.
struct LocalRun {
  std::string name;      // the manifest's run name
  std::string location;  // where it was loaded from
  std::string dir;       // local directory with its files
  nlohmann::ordered_json manifest;
  std::shared_ptr<TemporaryDirectory> download;  // a remote run's copy, removed with the last user
};

// Loads the run at LOCATION (remote runs are downloaded, manifest first) and verifies its manifest
// checksum and every file it lists; a missing or altered file, or a manifest that is not a run's, is
// a model error saying which.
LocalRun load_run(const Location& location);

}  // namespace cltv::storage
