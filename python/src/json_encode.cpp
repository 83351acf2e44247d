#include "json_encode.hpp"

#include <charconv>
#include <cmath>
#include <string_view>

#include "json/json_writer.hpp"

namespace py = pybind11;

namespace ifmesh::python {

namespace {

class Encoder {
 public:
  Encoder(std::string& out, std::size_t maxDepth) : out_(out), maxDepth_(maxDepth) {}

  void value(PyObject* v, std::size_t depth) {
    if (v == Py_None) {
      out_ += "null";
    } else if (v == Py_True) {
      out_ += "true";
    } else if (v == Py_False) {
      out_ += "false";
    } else if (PyUnicode_Check(v)) {
      detail::json::appendString(out_, utf8(v));
    } else if (PyLong_Check(v)) {
      integer(v);
    } else if (PyFloat_Check(v)) {
      number(PyFloat_AS_DOUBLE(v));
    } else if (PyDict_Check(v)) {
      object(v, depth + 1);
    } else if (PyList_Check(v) || PyTuple_Check(v)) {
      array(v, depth + 1);
    } else {
      throw py::type_error(std::string("Object of type ") + Py_TYPE(v)->tp_name +
                           " is not JSON serializable");
    }
  }

 private:
  // A str's UTF-8 (CPython keeps it: for an ASCII string, its own characters).
  static std::string_view utf8(PyObject* s) {
    Py_ssize_t size = 0;
    const char* p = PyUnicode_AsUTF8AndSize(s, &size);
    if (!p) {
      PyErr_Clear();
      throw py::value_error("a string holds a lone surrogate, which is not Unicode text");
    }
    return {p, static_cast<std::size_t>(size)};
  }

  // int.__repr__, as json.dumps writes an int (an IntEnum member too).
  void integer(PyObject* v) {
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0 && !(n == -1 && PyErr_Occurred())) {
      char digits[24];
      out_.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
      return;
    }
    PyErr_Clear();
    py::object text = py::reinterpret_steal<py::object>(PyLong_Type.tp_repr(v));
    if (!text) throw py::error_already_set();
    out_ += utf8(text.ptr());
  }

  void number(double d) {
    if (!std::isfinite(d))
      throw py::value_error("Out of range float values are not JSON compliant: " +
                            std::to_string(d));
    char digits[32];
    char* end = std::to_chars(digits, digits + sizeof digits, d).ptr;
    std::string_view text(digits, static_cast<std::size_t>(end - digits));
    out_ += text;
    // A whole float keeps a fraction, so it reads back as a float (Python's repr does the same).
    if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";
  }

  void enter(std::size_t depth) const {
    if (depth > maxDepth_)
      throw py::value_error("payload nested deeper than " + std::to_string(maxDepth_) +
                            " levels (or a container that holds itself)");
  }

  // json.dumps turns keys of these types into strings; any other key is a TypeError.
  void key(PyObject* k) {
    if (PyUnicode_Check(k)) {
      detail::json::appendString(out_, utf8(k));
      return;
    }
    out_ += '"';
    if (k == Py_None) {
      out_ += "null";
    } else if (k == Py_True) {
      out_ += "true";
    } else if (k == Py_False) {
      out_ += "false";
    } else if (PyLong_Check(k)) {
      integer(k);
    } else if (PyFloat_Check(k)) {
      number(PyFloat_AS_DOUBLE(k));
    } else {
      throw py::type_error(std::string("keys must be str, int, float, bool or None, not ") +
                           Py_TYPE(k)->tp_name);
    }
    out_ += '"';
  }

  void object(PyObject* d, std::size_t depth) {
    enter(depth);
    out_ += '{';
    Py_ssize_t pos = 0;
    PyObject *k = nullptr, *v = nullptr;
    bool first = true;
    while (PyDict_Next(d, &pos, &k, &v)) {
      if (!first) out_ += ',';
      first = false;
      key(k);
      out_ += ':';
      value(v, depth);
    }
    out_ += '}';
  }

  void array(PyObject* a, std::size_t depth) {
    enter(depth);
    out_ += '[';
    const bool list = PyList_Check(a);
    // The size is read again each time: nothing here runs Python code that could change it,
    // but a stale size must never index past the end.
    for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(a) : PyTuple_GET_SIZE(a)); ++i) {
      if (i) out_ += ',';
      value(list ? PyList_GET_ITEM(a, i) : PyTuple_GET_ITEM(a, i), depth);
    }
    out_ += ']';
  }

  std::string& out_;
  std::size_t maxDepth_;
};

}  // namespace

std::string encodeJson(py::handle value, std::size_t maxDepth) {
  std::string out;
  out.reserve(1024);
  Encoder(out, maxDepth).value(value.ptr(), 0);
  return out;
}

}  // namespace ifmesh::python
