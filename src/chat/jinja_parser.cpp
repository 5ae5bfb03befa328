// Recursive-descent parser with Jinja2's grammar and precedence (jinja2/parser.py): or < and < not
// < comparisons < + - < ~ < * / // % < ** < unary - < postfix ([], ., call) and filters/tests.
// Unsupported constructs (include, extends, call blocks, ...) are syntax errors with a position.
#include "jinja_parser.hpp"

#include <charconv>
#include <cstdlib>

#include "jinja_builtins.hpp"
#include "jinja_lexer.hpp"

namespace tenx::jinja::detail {
namespace {

// Deeper nesting than this is refused: it bounds the parser's and the evaluator's recursion.
constexpr int kMaxNesting = 128;

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string name) : t_(std::move(toks)), name_(std::move(name)) {}

  Body parse_template() {
    Body body = parse_body({});
    if (cur().type != Tok::Eof) error(cur(), "unexpected token");
    return body;
  }

 private:
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser, const Token& at) : p(parser) {
      if (++p.depth_ > kMaxNesting) p.error(at, "template nested too deeply (limit " + std::to_string(kMaxNesting) + ")");
    }
    ~DepthGuard() { --p.depth_; }
  };

  const Token& cur() const { return t_[pos_]; }
  const Token& peek(size_t n = 1) const { return t_[std::min(pos_ + n, t_.size() - 1)]; }
  void advance() { if (pos_ + 1 < t_.size()) ++pos_; }

  [[noreturn]] void error(const Token& at, const std::string& message) const {
    throw SyntaxError(name_, at.line, at.column, message);
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::Eof: return "end of template";
      case Tok::BlockEnd: return "end of statement block";
      case Tok::VarEnd: return "end of print statement";
      case Tok::String: return "string";
      case Tok::Int: return "integer";
      case Tok::Float: return "float";
      default: return "'" + t.text + "'";
    }
  }

  bool is_op(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().type == Tok::Name && cur().text == n; }
  void expect_op(const char* op) {
    if (!is_op(op)) error(cur(), std::string("expected '") + op + "', got " + describe(cur()));
    advance();
  }
  std::string expect_name() {
    if (cur().type != Tok::Name) error(cur(), "expected a name, got " + describe(cur()));
    std::string n = cur().text;
    advance();
    return n;
  }
  void expect_block_end() {
    if (cur().type != Tok::BlockEnd) error(cur(), "expected end of statement block, got " + describe(cur()));
    advance();
  }

  ExprPtr node(ExprKind k, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = at.line;
    e->column = at.column;
    return e;
  }

  // ---- statements ---------------------------------------------------------------------------

  // Statements until a block tag whose name is in `ends` (left unconsumed: the caller reads it).
  Body parse_body(const std::vector<std::string>& ends) {
    Body body;
    for (;;) {
      const Token& t = cur();
      if (t.type == Tok::Eof) {
        for (const auto& e : ends)  // name the closing tag ('endif'), not an optional one ('else')
          if (e.rfind("end", 0) == 0) error(t, "unexpected end of template, expected '" + e + "'");
        return body;
      }
      if (t.type == Tok::Text) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Text;
        s->line = t.line;
        s->column = t.column;
        s->text = t.text;
        body.push_back(std::move(s));
        advance();
      } else if (t.type == Tok::VarBegin) {
        advance();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        s->column = t.column;
        s->expr = parse_tuple(true);
        if (cur().type != Tok::VarEnd) error(cur(), "expected end of print statement, got " + describe(cur()));
        advance();
        body.push_back(std::move(s));
      } else if (t.type == Tok::BlockBegin) {
        const Token& tag = peek();
        if (tag.type != Tok::Name) error(tag, "tag name expected");
        for (const auto& e : ends)
          if (tag.text == e) { advance(); return body; }  // positioned on the tag name
        advance();
        body.push_back(parse_statement());
      } else {
        error(t, "unexpected " + describe(t));
      }
    }
  }

  StmtPtr make_stmt(StmtKind k, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = k;
    s->line = at.line;
    s->column = at.column;
    return s;
  }

  StmtPtr parse_statement() {
    const Token tag = cur();
    DepthGuard guard(*this, tag);
    const std::string& n = tag.text;
    if (n == "if") return parse_if();
    if (n == "for") return parse_for();
    if (n == "set") return parse_set();
    if (n == "macro") return parse_macro();
    if (n == "filter") return parse_filter_block();
    if (n == "break" || n == "continue") {
      if (loop_depth_ == 0) error(tag, "'" + n + "' outside of a for loop");
      advance();
      expect_block_end();
      return make_stmt(n == "break" ? StmtKind::Break : StmtKind::Continue, tag);
    }
    static const char* const kKnownUnsupported[] = {"block", "extends", "include", "import", "from", "call",
                                                    "with", "autoescape", "print", "do", "generation"};
    for (const char* u : kKnownUnsupported)
      if (n == u) error(tag, "the '" + n + "' tag is not supported by tenx's Jinja engine");
    if (n.rfind("end", 0) == 0 || n == "else" || n == "elif")
      error(tag, "unexpected '" + n + "' (no open block takes it here)");
    error(tag, "Encountered unknown tag '" + n + "'.");
  }

  StmtPtr parse_if() {
    auto s = make_stmt(StmtKind::If, cur());
    advance();
    s->expr = parse_tuple(false);
    expect_block_end();
    s->body = parse_body({"elif", "else", "endif"});
    const std::string which = cur().text;
    if (which == "elif") {
      s->else_body.push_back(parse_if());  // the elif's tokens look like an if's
      return s;
    }
    advance();
    expect_block_end();
    if (which == "else") {
      s->else_body = parse_body({"endif"});
      advance();
      expect_block_end();
    }
    return s;
  }

  StmtPtr parse_for() {
    auto s = make_stmt(StmtKind::For, cur());
    advance();
    do {
      s->targets.push_back(expect_name());
      if (!is_op(",")) break;
      advance();
    } while (true);
    if (!is_name("in")) error(cur(), "expected 'in', got " + describe(cur()));
    advance();
    s->expr = parse_tuple(false);
    if (is_name("if")) {
      advance();
      s->cond = parse_expression(true);
    }
    if (is_name("recursive")) error(cur(), "recursive loops are not supported by tenx's Jinja engine");
    expect_block_end();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (cur().text == "else") {
      advance();
      expect_block_end();
      s->else_body = parse_body({"endfor"});
    }
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_set() {
    const Token at = cur();
    advance();
    std::vector<std::string> targets{expect_name()};
    std::string attr;
    if (is_op(".")) {
      advance();
      attr = expect_name();
    } else {
      while (is_op(",")) {
        advance();
        targets.push_back(expect_name());
      }
    }
    if (is_op("=")) {
      advance();
      auto s = make_stmt(StmtKind::Set, at);
      s->targets = std::move(targets);
      s->attr = std::move(attr);
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (!attr.empty() || targets.size() != 1) error(cur(), "expected '=', got " + describe(cur()));
    auto s = make_stmt(StmtKind::SetBlock, at);
    s->targets = std::move(targets);
    while (is_op("|")) s->filters.push_back(parse_filter(nullptr));
    expect_block_end();
    s->body = parse_body({"endset"});
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(StmtKind::Macro, cur());
    advance();
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      if (is_op(")")) break;
      std::string p = expect_name();
      ExprPtr def;
      if (is_op("=")) {
        advance();
        def = parse_expression(true);
      }
      s->params.emplace_back(std::move(p), std::move(def));
    }
    advance();
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;  // a break in a macro cannot reach the caller's loop
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved;
    advance();
    if (cur().type == Tok::Name && cur().text == s->text) advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(StmtKind::FilterBlock, cur());
    advance();
    s->filters.push_back(parse_filter(nullptr, false));
    while (is_op("|")) s->filters.push_back(parse_filter(nullptr));
    expect_block_end();
    s->body = parse_body({"endfilter"});
    advance();
    expect_block_end();
    return s;
  }

  // ---- expressions --------------------------------------------------------------------------

  // parse_tuple: "a, b" is a tuple (as in {{ a, b }} or {% set x = a, b %}).
  ExprPtr parse_tuple(bool with_condexpr) {
    const Token at = cur();
    ExprPtr first = parse_expression(with_condexpr);
    if (!is_op(",")) return first;
    auto t = node(ExprKind::ListLit, at);
    t->tuple = true;
    t->args.push_back(std::move(first));
    while (is_op(",")) {
      advance();
      if (!starts_expression()) break;
      t->args.push_back(parse_expression(with_condexpr));
    }
    return t;
  }

  bool starts_expression() const {
    const Token& t = cur();
    if (t.type == Tok::Name || t.type == Tok::String || t.type == Tok::Int || t.type == Tok::Float) return true;
    return t.type == Tok::Op && (t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+");
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this, cur());
    if (!with_condexpr) return parse_or();
    const Token at = cur();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      advance();
      auto c = node(ExprKind::Cond, at);
      ExprPtr test = parse_or();
      ExprPtr otherwise;
      if (is_name("else")) {
        advance();
        otherwise = parse_expression(true);
      }
      c->args.push_back(std::move(test));
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(otherwise));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(const Token& at, std::string op, ExprPtr l, ExprPtr r) {
    auto b = node(ExprKind::Binary, at);
    b->name = std::move(op);
    b->args.push_back(std::move(l));
    b->args.push_back(std::move(r));
    return b;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Token at = cur();
      advance();
      e = binary(at, "or", std::move(e), parse_and());
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Token at = cur();
      advance();
      e = binary(at, "and", std::move(e), parse_not());
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const Token at = cur();
      DepthGuard guard(*this, at);
      advance();
      auto u = node(ExprKind::Unary, at);
      u->name = "not";
      u->args.push_back(parse_not());
      return u;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const Token at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    for (;;) {
      std::string op;
      if (cur().type == Tok::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                    cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
        op = cur().text;
        advance();
      } else if (is_name("in")) {
        op = "in";
        advance();
      } else if (is_name("not") && peek().type == Tok::Name && peek().text == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::Compare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token at = cur();
      advance();
      e = binary(at, at.text, std::move(e), parse_concat());
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token at = cur();
      advance();
      e = binary(at, "~", std::move(e), parse_math2());
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token at = cur();
      advance();
      e = binary(at, at.text, std::move(e), parse_pow());
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token at = cur();
      advance();
      e = binary(at, "**", std::move(e), parse_unary(true));
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    const Token at = cur();
    DepthGuard guard(*this, at);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      advance();
      e = node(ExprKind::Unary, at);
      e->name = at.text;
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token at = cur();
    switch (at.type) {
      case Tok::Name: {
        advance();
        auto e = node(ExprKind::Literal, at);
        if (at.text == "true" || at.text == "True") e->value = Value::boolean(true);
        else if (at.text == "false" || at.text == "False") e->value = Value::boolean(false);
        else if (at.text == "none" || at.text == "None") e->value = Value::none();
        else { e->kind = ExprKind::Name; e->name = at.text; }
        return e;
      }
      case Tok::String: {
        std::string s;
        while (cur().type == Tok::String) { s += cur().text; advance(); }  // "a" "b" == "ab"
        auto e = node(ExprKind::Literal, at);
        e->value = Value::string(std::move(s));
        return e;
      }
      case Tok::Int: {
        advance();
        auto e = node(ExprKind::Literal, at);
        std::int64_t v = 0;
        const auto r = std::from_chars(at.text.data(), at.text.data() + at.text.size(), v);
        if (r.ec != std::errc()) e->value = Value::real(std::strtod(at.text.c_str(), nullptr));  // beyond int64
        else e->value = Value::integer(v);
        return e;
      }
      case Tok::Float: {
        advance();
        auto e = node(ExprKind::Literal, at);
        e->value = Value::real(std::strtod(at.text.c_str(), nullptr));
        return e;
      }
      case Tok::Op:
        if (at.text == "(") {
          advance();
          if (is_op(")")) {
            advance();
            auto e = node(ExprKind::ListLit, at);
            e->tuple = true;
            return e;
          }
          ExprPtr e = parse_tuple(true);
          expect_op(")");
          return e;
        }
        if (at.text == "[") {
          advance();
          auto e = node(ExprKind::ListLit, at);
          while (!is_op("]")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op("]")) break;
            e->args.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        if (at.text == "{") {
          advance();
          auto e = node(ExprKind::DictLit, at);
          while (!is_op("}")) {
            if (!e->args.empty()) expect_op(",");
            if (is_op("}")) break;
            e->args.push_back(parse_expression(true));
            expect_op(":");
            e->args.push_back(parse_expression(true));
          }
          advance();
          return e;
        }
        break;
      default: break;
    }
    error(at, "unexpected " + describe(at));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      const Token at = cur();
      if (is_op(".")) {
        advance();
        if (cur().type == Tok::Name) {
          auto a = node(ExprKind::Attr, at);
          a->name = cur().text;
          advance();
          a->args.push_back(std::move(e));
          e = std::move(a);
        } else if (cur().type == Tok::Int) {  // x.0 == x[0]
          auto idx = node(ExprKind::Literal, cur());
          idx->value = Value::integer(std::strtoll(cur().text.c_str(), nullptr, 10));
          advance();
          auto a = node(ExprKind::Index, at);
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
          e = std::move(a);
        } else {
          error(cur(), "expected an attribute name after '.', got " + describe(cur()));
        }
      } else if (is_op("[")) {
        advance();
        e = parse_subscript(std::move(e), at);
      } else if (is_op("(")) {
        auto c = node(ExprKind::Call, at);
        c->args.push_back(std::move(e));
        parse_call_args(*c);
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr target, const Token& at) {
    ExprPtr parts[3];
    int n = 0;
    bool slice = false;
    for (;;) {
      if (is_op(":")) {
        slice = true;
        if (++n > 2) error(cur(), "too many ':' in a slice");
        advance();
        continue;
      }
      if (is_op("]")) break;
      if (parts[n]) error(cur(), "expected ']' or ':', got " + describe(cur()));
      parts[n] = parse_expression(true);
    }
    advance();
    if (!slice) {
      if (!parts[0]) error(at, "expected an index inside '[]'");
      auto e = node(ExprKind::Index, at);
      e->args.push_back(std::move(target));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = node(ExprKind::Slice, at);
    e->args.push_back(std::move(target));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
        std::string key = cur().text;
        advance();
        advance();
        call.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!call.kwargs.empty()) error(cur(), "positional argument after a keyword argument");
        call.args.push_back(parse_expression(true));
      }
    }
    advance();
  }

  // | name [(args)]; `operand` null for {% filter %} / {% set x | f %} (filled in at render).
  ExprPtr parse_filter(ExprPtr operand, bool expect_bar = true) {
    if (expect_bar) advance();  // the '|'
    const Token at = cur();
    auto f = node(ExprKind::Filter, at);
    f->name = expect_name();
    while (is_op(".") && peek().type == Tok::Name) {
      advance();
      f->name += "." + cur().text;
      advance();
    }
    if (!is_known_filter(f->name)) error(at, "No filter named '" + f->name + "'.");
    f->args.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(*f);
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        const Token at = cur();
        advance();
        auto t = node(ExprKind::Test, at);
        if (is_name("not")) {
          t->negated = true;
          advance();
        }
        const Token name_at = cur();
        t->name = expect_name();
        while (is_op(".") && peek().type == Tok::Name) {
          advance();
          t->name += "." + cur().text;
          advance();
        }
        if (!is_known_test(t->name)) error(name_at, "No test named '" + t->name + "'.");
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                    cur().type == Tok::Float || is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          // `x is divisibleby 3`, `x is equalto 'a'`: one argument without parentheses.
          auto arg = parse_postfix(parse_primary());
          t->args.push_back(std::move(arg));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = parse_postfix(std::move(e));
      } else {
        return e;
      }
    }
  }

  std::vector<Token> t_;
  std::string name_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse(const std::string& source, const std::string& name) {
  return Parser(tokenize(source, name), name).parse_template();
}

}  // namespace tenx::jinja::detail
