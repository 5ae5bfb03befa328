#pragma once
// One table builder for every table tenx prints or writes: the console table of `tenx run`
// (columns padded to a width) and the Markdown tables of summary.md. Cells are strings already
// formatted (number_format.hpp), so a table never decides how a number looks.
#include <cstddef>
#include <string>
#include <vector>

namespace tenx::eval {

// Console: left or right padding (center pads like left). Markdown: the rule's alignment marks,
// "---" for left (no mark, as summary.md has always written), "--:" right, ":-:" center.
enum class Align { left, right, center };

struct TableColumn {
  std::string header;
  Align align = Align::left;
  std::size_t min_width = 0;  // console: the column is at least this wide (keeps old layouts)
};

class TextTable {
 public:
  explicit TextTable(std::vector<TableColumn> columns);

  // Throws std::invalid_argument when the row's cell count differs from the columns'.
  void add_row(std::vector<std::string> cells);
  // A free line printed under the last row by aligned() (markdown() leaves it out).
  void add_note(std::string line);

  // Console text: each cell padded to its column's width (the widest of min_width, the header
  // and the cells), one space between columns, one line per row and note.
  std::string aligned() const;
  // A Markdown table: header, `|---|` rule, rows; '|' in a cell escaped, newlines made spaces.
  std::string markdown() const;

  // The claim's tables (`tenx verify`, claim_report_text.cpp): every column as wide as its widest
  // cell counted in UTF-8 code points ("−0.012" is 6 wide), a rule of dashes under the header.
  // Console: two spaces between columns, trailing spaces dropped. Markdown: cells padded.
  std::string ruled() const;
  std::string markdown_ruled() const;

 private:
  struct Line {
    std::vector<std::string> cells;  // empty: a note
    std::string note;
  };
  std::vector<std::vector<std::string>> header_and_rows() const;
  std::vector<TableColumn> columns_;
  std::vector<Line> lines_;
};

// A Markdown cell: '|' escaped as "\|", CR and LF made spaces.
std::string markdown_cell(const std::string& s);

}  // namespace tenx::eval
