// Image decoding: PNG through stb_image (against pixels written by stb_image_write), PGM/PPM here.
#include <gtest/gtest.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include "suite_files.hpp"
#include "tenx/suites/image.hpp"
#include "tenx/util/error.hpp"

namespace {

using namespace tenx::suites;
using tenx::suites::testing::TempSuite;

TEST(Image, PngRgbAndGrey) {
  TempSuite s;
  const unsigned char rgb[2 * 3 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  ASSERT_TRUE(stbi_write_png(s.file("rgb.png").c_str(), 3, 2, 3, rgb, 9));
  Image im = decode_image_file(s.dir() / "rgb.png");
  EXPECT_EQ(im.h, 2);
  EXPECT_EQ(im.w, 3);
  EXPECT_EQ(im.c, 3);
  EXPECT_EQ(im.at(0, 1, 1), 255);
  EXPECT_EQ(im.at(1, 2, 2), 9);
  const unsigned char grey[4] = {0, 64, 128, 255};
  ASSERT_TRUE(stbi_write_png(s.file("g.png").c_str(), 2, 2, 1, grey, 2));
  Image g = decode_image_file(s.dir() / "g.png");
  EXPECT_EQ(g.c, 1);
  EXPECT_EQ(g.at(1, 0), 128);
}

TEST(Image, PnmKeepsMaxValue) {
  TempSuite s;
  Image im{2, 2, 1, 16, {0, 5, 10, 16}, ""};
  s.write("d.pgm", encode_pnm(im));
  Image back = decode_image_file(s.dir() / "d.pgm");
  EXPECT_EQ(back.max, 16);
  EXPECT_EQ(back.pixels, im.pixels);
  s.write("p.pgm", "P2\n2 1\n16\n3 17\n");
  EXPECT_THROW(decode_image_file(s.dir() / "p.pgm"), tenx::Error);  // above maxval
}

TEST(Image, BadFilesThrowNamedErrors) {
  TempSuite s;
  s.write("x.png", "\x89PNG\r\n\x1a\n garbage");
  try {
    decode_image_file(s.dir() / "x.png");
    FAIL();
  } catch (const tenx::Error& e) {
    EXPECT_EQ(e.subject(), s.file("x.png"));
  }
  s.write("y.bin", "hello");
  EXPECT_THROW(decode_image_file(s.dir() / "y.bin"), tenx::Error);
  EXPECT_THROW(decode_image_file(s.dir() / "missing.png"), tenx::Error);
}

TEST(Image, ProblemsOfInlineImages) {
  EXPECT_EQ(image_problem(Image{2, 2, 1, 255, {1, 2, 3, 4}, ""}), "");
  EXPECT_NE(image_problem(Image{2, 2, 2, 255, {1, 2, 3, 4}, ""}).find("c must be 1 or 3"), std::string::npos);
  EXPECT_NE(image_problem(Image{2, 2, 1, 16, {1, 2, 3, 40}, ""}).find("above max"), std::string::npos);
}

}  // namespace
