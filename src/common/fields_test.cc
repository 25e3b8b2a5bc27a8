#include "common/fields.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace kuajing {
namespace {

TEST(Fields, LinesInTheOrderGivenThenAnEmptyLine) {
  EXPECT_EQ(EncodeFields({{"phase", "2"}, {"pre_no", "P1"}, {"empty", ""}}),
            "phase\t2\npre_no\tP1\nempty\t\n\n");
  EXPECT_EQ(EncodeFields(Fields{{"b", "2"}, {"a", "1"}}), "a\t1\nb\t2\n\n");
}

TEST(Fields, SeparatorsInAValueBecomeSpaces) {
  // A value that would end its line or split it at a tab: every such byte, not only the first,
  // and nothing else (UTF-8 passes through).
  const std::string text =
      EncodeFields({{"reason", "held\tfor\nreview\t\t"}, {"name", "张三"}, {"next", "x"}});
  EXPECT_EQ(text, "reason\theld for review  \nname\t张三\nnext\tx\n\n");
  const std::string row = text + "DOC";  // the views point into it
  std::string_view rest;
  const FieldsView view(row, &rest);
  EXPECT_EQ(view.Get("reason"), "held for review  ");
  EXPECT_EQ(view.Get("name"), "张三");
  EXPECT_EQ(view.Get("next"), "x");
  EXPECT_EQ(view.Get("absent"), "");
  EXPECT_EQ(rest, "DOC");
}

TEST(Fields, ALongValueIsWrittenWhole) {
  std::string v(1000, 'a');
  v[0] = '\n';
  v[999] = '\t';
  const std::string text = EncodeFields({{"k", v}});
  std::string_view rest;
  const FieldsView view(text, &rest);
  EXPECT_EQ(view.Get("k"), " " + std::string(998, 'a') + " ");
  EXPECT_TRUE(rest.empty());
}

// The writer the engines' state rows use: EncodeFields' bytes for the same pairs, numbers as
// std::to_string writes them (the rows' readers parse them so), whatever follows after End().
TEST(Fields, TheWriterWritesWhatEncodeFieldsWrites) {
  std::string text;
  FieldWriter(text)
      .Int("phase", 4)
      .Text("reason", "held\tfor review\n")
      .Int("counted", -123456789012345)
      .Int("zero", 0)
      .Int("max", INT64_MAX)
      .Int("min", INT64_MIN)
      .Flag("yes", true)
      .Flag("no", false)
      .Text("empty", "")
      .End();
  text += "DOC";
  const std::string expected = EncodeFields({{"phase", "4"},
                                             {"reason", "held\tfor review\n"},
                                             {"counted", std::to_string(-123456789012345)},
                                             {"zero", "0"},
                                             {"max", std::to_string(INT64_MAX)},
                                             {"min", std::to_string(INT64_MIN)},
                                             {"yes", "1"},
                                             {"no", "0"},
                                             {"empty", ""}}) +
                               "DOC";
  EXPECT_EQ(text, expected);
  std::string_view rest;
  const FieldsView view(text, &rest);
  EXPECT_EQ(ToInt(view, "min"), INT64_MIN);
  EXPECT_EQ(view.Get("reason"), "held for review ");
  EXPECT_EQ(rest, "DOC");
}

}  // namespace
}  // namespace kuajing
