#include "common/utf8.h"

#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"

namespace switchboard {
namespace {

// The bytes as a string, NULs included.
std::string Bytes(std::initializer_list<uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::string Hex(absl::string_view text) { return absl::BytesToHexString(text); }

// Well-formed UTF-8 by the Unicode Standard's table 3-7 (one row per lead
// byte range, the second byte's range depending on the lead), written
// independently of the code under test.
bool ReferenceIsValidUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
    const uint8_t lead = b(0);
    int length;
    uint8_t low = 0x80;
    uint8_t high = 0xBF;
    if (lead <= 0x7F) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      low = 0xA0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      length = 3;
    } else if (lead == 0xED) {
      length = 3;
      high = 0x9F;
    } else if (lead == 0xF0) {
      length = 4;
      low = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      length = 4;
    } else if (lead == 0xF4) {
      length = 4;
      high = 0x8F;
    } else {
      return false;
    }
    if (text.size() - i < static_cast<size_t>(length)) return false;
    if (length > 1 && (b(1) < low || b(1) > high)) return false;
    for (int k = 2; k < length; ++k) {
      if (b(k) < 0x80 || b(k) > 0xBF) return false;
    }
    i += length;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the inside of a JSON string literal strictly (RFC 8259: no raw
// control characters or quotes, only the defined escapes); nullopt if it is
// not one. \u escapes of surrogates are refused: the escaper never needs
// them, as it copies non-ASCII text as UTF-8.
std::optional<std::string> DecodeJsonStringBody(absl::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    const auto c = static_cast<uint8_t>(body[i]);
    if (c < 0x20 || c == '"') return std::nullopt;
    if (c != '\\') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (++i == body.size()) return std::nullopt;
    switch (body[i]) {
      case '"':
      case '\\':
      case '/':
        out.push_back(body[i]);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (body.size() - i < 5) return std::nullopt;
        uint32_t cp = 0;
        for (size_t k = 1; k <= 4; ++k) {
          const char h = body[i + k];
          const int digit = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
          if (digit < 0) return std::nullopt;
          cp = cp * 16 + digit;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) return std::nullopt;
        AppendUtf8(cp, out);
        i += 4;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

std::string Escaped(absl::string_view text) {
  std::string out;
  AppendJsonEscaped(text, out);
  return out;
}

TEST(Utf8Test, AcceptsWellFormedTextUpToU10FFFF) {
  for (const std::string& text : {
           std::string(),
           std::string("plain ascii"),
           std::string("nul\0inside", 10),
           Bytes({0x7F}),
           Bytes({0xC2, 0x80}),              // U+0080, the first two-byte code point
           Bytes({0xDF, 0xBF}),              // U+07FF
           Bytes({0xE0, 0xA0, 0x80}),        // U+0800, the first three-byte code point
           Bytes({0xED, 0x9F, 0xBF}),        // U+D7FF, just below the surrogates
           Bytes({0xEE, 0x80, 0x80}),        // U+E000, just above them
           Bytes({0xEF, 0xBF, 0xBF}),        // U+FFFF
           Bytes({0xF0, 0x90, 0x80, 0x80}),  // U+10000, the first four-byte code point
           Bytes({0xF4, 0x8F, 0xBF, 0xBF}),  // U+10FFFF, the last code point
           std::string("Gr\xC3\xBC\xC3\x9F"
                       "e \xE2\x82\xAC 5 \xF0\x9F\x98\x80 \xE4\xB8\xAD"),
       }) {
    EXPECT_TRUE(IsValidUtf8(text)) << Hex(text);
  }
}

TEST(Utf8Test, RefusesStrayContinuationBytesAndBytesThatNeverStartACodePoint) {
  for (const std::string& text : {
           Bytes({0x80}),
           Bytes({0xBF}),
           Bytes({'a', 0x80, 'b'}),
           Bytes({0xC3, 0xA9, 0x80}),  // é and one continuation byte too many
           Bytes({0xF5, 0x80, 0x80, 0x80}),
           Bytes({0xF8, 0x88, 0x80, 0x80, 0x80}),  // old five-byte form
           Bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}),
           Bytes({0xFE}),
           Bytes({0xFF}),
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << Hex(text);
  }
}

TEST(Utf8Test, RefusesOverlongEncodings) {
  for (const std::string& text : {
           Bytes({0xC0, 0x80}),              // NUL in two bytes ("modified UTF-8")
           Bytes({0xC0, 0xAF}),              // '/' in two bytes
           Bytes({0xC1, 0xBF}),              // U+007F in two bytes
           Bytes({0xE0, 0x80, 0xAF}),        // '/' in three bytes
           Bytes({0xE0, 0x9F, 0xBF}),        // U+07FF in three bytes
           Bytes({0xF0, 0x80, 0x80, 0xAF}),  // '/' in four bytes
           Bytes({0xF0, 0x8F, 0xBF, 0xBF}),  // U+FFFF in four bytes
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << Hex(text);
  }
}

TEST(Utf8Test, RefusesSurrogatesAndCodePointsAboveU10FFFF) {
  for (const std::string& text : {
           Bytes({0xED, 0xA0, 0x80}),                    // U+D800
           Bytes({0xED, 0xBF, 0xBF}),                    // U+DFFF
           Bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80}),  // U+1F600 as a CESU-8 pair
           Bytes({0xF4, 0x90, 0x80, 0x80}),              // U+110000
           Bytes({0xF7, 0xBF, 0xBF, 0xBF}),              // U+1FFFFF
       }) {
    EXPECT_FALSE(IsValidUtf8(text)) << Hex(text);
  }
}

TEST(Utf8Test, RefusesTruncatedSequencesWhereverTheyEnd) {
  for (const std::string& whole :
       {Bytes({0xC3, 0xA9}), Bytes({0xE2, 0x82, 0xAC}), Bytes({0xF0, 0x9F, 0x98, 0x80})}) {
    ASSERT_TRUE(IsValidUtf8(whole)) << Hex(whole);
    for (size_t cut = 1; cut < whole.size(); ++cut) {
      const std::string head = whole.substr(0, cut);
      EXPECT_FALSE(IsValidUtf8(head)) << Hex(head);
      EXPECT_FALSE(IsValidUtf8("ok " + head)) << "at the end: " << Hex(head);
      EXPECT_FALSE(IsValidUtf8(head + "x")) << "followed by ASCII: " << Hex(head);
      EXPECT_FALSE(IsValidUtf8(head + whole)) << "followed by a lead byte: " << Hex(head);
    }
  }
}

TEST(Utf8Test, AgreesWithTheUnicodeTableOnEveryOneTwoAndThreeByteString) {
  int disagreements = 0;
  char buffer[3];
  for (int length = 1; length <= 3; ++length) {
    const uint32_t count = 1u << (8 * length);
    for (uint32_t n = 0; n < count && disagreements < 10; ++n) {
      for (int k = 0; k < length; ++k) buffer[k] = static_cast<char>(n >> (8 * k));
      const absl::string_view text(buffer, length);
      if (IsValidUtf8(text) != ReferenceIsValidUtf8(text)) {
        ++disagreements;
        ADD_FAILURE() << Hex(text) << ": IsValidUtf8 says " << IsValidUtf8(text);
      }
    }
  }
  EXPECT_EQ(disagreements, 0);
}

TEST(Utf8Test, AgreesWithTheUnicodeTableOnFourByteStrings) {
  // Every lead and second byte from F0 up, with third and fourth bytes on
  // and around the continuation range's edges.
  const uint8_t edges[] = {0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  int disagreements = 0;
  for (int lead = 0xF0; lead <= 0xFF; ++lead) {
    for (int second = 0; second <= 0xFF; ++second) {
      for (uint8_t third : edges) {
        for (uint8_t fourth : edges) {
          const std::string text =
              Bytes({static_cast<uint8_t>(lead), static_cast<uint8_t>(second), third, fourth});
          if (IsValidUtf8(text) != ReferenceIsValidUtf8(text) && ++disagreements <= 10) {
            ADD_FAILURE() << Hex(text) << ": IsValidUtf8 says " << IsValidUtf8(text);
          }
        }
      }
    }
  }
  EXPECT_EQ(disagreements, 0);
}

TEST(Utf8Test, LengthCountsCodePointsNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length(std::string("a\0b", 3)), 3u);
  EXPECT_EQ(Utf8Length("\xC3\xA9"), 1u);
  EXPECT_EQ(Utf8Length("\xE2\x82\xAC"), 1u);
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80"), 1u);
  // "a", "é", "€", "😀": 10 bytes.
  EXPECT_EQ(Utf8Length("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), 4u);
}

TEST(Utf8Test, TruncateCutsBeforeTheCodePointThatWouldNotFit) {
  // "a", "é", "€", "😀": code points end after bytes 1, 3, 6 and 10.
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  const size_t expected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10, 10};
  for (size_t max_bytes = 0; max_bytes < std::size(expected); ++max_bytes) {
    const absl::string_view cut = TruncateUtf8(text, max_bytes);
    EXPECT_EQ(cut.size(), expected[max_bytes]) << "max_bytes " << max_bytes;
    EXPECT_EQ(cut.data(), text.data()) << "a prefix of the text itself";
    EXPECT_TRUE(IsValidUtf8(cut)) << "max_bytes " << max_bytes;
  }
}

TEST(Utf8Test, TruncateLeavesTextThatFitsAlone) {
  EXPECT_EQ(TruncateUtf8("", 0), "");
  EXPECT_EQ(TruncateUtf8("", 5), "");
  EXPECT_EQ(TruncateUtf8("abc", 3), "abc");
  EXPECT_EQ(TruncateUtf8("abc", 100), "abc");
  EXPECT_EQ(TruncateUtf8("abc", 2), "ab");
  EXPECT_EQ(TruncateUtf8("abc", 0), "");
  EXPECT_EQ(TruncateUtf8("\xE2\x82\xAC", 3), "\xE2\x82\xAC");
  EXPECT_EQ(TruncateUtf8("\xE2\x82\xAC", 2), "");
}

TEST(Utf8Test, TruncatedValidTextStaysValidAtEveryLength) {
  std::string text;
  for (uint32_t cp : {0x41u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu, 0xE9u, 0x20ACu}) {
    if (cp < 0x10000) {
      AppendUtf8(cp, text);
    } else {
      text += Bytes({static_cast<uint8_t>(0xF0 | (cp >> 18)),
                     static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
                     static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
                     static_cast<uint8_t>(0x80 | (cp & 0x3F))});
    }
  }
  ASSERT_TRUE(IsValidUtf8(text));
  for (size_t max_bytes = 0; max_bytes <= text.size(); ++max_bytes) {
    const absl::string_view cut = TruncateUtf8(text, max_bytes);
    EXPECT_LE(cut.size(), max_bytes);
    EXPECT_GT(cut.size() + 4, max_bytes) << "it never drops more than one code point";
    EXPECT_TRUE(IsValidUtf8(cut)) << "max_bytes " << max_bytes;
  }
}

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Escaped(R"(say "hi" \ bye)"), R"(say \"hi\" \\ bye)");
  EXPECT_EQ(Escaped("a\nb\rc\td"), R"(a\nb\rc\td)");
  EXPECT_EQ(Escaped(std::string("\0", 1)), R"(\u0000)");
  EXPECT_EQ(Escaped("\x01\x08\x0c\x1f"), R"(\u0001\u0008\u000c\u001f)");
  EXPECT_EQ(Escaped("\x7f"), R"(\u007f)");
  EXPECT_EQ(Escaped("</script> ' / ~"), "</script> ' / ~");
  EXPECT_EQ(Escaped(""), "");
}

TEST(JsonEscapeTest, AppendsToWhatIsThere) {
  std::string out = R"({"msg":")";
  AppendJsonEscaped("x\"y", out);
  out += R"("})";
  EXPECT_EQ(out, R"({"msg":"x\"y"})");
}

TEST(JsonEscapeTest, CopiesValidMultibyteTextAsItIs) {
  for (const std::string& text :
       {std::string("Gr\xC3\xBC\xC3\x9F"
                    "e"),
        std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x98\x80"), Bytes({0xC2, 0x80}),
        Bytes({0xF4, 0x8F, 0xBF, 0xBF}), Bytes({0xEF, 0xBF, 0xBD})}) {
    EXPECT_EQ(Escaped(text), text) << Hex(text);
  }
}

TEST(JsonEscapeTest, ReplacesEachInvalidByteWithUFFFD) {
  EXPECT_EQ(Escaped("\xFF"), R"(\ufffd)");
  EXPECT_EQ(Escaped("a\x80z"), R"(a\ufffdz)");
  EXPECT_EQ(Escaped("a\xC3"), R"(a\ufffd)") << "truncated at the end";
  EXPECT_EQ(Escaped("\xE2\x82x"), R"(\ufffd\ufffdx)") << "truncated before ASCII";
  EXPECT_EQ(Escaped("\xE2\x82\xC3\xA9"), "\\ufffd\\ufffd\xC3\xA9") << "truncated before é";
  EXPECT_EQ(Escaped("\xC0\xAF"), R"(\ufffd\ufffd)") << "overlong";
  EXPECT_EQ(Escaped("\xED\xA0\x80"), R"(\ufffd\ufffd\ufffd)") << "a surrogate";
  EXPECT_EQ(Escaped("\xF4\x90\x80\x80"), R"(\ufffd\ufffd\ufffd\ufffd)") << "above U+10FFFF";
  EXPECT_EQ(Escaped("\xC3\xA9\x80\"\xFE\n"), "\xC3\xA9\\ufffd\\\"\\ufffd\\n");
  // The escape, not the raw bytes, stands for U+FFFD in the JSON.
  EXPECT_EQ(DecodeJsonStringBody(Escaped("\xFF")), std::optional<std::string>("\xEF\xBF\xBD"));
}

TEST(JsonEscapeTest, AnyBytesBecomeAValidJsonStringAndValidTextRoundTrips) {
  // Every string of one or two bytes, and some longer ones around the
  // multi-byte forms, including every byte after a three-byte lead.
  std::vector<std::string> inputs;
  for (int a = 0; a < 256; ++a) {
    inputs.push_back(Bytes({static_cast<uint8_t>(a)}));
    for (int b = 0; b < 256; ++b) {
      inputs.push_back(Bytes({static_cast<uint8_t>(a), static_cast<uint8_t>(b)}));
    }
  }
  for (uint8_t lead : {0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4}) {
    for (int b = 0; b < 256; ++b) {
      inputs.push_back(Bytes({lead, static_cast<uint8_t>(b), 0x80}));
      inputs.push_back(Bytes({lead, static_cast<uint8_t>(b), 0xBF, 0xBF, '"'}));
    }
  }
  int failures = 0;
  for (const std::string& input : inputs) {
    const std::string escaped = Escaped(input);
    const std::optional<std::string> decoded = DecodeJsonStringBody(escaped);
    const bool ok = IsValidUtf8(escaped) && decoded.has_value() &&
                    (!IsValidUtf8(input) || *decoded == input) &&
                    (IsValidUtf8(input) || escaped.find("\\ufffd") != std::string::npos);
    if (!ok && ++failures <= 10) {
      ADD_FAILURE() << Hex(input) << " became " << Hex(escaped);
    }
  }
  EXPECT_EQ(failures, 0) << "of " << inputs.size();
}

}  // namespace
}  // namespace switchboard
