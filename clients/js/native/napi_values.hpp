#pragma once
// Small N-API helpers for the addon. A call that fails leaves a JavaScript exception pending and
// returns nothing (false, nullptr or nullopt).
#include <node_api.h>

#include <exception>
#include <optional>
#include <string>

namespace ifmesh::node {

// Throws an Error with `code` set; returns false.
bool throwError(napi_env env, const char* code, const std::string& message);
// An ifmesh::Error becomes an Error whose code is the Errc's name (codeName).
void throwFrom(napi_env env, const std::exception& e);
napi_value undefinedValue(napi_env env);
napi_value stringValue(napi_env env, const std::string& s);
napi_value number(napi_env env, double value);
std::optional<std::string> stringArg(napi_env env, napi_value v, const char* what);
std::optional<double> numberArg(napi_env env, napi_value v, const char* what);
// The named property, or nullptr when it is missing, undefined or null.
napi_value property(napi_env env, napi_value object, const char* name);
bool pendingException(napi_env env);

// Runs `fn` and turns a C++ exception into a JavaScript one.
template <typename F>
napi_value guarded(napi_env env, F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    throwFrom(env, e);
    return nullptr;
  }
}

}  // namespace ifmesh::node
