#include "web/static_site.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "web/web_root.hpp"

namespace valise::server::web {
namespace {

using kind = target::kind;

TEST(StaticSite, PagesAndRedirect) {
  auto root = resolve("/");
  EXPECT_EQ(root.what, kind::redirect);
  EXPECT_EQ(root.location, "/console");
  for (auto path :
       {"/console", "/console/", "/console/tickets/T-1", "/console/a/b/c", "//console"}) {
    auto t = resolve(path);
    EXPECT_EQ(t.what, kind::page) << path;
    EXPECT_EQ(t.file, "console.html") << path;
  }
  auto drop = resolve("/drop");
  EXPECT_EQ(drop.what, kind::page);
  EXPECT_EQ(drop.file, "drop.html");
  EXPECT_EQ(resolve("/drop/x").what, kind::not_found);
  EXPECT_EQ(resolve("/consoles").what, kind::not_found);
  EXPECT_EQ(resolve("/drop.html").what, kind::not_found);
  EXPECT_EQ(resolve("/console.html").what, kind::not_found);
}

TEST(StaticSite, AssetsDirectlyUnderAssets) {
  auto t = resolve("/assets/drop-3FA2B1C0.js");
  EXPECT_EQ(t.what, kind::asset);
  EXPECT_EQ(t.file, "assets/drop-3FA2B1C0.js");
  // Percent-encoded letters are the same name.
  EXPECT_EQ(resolve("/assets/drop%2D1.js").file, "assets/drop-1.js");
  EXPECT_EQ(resolve("/assets").what, kind::not_found);
  EXPECT_EQ(resolve("/assets/").what, kind::not_found);
  EXPECT_EQ(resolve("/assets/a/b.js").what, kind::not_found);
}

TEST(StaticSite, TraversalAndOddNamesAreRefused) {
  for (auto path : {"/assets/..",
                    "/assets/.",
                    "/assets/%2e%2e",
                    "/assets/%2E%2E",
                    "/assets/.%2e",
                    "/assets/..%2fserver.toml",
                    "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                    "/assets/a%2fb.js",
                    "/assets/a%5cb.js",
                    "/assets/%00.js",
                    "/assets/a%00.js",
                    "/assets/.hidden",
                    "/assets/a b.js",
                    "/assets/a%20b.js",
                    "/assets/%zz",
                    "/assets/%",
                    "/assets/a:b",
                    "/../server.toml",
                    "/assets/../server.toml",
                    "/assets/..%2F..%2Fserver.toml"}) {
    EXPECT_EQ(resolve(path).what, kind::not_found) << path;
  }
  EXPECT_FALSE(valid_asset_name(std::string(129, 'a')));
  EXPECT_TRUE(valid_asset_name(std::string(128, 'a')));
  EXPECT_TRUE(valid_asset_name("zstd-ABC123.wasm"));
  EXPECT_FALSE(valid_asset_name(""));
  EXPECT_FALSE(valid_asset_name("é.js"));
}

TEST(StaticSite, ContentTypes) {
  EXPECT_EQ(content_type("console.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type("assets/a-1.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type("assets/a-1.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type("assets/zstd-1.wasm"), "application/wasm");
  EXPECT_EQ(content_type("assets/logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type("assets/shot.png"), "image/png");
  EXPECT_EQ(content_type("assets/fr.json"), "application/json");
  EXPECT_EQ(content_type("assets/a-1.js.map"), "application/json");
  EXPECT_EQ(content_type("assets/README"), "application/octet-stream");
  EXPECT_EQ(content_type("assets/.js"), "application/octet-stream");
  EXPECT_EQ(content_type("assets/a.exe"), "application/octet-stream");
}

TEST(StaticSite, PageHeaders) {
  auto res = file_response(resolve("/console"), "<!doctype html>");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res["Content-Security-Policy"], content_security_policy);
  EXPECT_EQ(res[http::field::x_frame_options], "DENY");
  EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[http::field::content_length], "15");
  // The policy the brief fixes, word for word.
  EXPECT_NE(content_security_policy.find("script-src 'self' 'wasm-unsafe-eval';"),
            std::string_view::npos);
  EXPECT_EQ(content_security_policy.find("unsafe-inline"), std::string_view::npos);
  EXPECT_NE(content_security_policy.find("frame-ancestors 'none'"), std::string_view::npos);
}

TEST(StaticSite, AssetHeaders) {
  auto res = file_response(resolve("/assets/zstd-1.wasm"), "\0asm");
  EXPECT_EQ(res[http::field::cache_control], "public, max-age=31536000, immutable");
  EXPECT_EQ(res[http::field::content_type], "application/wasm");
  EXPECT_EQ(res.find("Content-Security-Policy"), res.end());
  EXPECT_EQ(res.find(http::field::x_frame_options), res.end());
}

TEST(StaticSite, SecurityHeadersOnAnyResponse) {
  response res{http::status::not_found, 11};
  add_security_headers(res);
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
}

TEST(StaticSite, NotInstalledSaysWhereItLooked) {
  auto res = not_installed("/usr/share/valise/web or /opt/web");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_NE(res.body().find("not installed"), std::string::npos);
  EXPECT_NE(res.body().find("/usr/share/valise/web or /opt/web"), std::string::npos);
}

class WebRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("valise-web-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "web" / "assets");
    write(dir_ / "web" / "console.html", "console");
    write(dir_ / "web" / "assets" / "a-1.js", "js");
    write(dir_ / "secret.txt", "secret");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void write(const std::filesystem::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(WebRootTest, ReadsPagesAndAssets) {
  auto root = web_root::locate(dir_ / "web", {});
  ASSERT_TRUE(root.installed());
  EXPECT_EQ(root.read("console.html"), "console");
  EXPECT_EQ(root.read("assets/a-1.js"), "js");
  EXPECT_EQ(root.read("drop.html"), std::nullopt);
  EXPECT_EQ(root.read("assets"), std::nullopt);  // a directory
  EXPECT_EQ(root.read("../secret.txt"), std::nullopt);
  EXPECT_EQ(root.read("assets/../../secret.txt"), std::nullopt);
}

TEST_F(WebRootTest, SymbolicLinksAreNotFollowed) {
  std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "web" / "assets" / "link.js");
  std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "web" / "drop.html");
  std::filesystem::create_directories(dir_ / "elsewhere");
  write(dir_ / "elsewhere" / "x.js", "outside");
  std::filesystem::rename(dir_ / "web" / "assets", dir_ / "real-assets");
  std::filesystem::create_symlink(dir_ / "elsewhere", dir_ / "web" / "assets");
  auto root = web_root::locate(dir_ / "web", {});
  EXPECT_EQ(root.read("assets/x.js"), std::nullopt);
  EXPECT_EQ(root.read("drop.html"), std::nullopt);
  std::filesystem::remove(dir_ / "web" / "assets");
  std::filesystem::rename(dir_ / "real-assets", dir_ / "web" / "assets");
  EXPECT_EQ(root.read("assets/link.js"), std::nullopt);
  EXPECT_EQ(root.read("assets/a-1.js"), "js");
}

TEST_F(WebRootTest, DefaultSearchBesideTheExecutable) {
  // build/ci/server/valise-server → build/ci/web
  std::filesystem::create_directories(dir_ / "server");
  auto root = web_root::locate({}, dir_ / "server");
  ASSERT_TRUE(root.installed());
  EXPECT_EQ(root.dir(), (dir_ / "web").lexically_normal());
  // Installed: /usr/bin → /usr/share/valise/web first.
  std::filesystem::create_directories(dir_ / "share" / "valise" / "web");
  EXPECT_EQ(web_root::locate({}, dir_ / "server").dir(),
            (dir_ / "share" / "valise" / "web").lexically_normal());
}

TEST_F(WebRootTest, MissingRootSaysWhereItLooked) {
  auto root = web_root::locate(dir_ / "nowhere", {});
  EXPECT_FALSE(root.installed());
  EXPECT_EQ(root.looked_in(), (dir_ / "nowhere").string());
  EXPECT_EQ(root.read("console.html"), std::nullopt);
  auto searched = web_root::locate({}, dir_ / "bin-without-web" / "bin");
  EXPECT_FALSE(searched.installed());
  EXPECT_NE(searched.looked_in().find(" or "), std::string::npos);
}

TEST_F(WebRootTest, OversizeFilesAreRefused) {
  {
    std::ofstream big(dir_ / "web" / "assets" / "big.js", std::ios::binary);
    big.seekp(static_cast<std::streamoff>(web_root::max_file_bytes));
    big.put('x');
  }
  auto root = web_root::locate(dir_ / "web", {});
  EXPECT_EQ(root.read("assets/big.js"), std::nullopt);
}

}  // namespace
}  // namespace valise::server::web
