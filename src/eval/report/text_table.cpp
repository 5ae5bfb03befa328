// TextTable (include/tenx/eval/report/text_table.hpp).
#include "tenx/eval/report/text_table.hpp"

#include <algorithm>
#include <stdexcept>

namespace tenx::eval {

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

TextTable::TextTable(std::vector<TableColumn> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size())
    throw std::invalid_argument("TextTable: a row of " + std::to_string(cells.size()) + " cells in a table of " +
                                std::to_string(columns_.size()) + " columns");
  lines_.push_back({std::move(cells), {}});
}

void TextTable::add_note(std::string line) { lines_.push_back({{}, std::move(line)}); }

std::string TextTable::aligned() const {
  std::vector<std::size_t> width;
  for (const TableColumn& c : columns_) width.push_back(std::max(c.min_width, c.header.size()));
  for (const Line& l : lines_)
    for (std::size_t i = 0; i < l.cells.size(); ++i) width[i] = std::max(width[i], l.cells[i].size());
  const auto row = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const std::string pad(width[i] - cells[i].size(), ' ');
      if (i) out += ' ';
      if (columns_[i].align == Align::right) out += pad;
      out += cells[i];
      if (columns_[i].align == Align::left) out += pad;
    }
    return out + "\n";
  };
  std::vector<std::string> headers;
  for (const TableColumn& c : columns_) headers.push_back(c.header);
  std::string out = row(headers);
  for (const Line& l : lines_) out += l.cells.empty() ? l.note + "\n" : row(l.cells);
  return out;
}

std::string TextTable::markdown() const {
  const auto row = [](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (const std::string& c : cells) {
      out += ' ';
      out += markdown_cell(c);
      out += " |";
    }
    return out + "\n";
  };
  std::vector<std::string> headers;
  std::string rule = "|";
  for (const TableColumn& c : columns_) {
    headers.push_back(c.header);
    rule += c.align == Align::right ? "--:|" : c.align == Align::center ? ":-:|" : "---|";
  }
  std::string out = row(headers) + rule + "\n";
  for (const Line& l : lines_)
    if (!l.cells.empty()) out += row(l.cells);
  return out;
}

namespace {
std::size_t display_width(const std::string& s) {  // UTF-8 code points
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
// Each column as wide as its widest cell, in code points (the ruled layouts).
std::vector<std::size_t> column_widths(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(rows.empty() ? 0 : rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display_width(r[i]));
  return width;
}
}  // namespace

std::vector<std::vector<std::string>> TextTable::header_and_rows() const {
  std::vector<std::vector<std::string>> rows(1);
  for (const TableColumn& c : columns_) rows[0].push_back(c.header);
  for (const Line& l : lines_)
    if (!l.cells.empty()) rows.push_back(l.cells);
  return rows;
}

std::string TextTable::ruled() const {
  const auto rows = header_and_rows();
  const std::vector<std::size_t> width = column_widths(rows);
  std::string out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::string line;
    for (std::size_t i = 0; i < rows[k].size(); ++i) {
      const std::string pad(width[i] - display_width(rows[k][i]), ' ');
      if (i) line += "  ";
      if (columns_[i].align == Align::right) line += pad;
      line += rows[k][i];
      if (columns_[i].align != Align::right) line += pad;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (k == 0) {
      std::string rule;
      for (std::size_t i = 0; i < width.size(); ++i) rule += (i ? "  " : "") + std::string(width[i], '-');
      out += rule + "\n";
    }
  }
  return out;
}

std::string TextTable::markdown_ruled() const {
  const auto rows = header_and_rows();
  const std::vector<std::size_t> width = column_widths(rows);
  std::string out;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::string line = "|";
    for (std::size_t i = 0; i < rows[k].size(); ++i) {
      line += ' ';
      line += rows[k][i];
      line += std::string(width[i] - display_width(rows[k][i]), ' ');
      line += " |";
    }
    out += line + "\n";
    if (k == 0) {
      std::string rule = "|";
      for (std::size_t w : width) rule += std::string(w + 2, '-') + "|";
      out += rule + "\n";
    }
  }
  return out;
}

}  // namespace tenx::eval
