// The last overload of every module function: when no binding accepts the arguments, pybind11
// would raise a TypeError that dumps every C++ signature ("incompatible function arguments").
// This overload runs instead and names the op, the first argument that does not fit and what it
// expects (an integer beyond int64 is a ValueError, a wrong type a TypeError).
//
// It must never take a call that the real binding could serve after conversion: pybind11 tries
// overloads first without implicit conversions, then with them, in order. Its first parameter
// (LastResort) refuses to load in the no-conversion pass, so it is reached only after the real
// binding failed with conversions allowed.
#include <climits>
#include <string>
#include <vector>

#include "python/bindings.h"

namespace kcore::python {
namespace {

struct LastResort {
  py::handle first;
};

}  // namespace
}  // namespace kcore::python

namespace pybind11::detail {
template <>
struct type_caster<kcore::python::LastResort> {
  PYBIND11_TYPE_CASTER(kcore::python::LastResort, const_name("object"));
  bool load(handle src, bool convert) {
    value.first = src;
    return convert;
  }
  static handle cast(const kcore::python::LastResort&, return_value_policy, handle) { return none().release(); }
};
}  // namespace pybind11::detail

namespace kcore::python {
namespace {

struct Param {
  std::string name, type;
  bool has_default;
};

// "op(a: T, b: U = d) -> R" (pybind11's first docstring line) -> [(a, T), (b, U)].
std::vector<Param> parse_signature(const std::string& doc) {
  std::vector<Param> params;
  const size_t open = doc.find('(');
  if (open == std::string::npos) return params;
  int depth = 0;
  std::string cur;
  auto flush = [&] {
    const size_t colon = cur.find(':');
    if (colon != std::string::npos) {
      std::string name = cur.substr(0, colon), type = cur.substr(colon + 1);
      const size_t eq = type.find(" = ");
      const bool has_default = eq != std::string::npos;
      if (has_default) type = type.substr(0, eq);
      auto trim = [](std::string s) {
        const size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
        return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
      };
      params.push_back({trim(name), trim(type), has_default});
    }
    cur.clear();
  };
  for (size_t i = open + 1; i < doc.size(); ++i) {
    const char ch = doc[i];
    if (ch == '[' || ch == '(') ++depth;
    if (ch == ']' || (ch == ')' && depth > 0)) --depth;
    else if (ch == ')' && depth == 0) break;
    if (ch == ',' && depth == 0) flush();
    else cur += ch;
  }
  flush();
  return params;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// An integer (not a bool, not a float); out_of_range set when it does not fit int64.
bool is_integer(py::handle v, bool* out_of_range) {
  if (PyBool_Check(v.ptr()) || PyFloat_Check(v.ptr()) || !PyIndex_Check(v.ptr())) return false;
  py::object i = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
  if (!i) {
    PyErr_Clear();
    return false;
  }
  int overflow = 0;
  PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) *out_of_range = true;
  return true;
}

// "" when v fits the pybind11 type text `type`, else what it expects; *value_error for int64 overflow.
std::string expectation(py::handle v, const std::string& type, py::handle tensor_type, bool* value_error) {
  const bool optional = contains(type, "None");
  if (optional && v.is_none()) return "";
  if (contains(type, "Sequence[typing.SupportsInt")) {
    const std::string want = "a sequence of integers within the int64 range";
    if (!PySequence_Check(v.ptr()) || PyUnicode_Check(v.ptr())) return want;
    for (auto item : py::reinterpret_borrow<py::sequence>(v)) {
      bool big = false;
      if (!is_integer(item, &big)) return want;
      if (big) {
        *value_error = true;
        return want;
      }
    }
    return "";
  }
  if (contains(type, "Tensor")) {
    if (py::isinstance(v, tensor_type)) return "";
    return optional ? "a native kcore tensor or None" : "a native kcore tensor";
  }
  if (contains(type, "typing.SupportsInt")) {
    bool big = false;
    if (!is_integer(v, &big)) return "an integer";
    if (big) *value_error = true;
    return big ? "an integer within the int64 range" : "";
  }
  if (contains(type, "typing.SupportsFloat"))
    return PyFloat_Check(v.ptr()) || PyLong_Check(v.ptr()) || PyIndex_Check(v.ptr()) ? "" : "a real number";
  if (type == "bool") return PyBool_Check(v.ptr()) ? "" : "a bool";
  if (type == "str") return PyUnicode_Check(v.ptr()) ? "" : "a string";
  return "";  // enums and other types: not diagnosed one by one
}

std::string short_repr(py::handle v) {
  std::string r = py::repr(v).cast<std::string>();
  if (r.size() > 80) r = r.substr(0, 77) + "...";
  return std::string(py::str(py::type::handle_of(v).attr("__name__"))) + " " + r;
}

[[noreturn]] void reject(const std::string& op, const std::vector<Param>& params, py::handle tensor_type,
                         const LastResort& first, const py::args& rest, const py::kwargs& kwargs) {
  std::vector<py::handle> given{first.first};
  for (auto a : rest) given.push_back(a);
  std::string names;
  for (size_t i = 0; i < params.size(); ++i) names += (i ? ", " : "") + params[i].name;
  if (given.size() > params.size())
    throw TypeError(op + ": takes " + std::to_string(params.size()) + " arguments (" + names + "), got " +
                    std::to_string(given.size()));
  for (size_t i = 0; i < params.size(); ++i) {
    py::handle v;
    if (i < given.size()) v = given[i];
    else if (kwargs.contains(params[i].name.c_str())) v = kwargs[params[i].name.c_str()];
    else if (params[i].has_default) continue;
    else throw TypeError(op + ": missing argument " + std::to_string(i + 1) + " ('" + params[i].name + "')");
    bool value_error = false;
    const std::string want = expectation(v, params[i].type, tensor_type, &value_error);
    if (want.empty()) continue;
    const std::string msg = op + ": argument " + std::to_string(i + 1) + " ('" + params[i].name + "') must be " + want +
                            ", got " + short_repr(v);
    if (value_error) throw ValueError(msg);
    throw TypeError(msg);
  }
  std::string types;
  for (size_t i = 0; i < given.size(); ++i)
    types += (i ? ", " : "") + std::string(py::str(py::type::handle_of(given[i]).attr("__name__")));
  throw TypeError(op + ": unsupported arguments (" + types + ") for parameters (" + names + ")");
}

}  // namespace

void add_argument_fallbacks(py::module_& m) {
  py::object tensor_type = m.attr("Tensor");  // this module's class (a second engine build has its own)
  std::vector<std::pair<std::string, py::object>> functions;
  for (auto item : m.attr("__dict__").cast<py::dict>()) {
    py::handle fn = item.second;
    if (PyCFunction_Check(fn.ptr()))
      functions.emplace_back(py::str(item.first), py::reinterpret_borrow<py::object>(fn));
  }
  for (auto& [name, fn] : functions) {
    py::object doc = fn.attr("__doc__");
    const std::string text = doc.is_none() ? std::string() : doc.cast<std::string>();
    std::vector<Param> params = parse_signature(text.substr(0, text.find('\n')));
    const std::string op = name;
    m.def(
        name.c_str(),
        [op, params, tensor_type](LastResort first, py::args rest, py::kwargs kwargs) -> py::object {
          reject(op, params, tensor_type, first, rest, kwargs);
        },
        py::sibling(fn), py::doc(text.c_str()));
  }
}

}  // namespace kcore::python
