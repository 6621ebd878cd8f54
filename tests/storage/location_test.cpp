// Locations: parsing, path arithmetic, each s3:// location's own settings (two stores in one
// process), local fetch/store/text, directory publishing, output staging, and resolving a bundle
// from a LATEST pointer or a run directory.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cltv/error.h"
#include "cltv/storage/bundle.h"
#include "cltv/storage/location.h"
#include "support/s3_server.h"
#include "support/test_support.h"

namespace cltv::storage {
namespace {

namespace fs = std::filesystem;

// Where the bundle TEXT names is (resolve_bundle_location).
Location bundle_at(const std::string& text) { return resolve_bundle_location(parse_location(text, {})); }

TEST(Location, ParsesPathsFileUrisAndS3Uris) {
  const Location local = parse_location("data/tx.csv", {});
  EXPECT_FALSE(local.is_remote());
  EXPECT_EQ(local.path, "data/tx.csv");

  const Location file = parse_location("file:///tmp/tx.csv", {});
  EXPECT_FALSE(file.is_remote());
  EXPECT_EQ(file.path, "/tmp/tx.csv");

  const Location s3 = parse_location("s3://bucket/exports/2019/tx.csv.gz", {});
  EXPECT_TRUE(s3.is_remote());
  EXPECT_EQ(s3.bucket, "bucket");
  EXPECT_EQ(s3.key, "exports/2019/tx.csv.gz");
  EXPECT_EQ(s3.text(), "s3://bucket/exports/2019/tx.csv.gz");
  EXPECT_EQ(parse_location("s3://bucket", {}).key, "");
}

TEST(Location, RejectsWhatItCannotReach) {
  std::string message;
  EXPECT_EQ(test::error_kind_of([] { parse_location("gs://bucket/key", {}); }, &message), ErrorKind::config);
  EXPECT_NE(message.find("unsupported location scheme 'gs'"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([] { parse_location("s3:///key", {}); }, &message), ErrorKind::config);
  EXPECT_NE(message.find("no bucket"), std::string::npos) << message;
  EXPECT_EQ(test::error_kind_of([] { parse_location("file://relative/path", {}); }), ErrorKind::config);
  EXPECT_EQ(test::error_kind_of([] { parse_location("", {}); }), ErrorKind::config);
}

TEST(Location, ChildParentAndName) {
  const Location models = parse_location("s3://b/cltv/models/", {});
  EXPECT_EQ(models.child("LATEST").text(), "s3://b/cltv/models/LATEST");
  EXPECT_EQ(parse_location("s3://b", {}).child("models/LATEST").text(), "s3://b/models/LATEST");
  const Location latest = parse_location("s3://b/cltv/models/LATEST", {});
  EXPECT_EQ(latest.name(), "LATEST");
  EXPECT_EQ(latest.parent().text(), "s3://b/cltv/models");
  EXPECT_EQ(latest.parent().child("20191001T000000Z").child("bundle").text(), "s3://b/cltv/models/20191001T000000Z/bundle");
  EXPECT_EQ(parse_location("s3://b/top", {}).parent().key, "");

  const Location local = parse_location("work/models/LATEST", {});
  EXPECT_EQ(local.name(), "LATEST");
  EXPECT_EQ(local.parent().path, "work/models");
  EXPECT_EQ(parse_location("LATEST", {}).parent().path, ".");
  EXPECT_EQ(local.parent().child("run").path, "work/models/run");
}

TEST(Location, EachS3LocationKeepsTheSettingsItWasParsedWith) {
  S3Options first, second;
  first.endpoint = "http://127.0.0.1:4568";
  second.endpoint = "http://127.0.0.1:4569";
  const Location a = parse_location("s3://b/models/LATEST", first);
  const Location b = parse_location("s3://b/models/LATEST", second);
  first.endpoint = "http://changed";  // a location keeps its own copy
  ASSERT_NE(a.s3, nullptr);
  ASSERT_NE(b.s3, nullptr);
  EXPECT_EQ(a.s3->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(b.s3->endpoint, "http://127.0.0.1:4569");
  EXPECT_EQ(a.parent().child("run-7").s3->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(parse_location("work/models/LATEST", first).s3, nullptr);  // local paths have none
}

// Two S3 stores in one process: the same s3:// text parsed with each store's endpoint writes to and
// reads from that store only.
TEST(Location, LocationsOfTwoStoresInOneProcessEachReachTheirOwn) {
  CLTV_S3_ENDPOINT(shared);
  CLTV_PRIVATE_S3_SERVER(server);
  const test::ScopedEnv credentials = test::s3rver_credentials();
  S3Options first, second;
  first.endpoint = shared;
  second.endpoint = server.endpoint();
  const std::string text = fmt::format("s3://{}/two-stores-{}/LATEST", test::kTestBucket, ::getpid());
  const Location a = parse_location(text, first);
  const Location b = parse_location(text, second);
  write_text(a, "run-a\n");
  write_text(b, "run-b\n");
  EXPECT_EQ(read_text(a), "run-a\n");
  EXPECT_EQ(read_text(b), "run-b\n");
}

TEST(Location, LocalFetchStoreAndText) {
  const test::TempDir dir;
  const std::string source = dir.write("source.csv", "a,b\n1,2\n");
  const LocalCopy copy = fetch(parse_location(source, {}));
  EXPECT_EQ(copy.path(), source);  // local files are used in place

  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { fetch(parse_location(dir.path("missing.csv"), {})); }, &message), ErrorKind::io);
  EXPECT_NE(message.find("missing.csv"), std::string::npos);

  // Storing creates the parent folders and copies byte for byte.
  const Location target = parse_location(dir.path("deep/er/copy.csv"), {});
  int64_t last_done = 0, last_total = 0;
  store(source, target, [&](int64_t done, int64_t total) {
    last_done = done;
    last_total = total;
  });
  EXPECT_EQ(test::read_file(target.path), "a,b\n1,2\n");
  EXPECT_EQ(last_done, 8);
  EXPECT_EQ(last_total, 8);

  const Location pointer = parse_location("file://" + dir.path("models/LATEST"), {});
  EXPECT_FALSE(exists(pointer));
  write_text(pointer, "run-1\n");
  EXPECT_TRUE(exists(pointer));
  EXPECT_EQ(read_text(pointer), "run-1\n");
}

TEST(Location, StoreDirectoryCopiesEveryFileWithTheLastFileLast) {
  const test::TempDir dir;
  dir.write("run/manifest.json", "{}");
  dir.write("run/a.csv", "aaaa");
  dir.write("run/plots/b.svg", "<svg/>");
  std::vector<int64_t> progress;
  store_directory(dir.path("run"), parse_location(dir.path("published"), {}), "manifest.json",
                  [&](int64_t done, int64_t) { progress.push_back(done); });
  EXPECT_EQ(test::read_file(dir.path("published/a.csv")), "aaaa");
  EXPECT_EQ(test::read_file(dir.path("published/plots/b.svg")), "<svg/>");
  EXPECT_EQ(test::read_file(dir.path("published/manifest.json")), "{}");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 12);  // 4 + 6 + 2 bytes
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
}

TEST(Location, OutputStagingIsThePathItselfLocally) {
  const OutputStaging local(parse_location("out/predictions.csv", {}));
  EXPECT_EQ(local.path(), "out/predictions.csv");
  const OutputStaging remote(parse_location("s3://b/out/predictions.csv", {}));
  EXPECT_NE(remote.path().find("predictions.csv"), std::string::npos);  // keeps the name (and .gz)
  EXPECT_NE(remote.path(), "s3://b/out/predictions.csv");
  EXPECT_TRUE(fs::is_directory(fs::path(remote.path()).parent_path()));
}

TEST(BundleLocation, FollowsLatestAndRunDirectories) {
  const test::TempDir dir;
  dir.write("models/run-7/bundle/manifest.json", "{}");
  dir.write("models/LATEST", "run-7\n");
  EXPECT_EQ(bundle_at(dir.path("models/LATEST")).path, dir.path("models/run-7/bundle"));
  EXPECT_EQ(bundle_at(dir.path("models/run-7")).path, dir.path("models/run-7/bundle"));
  EXPECT_EQ(bundle_at(dir.path("models/run-7/bundle")).path, dir.path("models/run-7/bundle"));

  const std::string long_name(65, 'a');
  for (const std::string& bad : std::vector<std::string>{"", "\n", "../elsewhere\n", "a/b\n", "run-7\nrun-8\n", ".hidden\n",
                                "run-7.incomplete\n", "run 7\n", long_name + "\n", "secret-\x01\n"}) {
    dir.write("models/LATEST", bad);
    std::string message;
    EXPECT_EQ(test::error_kind_of([&] { bundle_at(dir.path("models/LATEST")); }, &message),
              ErrorKind::model)
        << bad;
    EXPECT_NE(message.find("does not hold a valid run name (content not shown)"), std::string::npos) << message;
  }
}

// A LATEST replaced by a link to another file (a credentials file, say) or by a large file is
// refused without showing a byte of it.
TEST(BundleLocation, LatestPointerThatIsALinkOrLargeIsRefusedWithoutItsContent) {
  const test::TempDir dir;
  dir.write("models/run-7/bundle/manifest.json", "{}");
  const std::string secret = dir.write("credentials", "aws_secret_access_key = SECRET123\n");
  std::filesystem::create_symlink(secret, dir.path("models/LATEST"));
  std::string message;
  EXPECT_EQ(test::error_kind_of([&] { bundle_at(dir.path("models/LATEST")); }, &message),
            ErrorKind::model);
  EXPECT_EQ(message.find("SECRET123"), std::string::npos) << message;
  EXPECT_NE(message.find("is not a LATEST pointer"), std::string::npos) << message;

  std::filesystem::remove(dir.path("models/LATEST"));
  dir.write("models/LATEST", "run-7\n" + std::string(200, '#') + "SECRET123");
  EXPECT_EQ(test::error_kind_of([&] { bundle_at(dir.path("models/LATEST")); }, &message),
            ErrorKind::model);
  EXPECT_EQ(message.find("SECRET123"), std::string::npos) << message;
}

TEST(BundleLocation, IncompleteRunsAreRefused) {
  const test::TempDir dir;
  dir.write("runs/20191001T000000Z.incomplete/bundle/manifest.json", "{}");
  for (const char* path : {"runs/20191001T000000Z.incomplete", "runs/20191001T000000Z.incomplete/bundle",
                           "runs/20191001T000000Z.incomplete/bundle/"}) {
    std::string message;
    EXPECT_EQ(test::error_kind_of([&] { bundle_at(dir.path(path)); }, &message), ErrorKind::model)
        << path;
    EXPECT_NE(message.find("is an incomplete run"), std::string::npos) << message;
  }
  EXPECT_EQ(test::error_kind_of([&] { bundle_at("s3://bucket/runs/x.incomplete/bundle"); }),
            ErrorKind::model);
}

}  // namespace
}  // namespace cltv::storage
