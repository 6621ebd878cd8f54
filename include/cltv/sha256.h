// SHA-256 digests (OpenSSL) as lowercase hex, for input fingerprints and model-file checksums.
#pragma once

#include <string>
#include <string_view>

namespace cltv {

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws io error naming the path when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace cltv
