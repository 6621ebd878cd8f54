// An output file written atomically: plain through cltv::io::AtomicFile, or gzip (when the path
// ends with .gz) through zlib into a temporary file beside the target that is renamed on commit.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cltv::generate {

class OutputSink {
 public:
  explicit OutputSink(std::string path);
  ~OutputSink();  // without commit(), the target is left untouched and the temporary file removed
  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cltv::generate
