#pragma once
// Splits a template into text and tag tokens, applying Jinja2's whitespace rules as the lexer
// does (trim_blocks, lstrip_blocks, "-" / "+" markers), so the parser sees final text.
#include <string>
#include <vector>

namespace tenx::jinja::detail {

enum class Tok { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
  Tok type;
  std::string text;  // Text: the output; String: the decoded literal; Name/Op/Int/Float: as written
  int line = 1, column = 1;
};

// Throws SyntaxError naming `name`, line and column.
std::vector<Token> tokenize(const std::string& source, const std::string& name);

}  // namespace tenx::jinja::detail
