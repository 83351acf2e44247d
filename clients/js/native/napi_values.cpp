#include "napi_values.hpp"

#include "ifmesh/error.hpp"

namespace ifmesh::node {

bool throwError(napi_env env, const char* code, const std::string& message) {
  napi_value msg, err, codeValue;
  napi_create_string_utf8(env, message.c_str(), message.size(), &msg);
  napi_create_error(env, nullptr, msg, &err);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &codeValue);
  napi_set_named_property(env, err, "code", codeValue);
  napi_throw(env, err);
  return false;
}

void throwFrom(napi_env env, const std::exception& e) {
  if (auto* ie = dynamic_cast<const ifmesh::Error*>(&e))
    throwError(env, ifmesh::codeName(ie->code()), ie->what());
  else
    throwError(env, "Internal", e.what());
}

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value stringValue(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.data(), s.size(), &v);
  return v;
}

std::optional<std::string> stringArg(napi_env env, napi_value v, const char* what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) {
    throwError(env, "InvalidArgument", std::string(what) + " must be a string");
    return std::nullopt;
  }
  std::size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, s.data(), len + 1, &len);
  return s;
}

std::optional<double> numberArg(napi_env env, napi_value v, const char* what) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    throwError(env, "InvalidArgument", std::string(what) + " must be a number");
    return std::nullopt;
  }
  return d;
}

napi_value property(napi_env env, napi_value object, const char* name) {
  napi_value v = nullptr;
  bool has = false;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return nullptr;
  napi_get_named_property(env, object, name, &v);
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null ? nullptr : v;
}

napi_value number(napi_env env, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  return v;
}

bool pendingException(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  return pending;
}

}  // namespace ifmesh::node
