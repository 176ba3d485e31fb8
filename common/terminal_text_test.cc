#include "common/terminal_text.h"

#include <string>

#include "gtest/gtest.h"

namespace renkei {
namespace {

TEST(EscapeForTerminal, KeepsPrintableAsciiAndJapaneseReadable) {
  EXPECT_EQ(EscapeForTerminal("JP/MUNI/131016/resident-registry"),
            "JP/MUNI/131016/resident-registry");
  EXPECT_EQ(EscapeForTerminal("児童手当の認定 user=齋藤 一郎"), "児童手当の認定 user=齋藤 一郎");
  EXPECT_EQ(EscapeForTerminal("Ærø 😀 ~!@#$%^&*()"), "Ærø 😀 ~!@#$%^&*()");
  EXPECT_EQ(EscapeForTerminal(""), "");
}

TEST(EscapeForTerminal, SpellsOutEscapeSequencesThatWouldDriveTheTerminal) {
  EXPECT_EQ(EscapeForTerminal("\x1b[2J\x1b]0;title\x07"), "\\x1b[2J\\x1b]0;title\\x07");
  EXPECT_EQ(EscapeForTerminal("a\x7f" "b"), "a\\x7fb");
}

TEST(EscapeForTerminal, SpellsOutLineBreaksSoNoRecordCanForgeAnotherLine) {
  EXPECT_EQ(EscapeForTerminal("benefit\n✓ 2024-01-01 forged\r\t"),
            "benefit\\x0a✓ 2024-01-01 forged\\x0d\\x09");
  EXPECT_EQ(EscapeForTerminal(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForTerminal("a\u2028b\u2029c"), "a\\u{2028}b\\u{2029}c");
}

TEST(EscapeForTerminal, SpellsOutC1Controls) {
  // U+009B is CSI on its own: some terminals act on it like ESC [.
  EXPECT_EQ(EscapeForTerminal("\xc2\x9b" "2J"), "\\u{009B}2J");
  EXPECT_EQ(EscapeForTerminal("\xc2\x80\xc2\x9f\xc2\xa0"), "\\u{0080}\\u{009F}\xc2\xa0");
}

TEST(EscapeForTerminal, SpellsOutBidiControlsThatReorderWhatIsShown) {
  EXPECT_EQ(EscapeForTerminal("JP/GOV/\u202eWLHM"), "JP/GOV/\\u{202E}WLHM");
  for (char32_t c : {0x202A, 0x202B, 0x202C, 0x202D, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E,
                     0x200F, 0x061C}) {
    std::string encoded = c < 0x800 ? std::string{static_cast<char>(0xC0 | (c >> 6)),
                                                  static_cast<char>(0x80 | (c & 0x3F))}
                                     : std::string{static_cast<char>(0xE0 | (c >> 12)),
                                                   static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                                                   static_cast<char>(0x80 | (c & 0x3F))};
    char expected[16];
    snprintf(expected, sizeof(expected), "\\u{%04X}", static_cast<unsigned>(c));
    EXPECT_EQ(EscapeForTerminal(encoded), expected);
  }
}

TEST(EscapeForTerminal, SpellsOutInvisibleCharacters) {
  EXPECT_EQ(EscapeForTerminal("ad\u200bmin"), "ad\\u{200B}min");
  EXPECT_EQ(EscapeForTerminal("\ufeffx"), "\\u{FEFF}x");
  EXPECT_EQ(EscapeForTerminal("\U000E0041"), "\\u{E0041}");
}

TEST(EscapeForTerminal, SpellsOutEachByteOfInvalidUtf8) {
  EXPECT_EQ(EscapeForTerminal("\xff" "a"), "\\xffa");
  EXPECT_EQ(EscapeForTerminal("\x80"), "\\x80");                   // stray continuation
  EXPECT_EQ(EscapeForTerminal("\xe9\xbd" "a"), "\\xe9\\xbda");     // 齋 cut short
  EXPECT_EQ(EscapeForTerminal("\xc0\xaf"), "\\xc0\\xaf");          // overlong '/'
  EXPECT_EQ(EscapeForTerminal("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");  // overlong '/'
  EXPECT_EQ(EscapeForTerminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate U+D800
  EXPECT_EQ(EscapeForTerminal("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
  EXPECT_EQ(EscapeForTerminal("\xf4\x8f\xbf\xbd"), "\xf4\x8f\xbf\xbd");      // U+10FFFD is fine
}

TEST(EscapeForTerminal, EscapesBackslashSoTheOutputIsUnambiguous) {
  // A sender who types the four characters \x1b must not look like one who sent ESC.
  EXPECT_EQ(EscapeForTerminal("\\x1b"), "\\\\x1b");
  EXPECT_NE(EscapeForTerminal("\\x1b"), EscapeForTerminal("\x1b"));
}

}  // namespace
}  // namespace renkei
