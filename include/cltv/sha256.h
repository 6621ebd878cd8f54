// SHA-256 digests (OpenSSL) as lowercase hex, for input fingerprints and model-file checksums.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace cltv {

// An incremental digest, for bytes that arrive in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string hex();  // of everything given so far; call once

 private:
  struct Free {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> context_;
};

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws io error naming the path when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace cltv
