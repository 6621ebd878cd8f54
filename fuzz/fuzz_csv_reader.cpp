// libFuzzer target for the transaction reader: any bytes, under each built-in schema, must either
// parse with every row accounted for or fail with a cltv::Error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cltv/error.h"
#include "cltv/io/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cltv::io::Schema schemas[] = {cltv::io::resolve_schema("lpoint"),
                                             cltv::io::resolve_schema("online-retail"),
                                             cltv::io::resolve_schema("cdnow")};
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const auto& schema : schemas) {
    cltv::io::ReadOptions options;
    options.on_bad_row.policy = cltv::io::BadRowPolicy::skip;
    options.threads = 1;
    try {
      const auto result = cltv::io::parse_transactions(bytes, "fuzz", schema, options);
      const auto& r = result.report;
      if (r.accepted + r.rejected + r.dropped != r.rows_read || result.table.rows() != r.accepted) std::abort();
      for (size_t i = 0; i < result.table.rows(); ++i) {
        if (result.table.customer[i] >= result.table.customer_ids.size() ||
            result.table.basket[i] >= result.table.basket_ids.size() ||
            result.table.product[i] >= result.table.products.size() ||
            result.table.unit[i] >= result.table.units.size()) {
          std::abort();
        }
      }
    } catch (const cltv::Error&) {
      // A clear error is an acceptable outcome for arbitrary bytes.
    }
  }
  return 0;
}
