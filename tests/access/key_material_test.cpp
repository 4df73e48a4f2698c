// Keys as bytes: the key format, SHA-256 against published vectors (FIPS 180-2 appendix
// B), hex round trips and the cheap plausibility check made before hashing.
#include "access/key_material.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace glidepath::access {
namespace {

struct DigestCase {
  std::string input;
  std::string_view expected_hex;
};

TEST(KeyDigest, MatchesPublishedSha256Vectors) {
  const DigestCase cases[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1'000'000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
  for (const DigestCase& c : cases) {
    SCOPED_TRACE(c.input.substr(0, 60));
    EXPECT_EQ(to_hex(key_digest(c.input)), c.expected_hex);
    EXPECT_EQ(key_hash_hex(c.input), c.expected_hex);
  }
}

TEST(KeyDigest, RepeatedCallsReuseTheContextCorrectly) {
  // The thread-local context is reinitialised per call: no state leaks between keys.
  const std::string abc_hex = key_hash_hex("abc");
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(key_hash_hex("something else " + std::to_string(i)).size(), 64u);
    ASSERT_EQ(key_hash_hex("abc"), abc_hex);
  }
}

TEST(KeyDigest, GivesTheSameDigestOnEveryThread) {
  const std::string key = generate_key();
  const KeyDigest expected = key_digest(key);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (key_digest(key) != expected) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (const int m : mismatches)
    EXPECT_EQ(m, 0);
}

TEST(GenerateKey, HasThePrefixAndFiftyTwoBase32Characters) {
  for (int i = 0; i < 50; ++i) {
    const std::string key = generate_key();
    ASSERT_EQ(key.size(), kKeyLength);
    ASSERT_TRUE(std::string_view(key).starts_with(kKeyPrefix)) << key;
    for (const char c : std::string_view(key).substr(kKeyPrefix.size())) {
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << key;
    }
    EXPECT_TRUE(plausible_key(key));
  }
}

TEST(GenerateKey, KeysAreUnique) {
  std::set<std::string> keys;
  for (int i = 0; i < 2000; ++i)
    keys.insert(generate_key());
  EXPECT_EQ(keys.size(), 2000u);
}

TEST(DigestHex, RoundTripsThroughParse) {
  for (int i = 0; i < 20; ++i) {
    const KeyDigest digest = key_digest(generate_key());
    const std::string hex = to_hex(digest);
    ASSERT_EQ(hex.size(), 64u);
    for (const char c : hex)
      ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << hex;
    const std::optional<KeyDigest> parsed = parse_digest_hex(hex);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, digest);
  }
}

TEST(DigestHex, AcceptsUpperCase) {
  const std::string upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
  const std::optional<KeyDigest> parsed = parse_digest_hex(upper);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, key_digest("abc"));
  EXPECT_EQ(to_hex(*parsed), key_hash_hex("abc"));
}

TEST(DigestHex, RejectsAnythingButSixtyFourHexDigits) {
  const std::string good = key_hash_hex("abc");
  const std::string rejected[] = {
      "",
      good.substr(0, 63),
      good + "0",
      good.substr(0, 63) + "g",
      " " + good.substr(1),
      good.substr(0, 62) + "-1",
      std::string(64, 'x'),
      "0x" + good.substr(2),
  };
  for (const std::string& hex : rejected) {
    EXPECT_FALSE(parse_digest_hex(hex).has_value()) << "'" << hex << "'";
  }
}

TEST(DisplayPrefix, KeepsThePrefixAndFiveCharacters) {
  EXPECT_EQ(display_prefix("gp_7kq2xabcdefgh"), "gp_7kq2x");
  EXPECT_EQ(display_prefix(generate_key()).size(), kDisplayPrefixLength);
  EXPECT_EQ(display_prefix("gp_"), "gp_");
  EXPECT_EQ(display_prefix(""), "");
}

TEST(PlausibleKey, AcceptsVisibleAsciiUpTo256Bytes) {
  EXPECT_TRUE(plausible_key("x"));
  EXPECT_TRUE(plausible_key("gp_abc!~{}\"'"));
  EXPECT_TRUE(plausible_key(std::string(256, 'k')));

  EXPECT_FALSE(plausible_key(""));
  EXPECT_FALSE(plausible_key(std::string(257, 'k')));
  EXPECT_FALSE(plausible_key("gp_abc def"));
  EXPECT_FALSE(plausible_key("gp_abc\tdef"));
  EXPECT_FALSE(plausible_key(std::string("gp_\0abc", 7)));
  EXPECT_FALSE(plausible_key("gp_\x7f"));
  EXPECT_FALSE(plausible_key("gp_\xc3\xa9"));  // é
}

}  // namespace
}  // namespace glidepath::access
