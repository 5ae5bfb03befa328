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

}  // namespace tenx::eval
