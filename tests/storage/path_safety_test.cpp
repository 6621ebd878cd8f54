// What keeps a user's files safe: no output is an input or another output, bundles replace only
// bundles, non-regular files and keyless s3:// locations are refused before they are opened, and
// endpoint URLs never show their user information.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cltv/error.h"
#include "cltv/io/atomic_file.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/location.h"
#include "support/test_support.h"

namespace cltv::storage {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<ParamSet::NamedPath>;

// check_bundle_destination of the location TEXT.
void check_destination(const std::string& text) { check_bundle_destination(parse_location(text, {})); }

std::string distinct_paths_error(const Paths& paths) {
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { check_distinct_paths(paths); }, &message), ErrorKind::config);
  return message;
}

TEST(DistinctPaths, AnOutputThatIsAnInputOrAnotherOutputIsRefusedNamingBothFlags) {
  const test::TempDir dir;
  const std::string input = dir.write("tx.csv", "data\n");
  const std::string message = distinct_paths_error({{"--input", input, PathRole::input}, {"--out", input, PathRole::output}});
  EXPECT_NE(message.find("--input and --out name the same file"), std::string::npos) << message;
  // Two outputs, neither existing yet.
  EXPECT_NE(distinct_paths_error({{"--out", dir.path("g.csv"), PathRole::output},
                                  {"--truth", dir.path("./g.csv"), PathRole::output}})
                .find("--out and --truth"),
            std::string::npos);
}

TEST(DistinctPaths, LinksFileUrisAndRelativeSpellingsAreTheSameFile) {
  const test::TempDir dir;
  const std::string input = dir.write("data/tx.csv", "data\n");
  fs::create_symlink(input, dir.path("link.csv"));
  fs::create_hard_link(input, dir.path("hard.csv"));
  fs::create_directory_symlink(dir.path("data"), dir.path("data-link"));
  for (const std::string& same : {dir.path("link.csv"), dir.path("hard.csv"), "file://" + input,
                                  dir.path("data/../data/tx.csv"), dir.path("data-link/tx.csv")}) {
    EXPECT_FALSE(distinct_paths_error({{"--input", input, PathRole::input}, {"--out", same, PathRole::output}}).empty())
        << same;
  }
  // An output not yet written, reached through a linked folder.
  EXPECT_FALSE(distinct_paths_error({{"--out", dir.path("data/new.csv"), PathRole::output},
                                     {"--segments", dir.path("data-link/new.csv"), PathRole::output}})
                   .empty());
  EXPECT_FALSE(distinct_paths_error({{"--input", "s3://b/k.csv", PathRole::input},
                                     {"--out", "s3://b/k.csv", PathRole::output}})
                   .empty());
}

TEST(DistinctPaths, DifferentFilesAndTwoReadsOfOneFileAreFine) {
  const test::TempDir dir;
  const std::string input = dir.write("tx.csv", "data\n");
  EXPECT_NO_THROW(check_distinct_paths({{"--input", input, PathRole::input},
                                        {"--out", dir.path("out.csv"), PathRole::output},
                                        {"--segments", dir.path("out.segments.json"), PathRole::output},
                                        {"--rfm", input, PathRole::input},
                                        {"--s3", "s3://b/tx.csv", PathRole::output}}));
}

TEST(RegularFiles, FifosDirectoriesAndDevicesAreRefusedBeforeOpening) {
  const test::TempDir dir;
  const std::string fifo = dir.path("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opening a FIFO with no writer would block forever: each of these must return at once.
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { io::require_regular_file(fifo, fifo); }, &message), ErrorKind::input);
  EXPECT_NE(message.find("FIFO"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location(fifo, {})); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { io::read_whole_file(fifo); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location(dir.path(""), {})); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location("/dev/null", {})); }), ErrorKind::input);
  EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location(dir.path("missing.csv"), {})); }), ErrorKind::io);
}

TEST(S3Locations, ALocationWithoutAKeyIsNotAFile) {
  for (const char* text : {"s3://bucket", "s3://bucket/", "s3://bucket/exports/"}) {
    std::string message;
    EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location(text, {})); }, &message), ErrorKind::config) << text;
    EXPECT_NE(message.find("names a bucket or a folder, not a file"), std::string::npos) << message;
    EXPECT_EQ(test::error_kind_of([&] { read_text(parse_location(text, {})); }), ErrorKind::config);
    EXPECT_EQ(test::error_kind_of([&] { write_text(parse_location(text, {}), "x"); }), ErrorKind::config);
  }
  EXPECT_EQ(parse_location("s3://bucket", {}).text(), "s3://bucket");
}

TEST(EndpointUrls, UserInformationIsMasked) {
  EXPECT_EQ(mask_url_userinfo("http://user:password@127.0.0.1:4568"), "http://***@127.0.0.1:4568");
  EXPECT_EQ(mask_url_userinfo("https://key@host/path@x"), "https://***@host/path@x");
  EXPECT_EQ(mask_url_userinfo("http://127.0.0.1:4568/a@b"), "http://127.0.0.1:4568/a@b");
  EXPECT_EQ(mask_url_userinfo("http://host"), "http://host");
}

TEST(BundleDestination, OnlyANewOrEmptyDirectoryOrACltvBundleMayBeReplaced) {
  const test::TempDir dir;
  EXPECT_NO_THROW(check_destination(dir.path("new")));
  fs::create_directory(dir.path("empty"));
  EXPECT_NO_THROW(check_destination(dir.path("empty")));

  dir.write("thesis/thesis.txt", "precious\n");
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { check_destination(dir.path("thesis/")); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("not a cltv model bundle (it holds 'thesis.txt')"), std::string::npos) << message;
  EXPECT_EQ(test::read_file(dir.path("thesis/thesis.txt")), "precious\n");

  // A bundle: its manifest lists every other file. One more file makes it not ours to replace.
  dir.write("bundle/model.json", "{}");
  dir.write("bundle/manifest.json",
            R"({"format_version": 1, "model_kind": "linear", "files": {"model.json": {"sha256": "", "bytes": 2}}})");
  EXPECT_NO_THROW(check_destination(dir.path("bundle")));
  dir.write("bundle/notes.txt", "mine\n");
  EXPECT_EQ(test::error_kind_of([&] { check_destination(dir.path("bundle")); }), ErrorKind::io);
  // A manifest.json of something else.
  dir.write("other/manifest.json", R"({"name": "my-app"})");
  EXPECT_EQ(test::error_kind_of([&] { check_destination(dir.path("other")); }), ErrorKind::io);

  const fs::path previous = fs::current_path();
  fs::current_path(dir.path("empty"));
  EXPECT_EQ(test::error_kind_of([&] { check_destination("."); }, &message), ErrorKind::config);
  EXPECT_NE(message.find("current directory"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([&] { check_destination(".."); }), ErrorKind::config);
  fs::current_path(previous);
}

}  // namespace
}  // namespace cltv::storage
