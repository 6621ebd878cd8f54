// The JSON API of `cltv serve` as plain functions from a loaded run and a request's parts to a
// response, with no network in sight: the HTTP layer (serve/server.h) only routes and translates.
// docs/serve.md documents every route and field.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cltv/serve/served_run.h"

namespace cltv::serve {

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

using QueryParams = std::map<std::string, std::string, std::less<>>;

// {"error": {"status": STATUS, "message": MESSAGE, "hint": HINT}} (no hint when empty).
ApiResponse error_response(int status, std::string_view message, std::string_view hint = {});

// GET /v1/run
ApiResponse run_response(const ServedRun& run);
// GET /v1/customers/{id}: 404 for an unknown customer.
ApiResponse customer_response(const ServedRun& run, std::string_view id);
// GET /v1/segments?sort=&level=&q=&offset=&limit=: 400 naming a bad parameter.
ApiResponse segments_response(const ServedRun& run, const QueryParams& query);
// GET /v1/charts
ApiResponse charts_response(const ServedRun& run);

// POST /v1/score: BODY is CSV in SCHEMA (with its header) or, when CONTENT_TYPE is
// application/x-ndjson, one JSON object per line keyed by the schema's column names. Scored by the
// run's model as `cltv predict` scores a file, at AS_OF (default: after the data's last complete
// month). Throws cltv::Error (input, config, model) for the HTTP layer to translate.
ApiResponse score_response(const ServedRun& run, std::string_view body, std::string_view content_type,
                           const QueryParams& query);

}  // namespace cltv::serve
