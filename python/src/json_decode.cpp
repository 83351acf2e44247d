#include "json_decode.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "json/json_reader.hpp"
#include "json/json_scan.hpp"

namespace py = pybind11;

namespace ifmesh::python {

namespace {

class Decoder {
 public:
  Decoder(std::string_view text, std::size_t maxDepth)
      : p_(text.data()), end_(text.data() + text.size()), maxDepth_(maxDepth) {}

  py::object document() {
    skipSpace();
    py::object v = value(0);
    skipSpace();
    if (p_ != end_) fail("extra data after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw py::value_error(std::string("payload JSON: ") + what + " at offset " +
                          std::to_string(p_ - begin_));
  }

  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void expect(char c) {
    if (p_ == end_ || *p_ != c) fail("unexpected character");
    ++p_;
  }

  static py::object steal(PyObject* o) {
    if (!o) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(o);
  }

  void literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0)
      fail("unknown literal");
    p_ += n;
  }

  py::object value(std::size_t depth) {
    if (p_ == end_) fail("missing value");
    switch (*p_) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        literal("true", 4);
        return py::reinterpret_borrow<py::object>(Py_True);
      case 'f':
        literal("false", 5);
        return py::reinterpret_borrow<py::object>(Py_False);
      case 'n':
        literal("null", 4);
        return py::none();
      default:
        return number();
    }
  }

  void enter(std::size_t depth) const {
    if (depth > maxDepth_) fail("nested too deep");
  }

  py::object object(std::size_t depth) {
    enter(depth);
    ++p_;  // '{'
    py::object dict = steal(PyDict_New());
    skipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return dict;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') fail("expected a key");
      py::object key = string();
      skipSpace();
      expect(':');
      skipSpace();
      py::object member = value(depth);
      if (PyDict_SetItem(dict.ptr(), key.ptr(), member.ptr()) != 0) throw py::error_already_set();
      skipSpace();
      if (p_ != end_ && *p_ == '}') {
        ++p_;
        return dict;
      }
      expect(',');
      skipSpace();
    }
  }

  py::object array(std::size_t depth) {
    enter(depth);
    ++p_;  // '['
    py::object list = steal(PyList_New(0));
    skipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return list;
    }
    for (;;) {
      py::object element = value(depth);
      if (PyList_Append(list.ptr(), element.ptr()) != 0) throw py::error_already_set();
      skipSpace();
      if (p_ != end_ && *p_ == ']') {
        ++p_;
        return list;
      }
      expect(',');
      skipSpace();
    }
  }

  py::object string() {
    // Most strings are plain ASCII: copied into the str as they are.
    const char* text = p_ + 1;
    std::size_t run = detail::json::plainRun(text, static_cast<std::size_t>(end_ - text));
    if (text + run != end_ && text[run] == '"') {
      py::object s = steal(PyUnicode_New(static_cast<Py_ssize_t>(run), 127));
      std::memcpy(PyUnicode_1BYTE_DATA(s.ptr()), text, run);
      p_ = text + run + 1;
      return s;
    }
    buffer_.clear();
    if (!detail::json::readString(p_, end_, buffer_)) fail("invalid string");
    return steal(
        PyUnicode_DecodeUTF8(buffer_.data(), static_cast<Py_ssize_t>(buffer_.size()), "strict"));
  }

  py::object number() {
    const char* start = p_;
    const auto shape = detail::json::numberToken(p_, end_);
    if (!shape.end) fail("invalid number");
    p_ = shape.end;
    if (shape.integer) {
      long long n = 0;
      auto [stop, error] = std::from_chars(start, p_, n);
      if (error == std::errc() && stop == p_) return steal(PyLong_FromLongLong(n));
      // Beyond 64 bits: Python's int takes any size.
      return steal(PyLong_FromString(std::string(start, p_).c_str(), nullptr, 10));
    }
    double d = 0;
    auto [stop, error] = std::from_chars(start, p_, d);
    // Out of range (the agent lets through only finite ones, so underflow): strtod rounds as
    // float() does.
    if (error != std::errc() || stop != p_)
      d = std::strtod(std::string(start, p_).c_str(), nullptr);
    return steal(PyFloat_FromDouble(d));
  }

  const char* p_;
  const char* end_;
  const char* begin_ = p_;
  std::size_t maxDepth_;
  std::string buffer_;  // a string with escapes or non-ASCII text, unescaped
};

}  // namespace

py::object decodeJson(std::string_view text, std::size_t maxDepth) {
  return Decoder(text, maxDepth).document();
}

}  // namespace ifmesh::python
