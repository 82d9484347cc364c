// ort_direct: Searchlight's own binding to ONNX Runtime's C API, for the one thing
// onnxruntime-node cannot do — hand a run's outputs to JavaScript without copying them.
//
// Why: onnxruntime-node 1.30 copies every fetched output into a fresh ArrayBuffer, even when a
// preallocated output is passed (checked: ORT writes the preallocated buffer, and the returned
// tensor is a copy). A run-with-cache of every hook of the hallway model at 32 × 256 fetches
// ~950 MiB, and allocating + filling that much fresh memory alone took ~500 ms here, 2× a whole
// forward pass. This binding lets ORT allocate each output from its own CPU arena (which keeps and
// reuses its memory, so no page faults after the first runs) and gives JavaScript an external
// ArrayBuffer over that memory; the OrtValue is released when the ArrayBuffer is collected.
//
// It loads the very libonnxruntime that onnxruntime-node ships (path passed in by the caller), so
// there is one ONNX Runtime in the process. No ORT header is vendored: ORT's C API is a table of
// function pointers (struct OrtApi) that only ever grows at the end, so calling a member needs only
// its index, its signature, and the values of a few enums. Those facts come from ORT's public C API
// documentation (onnxruntime_c_api.h); the indices used here are all in the part frozen since
// ORT_API_VERSION 1 (0–101) or present since version 7 (AddSessionConfigEntry).
//
// Everything ORT does runs on libuv's thread pool (napi_async_work), never on the JS thread.

#include <dlfcn.h>
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

// ---- the slice of ORT's C API we use ---------------------------------------------------------

using OrtStatus = void;
using OrtEnv = void;
using OrtSession = void;
using OrtSessionOptions = void;
using OrtValue = void;
using OrtMemoryInfo = void;
using OrtAllocator = void;
using OrtTensorTypeAndShapeInfo = void;

// Index of each OrtApi member called (0-based position in struct OrtApi).
enum ApiIndex : size_t {
  kGetErrorMessage = 2,
  kCreateEnv = 3,
  kCreateSessionFromArray = 8,
  kRun = 9,
  kCreateSessionOptions = 10,
  kSetSessionExecutionMode = 13,
  kEnableMemPattern = 16,
  kDisableMemPattern = 17,
  kSetSessionGraphOptimizationLevel = 23,
  kSetIntraOpNumThreads = 24,
  kSetInterOpNumThreads = 25,
  kSessionGetInputCount = 30,
  kSessionGetOutputCount = 31,
  kSessionGetInputName = 36,
  kSessionGetOutputName = 37,
  kCreateTensorWithDataAsOrtValue = 49,
  kGetTensorMutableData = 51,
  kGetTensorElementType = 60,
  kGetDimensionsCount = 61,
  kGetDimensions = 62,
  kGetTensorTypeAndShape = 65,
  kCreateCpuMemoryInfo = 69,
  kAllocatorFree = 76,
  kGetAllocatorWithDefaultOptions = 78,
  kReleaseEnv = 92,
  kReleaseStatus = 93,
  kReleaseMemoryInfo = 94,
  kReleaseSession = 95,
  kReleaseValue = 96,
  kReleaseTensorTypeAndShapeInfo = 99,
  kReleaseSessionOptions = 100,
  kAddSessionConfigEntry = 130,
  kCreateAndRegisterAllocator = 144,
};

// The API version asked of OrtGetApiBase()->GetApi: the oldest that has every member above.
constexpr uint32_t kApiVersion = 7;

// Enum values from the C API (OrtLoggingLevel, ExecutionMode, OrtAllocatorType, OrtMemType) and
// ONNX's TensorProto.DataType numbering (ONNXTensorElementDataType uses the same numbers).
constexpr int kLoggingWarning = 2;
constexpr int kExecutionSequential = 0;
constexpr int kArenaAllocator = 1;
constexpr int kMemTypeDefault = 0;
enum ElementType : int { kFloat = 1, kUint8 = 2, kInt32 = 6, kInt64 = 7, kBool = 9 };

struct OrtApiBase {
  const void* (*GetApi)(uint32_t version);
  const char* (*GetVersionString)();
};

struct Api {
  void* const* table = nullptr;
  template <typename Fn>
  Fn at(ApiIndex i) const { return reinterpret_cast<Fn>(table[i]); }
};

// Process-wide state, set once by init (under g_init_mutex: worker threads may load the addon too).
std::mutex g_init_mutex;
Api g_api;
OrtEnv* g_env = nullptr;
OrtMemoryInfo* g_cpu_info = nullptr;
std::string g_version;
// Whether our sessions share one CPU arena registered with the env (see Init).
bool g_shared_arena = false;

// Tags our session handles, so a foreign External is never taken for a Session (N-API 8).
const napi_type_tag kSessionTag = {0x5ea4c41167a1e0d1ULL, 0x0a7d14ec70a11e55ULL};

// Largest ArrayBuffer Node 20 makes (buffer.constants.MAX_LENGTH); a bigger output is an error.
constexpr uint64_t kMaxArrayBufferBytes = uint64_t{1} << 32;

// Returns the error message of `status` (and releases it); "" when status is null (success).
std::string TakeError(OrtStatus* status) {
  if (status == nullptr) return "";
  auto msg = g_api.at<const char* (*)(const OrtStatus*)>(kGetErrorMessage)(status);
  std::string out = msg ? msg : "unknown ONNX Runtime error";
  g_api.at<void (*)(OrtStatus*)>(kReleaseStatus)(status);
  return out;
}

// The typed-array kind that holds each element type (bool as bytes 0/1).
bool KindMatches(int type, napi_typedarray_type kind) {
  switch (type) {
    case kFloat: return kind == napi_float32_array;
    case kInt32: return kind == napi_int32_array;
    case kInt64: return kind == napi_bigint64_array;
    case kUint8: case kBool: return kind == napi_uint8_array;
    default: return false;
  }
}

size_t ElementSize(int type) {
  switch (type) {
    case kFloat: case kInt32: return 4;
    case kInt64: return 8;
    case kUint8: case kBool: return 1;
    default: return 0;
  }
}

// ---- N-API helpers --------------------------------------------------------------------------

#define NAPI_OK(call)                                        \
  do {                                                       \
    if ((call) != napi_ok) return ThrowLast(env, #call);     \
  } while (0)

napi_value ThrowLast(napi_env env, const char* what) {
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    std::string msg = std::string("ort_direct: ") + (info && info->error_message ? info->error_message : "N-API call failed") + " in " + what;
    napi_throw_error(env, nullptr, msg.c_str());
  }
  return nullptr;
}

// Clears a pending JS exception (left by a failed N-API call) so a promise can still be rejected.
void ClearPending(napi_env env) {
  bool pending = false;
  napi_value ignored;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
}

napi_value Throw(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return nullptr;
}

bool GetString(napi_env env, napi_value v, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  out->resize(len);
  return napi_get_value_string_utf8(env, v, out->data(), len + 1, &len) == napi_ok;
}

napi_value Str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.data(), s.size(), &v);
  return v;
}

napi_value RejectWith(napi_env env, napi_deferred deferred, const std::string& msg) {
  napi_value err;
  napi_create_error(env, nullptr, Str(env, msg), &err);
  napi_reject_deferred(env, deferred, err);
  return nullptr;
}

// ---- init(libPath) --------------------------------------------------------------------------

// {version, sharedArena}: ORT's version, and whether our sessions share one CPU arena.
napi_value InitResult(napi_env env) {
  napi_value obj, shared;
  napi_create_object(env, &obj);
  napi_get_boolean(env, g_shared_arena, &shared);
  napi_set_named_property(env, obj, "version", Str(env, g_version));
  napi_set_named_property(env, obj, "sharedArena", shared);
  return obj;
}

// init(libPath: string): {version, sharedArena} — loads ORT from libPath and creates the
// environment. Idempotent.
napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  std::lock_guard<std::mutex> lock(g_init_mutex);
  if (g_cpu_info != nullptr) return InitResult(env);  // set last: everything before it is ready
  std::string path;
  if (argc < 1 || !GetString(env, argv[0], &path)) return Throw(env, "ort_direct.init: expected the path of libonnxruntime");
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return Throw(env, std::string("ort_direct.init: cannot load ") + path + ": " + dlerror());
  auto get_base = reinterpret_cast<const OrtApiBase* (*)()>(dlsym(lib, "OrtGetApiBase"));
  if (get_base == nullptr) return Throw(env, "ort_direct.init: " + path + " has no OrtGetApiBase");
  const OrtApiBase* base = get_base();
  const std::string version = base->GetVersionString();
  Api api;
  api.table = static_cast<void* const*>(base->GetApi(kApiVersion));
  if (api.table == nullptr) return Throw(env, "ort_direct.init: ONNX Runtime " + version + " does not offer C API version " + std::to_string(kApiVersion));
  g_api = api;  // TakeError needs it; harmless if the rest fails (same library, same table)
  OrtEnv* ort_env = nullptr;
  OrtMemoryInfo* cpu_info = nullptr;
  std::string err = TakeError(api.at<OrtStatus* (*)(int, const char*, OrtEnv**)>(kCreateEnv)(kLoggingWarning, "searchlight", &ort_env));
  if (err.empty()) err = TakeError(api.at<OrtStatus* (*)(int, int, OrtMemoryInfo**)>(kCreateCpuMemoryInfo)(kArenaAllocator, kMemTypeDefault, &cpu_info));
  if (!err.empty()) {
    if (ort_env) api.at<void (*)(OrtEnv*)>(kReleaseEnv)(ort_env);
    return Throw(env, "ort_direct.init: " + err);
  }
  // One CPU arena for all our sessions instead of one per session. Outputs handed to JS live in the
  // arena until the GC frees them, so per-session arenas each kept their own peak of outputs (two
  // all-hook graph variants at hallway 32 × 256 held more than onnxruntime-node's copies did);
  // `npm run bench -- cache` prints what stays resident. The arena lasts as long as the env (the
  // process). Failure (e.g. another user of this env registered one first) is not fatal: sessions
  // then keep their own arenas.
  g_shared_arena = TakeError(api.at<OrtStatus* (*)(OrtEnv*, const OrtMemoryInfo*, const void*)>(kCreateAndRegisterAllocator)(ort_env, cpu_info, nullptr)).empty();
  g_version = version;
  g_env = ort_env;
  g_cpu_info = cpu_info;
  return InitResult(env);
}

// ---- sessions -------------------------------------------------------------------------------

// A session and the runs in flight on it. Only the JS thread touches `inflight` and `released`
// (Run, CompleteRun, Release and the finalizer all run there), so they need no lock.
struct Session {
  OrtSession* session = nullptr;
  std::vector<std::string> inputs, outputs;
  int inflight = 0;
  bool released = false;
};

// Releases the ORT session once it is released by the caller and no run is using it.
void MaybeReleaseSession(Session* s) {
  if (s->released && s->inflight == 0 && s->session != nullptr) {
    g_api.at<void (*)(OrtSession*)>(kReleaseSession)(s->session);
    s->session = nullptr;
  }
}

// The handle's finalizer: runs hold a reference to the handle, so no run is in flight here.
void FinalizeSession(napi_env, void* data, void*) {
  auto* s = static_cast<Session*>(data);
  s->released = true;
  MaybeReleaseSession(s);
  delete s;
}

struct CreateWork {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref model_ref = nullptr;
  const void* model = nullptr;
  size_t model_len = 0;
  int threads = 0, opt_level = 99;
  bool spin = false, mem_pattern = true;
  Session* result = nullptr;
  std::string error;
};

std::vector<std::string> Names(OrtSession* s, bool inputs, std::string* error) {
  std::vector<std::string> names;
  size_t n = 0;
  *error = TakeError(g_api.at<OrtStatus* (*)(const OrtSession*, size_t*)>(inputs ? kSessionGetInputCount : kSessionGetOutputCount)(s, &n));
  OrtAllocator* alloc = nullptr;
  if (error->empty()) *error = TakeError(g_api.at<OrtStatus* (*)(OrtAllocator**)>(kGetAllocatorWithDefaultOptions)(&alloc));
  for (size_t i = 0; i < n && error->empty(); i++) {
    char* name = nullptr;
    *error = TakeError(g_api.at<OrtStatus* (*)(const OrtSession*, size_t, OrtAllocator*, char**)>(inputs ? kSessionGetInputName : kSessionGetOutputName)(s, i, alloc, &name));
    if (name) {
      names.emplace_back(name);
      TakeError(g_api.at<OrtStatus* (*)(OrtAllocator*, void*)>(kAllocatorFree)(alloc, name));
    }
  }
  return names;
}

void ExecuteCreate(napi_env, void* data) {
  auto* w = static_cast<CreateWork*>(data);
  OrtSessionOptions* so = nullptr;
  std::string& err = w->error;
  err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions**)>(kCreateSessionOptions)(&so));
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetSessionExecutionMode)(so, kExecutionSequential));
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetSessionGraphOptimizationLevel)(so, w->opt_level));
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetInterOpNumThreads)(so, 1));
  if (err.empty() && w->threads > 0) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, int)>(kSetIntraOpNumThreads)(so, w->threads));
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*)>(w->mem_pattern ? kEnableMemPattern : kDisableMemPattern)(so));
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, const char*, const char*)>(kAddSessionConfigEntry)(so, "session.intra_op.allow_spinning", w->spin ? "1" : "0"));
  if (err.empty() && g_shared_arena) err = TakeError(g_api.at<OrtStatus* (*)(OrtSessionOptions*, const char*, const char*)>(kAddSessionConfigEntry)(so, "session.use_env_allocators", "1"));
  OrtSession* session = nullptr;
  if (err.empty()) err = TakeError(g_api.at<OrtStatus* (*)(const OrtEnv*, const void*, size_t, const OrtSessionOptions*, OrtSession**)>(kCreateSessionFromArray)(g_env, w->model, w->model_len, so, &session));
  if (so) g_api.at<void (*)(OrtSessionOptions*)>(kReleaseSessionOptions)(so);
  if (!err.empty()) return;
  auto* s = new Session();
  s->session = session;
  s->inputs = Names(session, true, &err);
  if (err.empty()) s->outputs = Names(session, false, &err);
  if (!err.empty()) {
    FinalizeSession(nullptr, s, nullptr);
    return;
  }
  w->result = s;
}

napi_value NameArray(napi_env env, const std::vector<std::string>& names) {
  napi_value arr;
  napi_create_array_with_length(env, names.size(), &arr);
  for (size_t i = 0; i < names.size(); i++) napi_set_element(env, arr, i, Str(env, names[i]));
  return arr;
}

void CompleteCreate(napi_env env, napi_status, void* data) {
  auto* w = static_cast<CreateWork*>(data);
  if (w->result == nullptr) {
    RejectWith(env, w->deferred, w->error.empty() ? "session creation failed" : w->error);
  } else {
    napi_value handle, obj;
    bool made = napi_create_external(env, w->result, FinalizeSession, nullptr, &handle) == napi_ok;
    if (!made) FinalizeSession(env, w->result, nullptr);  // no handle: nothing else will release it
    if (!made || napi_type_tag_object(env, handle, &kSessionTag) != napi_ok) {  // (a made handle finalizes itself)
      ClearPending(env);
      RejectWith(env, w->deferred, "ort_direct: cannot create the session handle");
      napi_delete_reference(env, w->model_ref);
      napi_delete_async_work(env, w->work);
      delete w;
      return;
    }
    napi_create_object(env, &obj);
    napi_set_named_property(env, obj, "handle", handle);
    napi_set_named_property(env, obj, "inputNames", NameArray(env, w->result->inputs));
    napi_set_named_property(env, obj, "outputNames", NameArray(env, w->result->outputs));
    napi_resolve_deferred(env, w->deferred, obj);
  }
  napi_delete_reference(env, w->model_ref);
  napi_delete_async_work(env, w->work);
  delete w;
}

// obj[key] when it holds a value of JS type `want`, else nullptr.
napi_value PropertyOfType(napi_env env, napi_value obj, const char* key, napi_valuetype want) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != want) {
    ClearPending(env);  // (a throwing getter reads as "absent")
    return nullptr;
  }
  return v;
}

int32_t GetInt(napi_env env, napi_value obj, const char* key, int32_t fallback) {
  napi_value v = PropertyOfType(env, obj, key, napi_number);
  int32_t out = fallback;
  if (v) napi_get_value_int32(env, v, &out);
  return out;
}

bool GetBool(napi_env env, napi_value obj, const char* key, bool fallback) {
  napi_value v = PropertyOfType(env, obj, key, napi_boolean);
  bool out = fallback;
  if (v) napi_get_value_bool(env, v, &out);
  return out;
}

// The data pointer and byte length of a TypedArray, and its kind. (Asking for the ArrayBuffer
// moves a small on-heap typed array's contents off V8's heap, so the pointer stays put.)
bool TypedArrayBytes(napi_env env, napi_value v, void** data, size_t* bytes, napi_typedarray_type* kind = nullptr) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return false;
  if (kind) *kind = type;
  size_t el = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: el = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
    default: el = 1;
  }
  *bytes = length * el;
  return true;
}

// createSession(model: Uint8Array, opts: {threads?, spin?, memPattern?, optLevel?}):
//   Promise<{handle, inputNames, outputNames}>
napi_value CreateSession(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (g_cpu_info == nullptr) return Throw(env, "ort_direct.createSession: call init first");
  auto* w = new CreateWork();
  void* data = nullptr;
  if (argc < 2 || !TypedArrayBytes(env, argv[0], &data, &w->model_len)) {
    delete w;
    return Throw(env, "ort_direct.createSession: expected (model: Uint8Array, options)");
  }
  w->model = data;
  w->threads = GetInt(env, argv[1], "threads", 0);
  w->opt_level = GetInt(env, argv[1], "optLevel", 99);
  w->spin = GetBool(env, argv[1], "spin", false);
  w->mem_pattern = GetBool(env, argv[1], "memPattern", true);
  napi_value promise, name;
  // The reference keeps the bytes alive while ORT reads them (callers must not detach them).
  if (napi_create_reference(env, argv[0], 1, &w->model_ref) != napi_ok) {
    delete w;
    return ThrowLast(env, "napi_create_reference");
  }
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "ort_direct.createSession", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, ExecuteCreate, CompleteCreate, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    // (a promise already made stays pending: it is unreachable, as this call throws)
    if (w->work) napi_delete_async_work(env, w->work);
    napi_delete_reference(env, w->model_ref);
    delete w;
    return ThrowLast(env, "queueing the session creation");
  }
  return promise;
}

// ---- run ------------------------------------------------------------------------------------

struct RunWork {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref session_ref = nullptr;
  std::vector<napi_ref> input_refs;  // the input arrays, alive until the run completes
  std::vector<std::pair<const char*, size_t>> input_spans;  // their bytes: [data, data + size)
  Session* session = nullptr;
  std::vector<std::string> input_names, output_names;
  std::vector<OrtValue*> inputs, outputs;
  std::string error;
};

void ReleaseValues(std::vector<OrtValue*>& values) {
  for (auto*& v : values) {
    if (v) g_api.at<void (*)(OrtValue*)>(kReleaseValue)(v);
    v = nullptr;
  }
}

void ExecuteRun(napi_env, void* data) {
  auto* w = static_cast<RunWork*>(data);
  std::vector<const char*> in_names, out_names;
  for (auto& n : w->input_names) in_names.push_back(n.c_str());
  for (auto& n : w->output_names) out_names.push_back(n.c_str());
  w->outputs.assign(out_names.size(), nullptr);  // null: ORT allocates each output from its arena
  w->error = TakeError(g_api.at<OrtStatus* (*)(OrtSession*, const void*, const char* const*, const OrtValue* const*, size_t, const char* const*, size_t, OrtValue**)>(kRun)(
      w->session->session, nullptr, in_names.data(), w->inputs.data(), w->inputs.size(), out_names.data(), out_names.size(), w->outputs.data()));
}

// Owner of an output handed to JS: the finalizer of its external ArrayBuffer releases it. Node may
// run that finalizer synchronously inside a failing napi_create_external_arraybuffer, so the
// creator and the finalizer agree through `creating`/`finalized` on who deletes what.
struct Held {
  OrtValue* value;
  bool creating = true;
  bool finalized = false;
};

void FinalizeOutput(napi_env, void*, void* hint) {
  auto* h = static_cast<Held*>(hint);
  g_api.at<void (*)(OrtValue*)>(kReleaseValue)(h->value);
  if (h->creating) h->finalized = true;  // the creator deletes h
  else delete h;
}

// {type, dims, data: ArrayBuffer} for output value v; takes ownership of v. `inputs` are the run's
// input spans: an output that is a graph input is ORT's view of that JS memory, so it is copied
// (wrapping it would leave the ArrayBuffer pointing at memory its owner may free).
bool OutputObject(napi_env env, OrtValue* v, const std::vector<std::pair<const char*, size_t>>& inputs, napi_value* out, std::string* error) {
  auto release = [&]() { g_api.at<void (*)(OrtValue*)>(kReleaseValue)(v); };
  OrtTensorTypeAndShapeInfo* ti = nullptr;
  int type = 0;
  size_t rank = 0;
  std::vector<int64_t> dims;
  void* data = nullptr;
  *error = TakeError(g_api.at<OrtStatus* (*)(const OrtValue*, OrtTensorTypeAndShapeInfo**)>(kGetTensorTypeAndShape)(v, &ti));
  if (error->empty()) *error = TakeError(g_api.at<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int*)>(kGetTensorElementType)(ti, &type));
  if (error->empty()) *error = TakeError(g_api.at<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, size_t*)>(kGetDimensionsCount)(ti, &rank));
  if (error->empty()) {
    dims.resize(rank);
    *error = TakeError(g_api.at<OrtStatus* (*)(const OrtTensorTypeAndShapeInfo*, int64_t*, size_t)>(kGetDimensions)(ti, dims.data(), rank));
  }
  if (ti) g_api.at<void (*)(OrtTensorTypeAndShapeInfo*)>(kReleaseTensorTypeAndShapeInfo)(ti);
  if (error->empty()) *error = TakeError(g_api.at<OrtStatus* (*)(OrtValue*, void**)>(kGetTensorMutableData)(v, &data));
  if (error->empty() && ElementSize(type) == 0) *error = "an output has element type " + std::to_string(type) + ", which Searchlight does not read";
  uint64_t bytes = ElementSize(type);
  for (int64_t d : dims) bytes *= static_cast<uint64_t>(d);
  if (error->empty() && bytes > kMaxArrayBufferBytes) {
    *error = "an output of " + std::to_string(bytes) + " bytes exceeds the largest ArrayBuffer Node makes (4 GiB); ask for fewer rows or positions";
  }
  if (!error->empty()) {
    release();
    return false;
  }
  const char* begin = static_cast<const char*>(data);
  bool aliases_input = false;
  for (auto& span : inputs) aliases_input |= begin != nullptr && begin < span.first + span.second && span.first < begin + bytes;
  napi_value ab;
  if (bytes == 0 || data == nullptr || aliases_input) {
    void* copy = nullptr;
    napi_status st = napi_create_arraybuffer(env, bytes, &copy, &ab);
    if (st == napi_ok && bytes > 0) std::memcpy(copy, data, bytes);
    release();
    if (st != napi_ok) {
      ClearPending(env);
      *error = "cannot allocate an ArrayBuffer of " + std::to_string(bytes) + " bytes for an output";
      return false;
    }
  } else {
    auto* held = new Held{v};
    napi_status st = napi_create_external_arraybuffer(env, data, bytes, FinalizeOutput, held, &ab);
    held->creating = false;
    if (st != napi_ok) {
      if (!held->finalized) release();
      delete held;
      ClearPending(env);
      *error = "cannot wrap an output in an ArrayBuffer";
      return false;
    }
  }
  napi_value obj, jdims, jtype;
  napi_create_object(env, &obj);
  napi_create_array_with_length(env, rank, &jdims);
  for (size_t i = 0; i < rank; i++) {
    napi_value d;
    napi_create_double(env, static_cast<double>(dims[i]), &d);
    napi_set_element(env, jdims, i, d);
  }
  napi_create_int32(env, type, &jtype);
  napi_set_named_property(env, obj, "type", jtype);
  napi_set_named_property(env, obj, "dims", jdims);
  napi_set_named_property(env, obj, "data", ab);
  *out = obj;
  return true;
}

void CompleteRun(napi_env env, napi_status, void* data) {
  auto* w = static_cast<RunWork*>(data);
  w->session->inflight--;
  MaybeReleaseSession(w->session);
  if (!w->error.empty()) {
    ReleaseValues(w->outputs);
    RejectWith(env, w->deferred, w->error);
  } else {
    napi_value arr;
    napi_create_array_with_length(env, w->outputs.size(), &arr);
    std::string err;
    for (size_t i = 0; i < w->outputs.size(); i++) {
      napi_value o;
      OrtValue* v = w->outputs[i];
      w->outputs[i] = nullptr;
      if (!err.empty()) {
        g_api.at<void (*)(OrtValue*)>(kReleaseValue)(v);
      } else if (OutputObject(env, v, w->input_spans, &o, &err)) {  // (on failure it released v)
        napi_set_element(env, arr, i, o);
      }
    }
    if (err.empty()) napi_resolve_deferred(env, w->deferred, arr);
    else RejectWith(env, w->deferred, "ort_direct.run: " + err);
  }
  // Inputs last: an output checked against their spans above must not outlive them unchecked.
  ReleaseValues(w->inputs);  // views over JS memory; the arrays themselves stay with their owners
  for (auto r : w->input_refs) napi_delete_reference(env, r);
  napi_delete_reference(env, w->session_ref);
  napi_delete_async_work(env, w->work);
  delete w;
}

// run(handle, inputNames: string[], inputs: {type: number, dims: number[], data: TypedArray}[],
//     outputNames: string[]): Promise<{type, dims, data: ArrayBuffer}[]>
// The inputs are read in place (no copy): callers must not write, detach, transfer or resize them
// until the promise settles.
napi_value Run(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) return Throw(env, "ort_direct.run: expected (session, inputNames, inputs, outputNames)");
  Session* s = nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, argv[0], &kSessionTag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&s)) != napi_ok) {
    ClearPending(env);
    return Throw(env, "ort_direct.run: the first argument is not a session handle");
  }
  if (s->released) return Throw(env, "ort_direct.run: the session was released");
  auto* w = new RunWork();
  w->session = s;
  auto fail = [&](const std::string& msg) {
    ReleaseValues(w->inputs);
    for (auto r : w->input_refs) napi_delete_reference(env, r);
    if (w->session_ref) napi_delete_reference(env, w->session_ref);
    if (w->work) napi_delete_async_work(env, w->work);
    delete w;
    ClearPending(env);
    return Throw(env, "ort_direct.run: " + msg);
  };
  uint32_t n_in = 0, n_in2 = 0, n_out = 0;
  if (napi_get_array_length(env, argv[1], &n_in) != napi_ok || napi_get_array_length(env, argv[2], &n_in2) != napi_ok || n_in != n_in2 ||
      napi_get_array_length(env, argv[3], &n_out) != napi_ok)
    return fail("inputNames and inputs must be arrays of one length, outputNames an array");
  for (uint32_t i = 0; i < n_in; i++) {
    napi_value jn, jt, jdims, jdata;
    std::string name;
    if (napi_get_element(env, argv[1], i, &jn) != napi_ok || !GetString(env, jn, &name)) return fail("input names must be strings");
    if (napi_get_element(env, argv[2], i, &jt) != napi_ok) return fail("bad input " + name);
    int type = GetInt(env, jt, "type", 0);
    if (ElementSize(type) == 0) return fail("input " + name + " has an unsupported element type " + std::to_string(type));
    uint32_t rank = 0;
    if (napi_get_named_property(env, jt, "dims", &jdims) != napi_ok || napi_get_array_length(env, jdims, &rank) != napi_ok) return fail("input " + name + " has no dims array");
    std::vector<int64_t> dims(rank);
    size_t count = 1;
    for (uint32_t d = 0; d < rank; d++) {
      napi_value jd;
      int64_t v = -1;
      if (napi_get_element(env, jdims, d, &jd) != napi_ok || napi_get_value_int64(env, jd, &v) != napi_ok || v < 0) return fail("input " + name + " has a bad dimension");
      dims[d] = v;
      count *= static_cast<size_t>(v);
    }
    void* data = nullptr;
    size_t bytes = 0;
    napi_typedarray_type kind;
    if (napi_get_named_property(env, jt, "data", &jdata) != napi_ok || !TypedArrayBytes(env, jdata, &data, &bytes, &kind)) return fail("input " + name + " has no typed-array data");
    if (!KindMatches(type, kind)) return fail("input " + name + ": its typed array does not hold element type " + std::to_string(type));
    if (bytes != count * ElementSize(type)) return fail("input " + name + " has " + std::to_string(bytes) + " bytes for its dims (need " + std::to_string(count * ElementSize(type)) + ")");
    napi_ref ref;
    if (napi_create_reference(env, jdata, 1, &ref) != napi_ok) return fail("cannot hold input " + name);
    w->input_refs.push_back(ref);
    w->input_spans.emplace_back(static_cast<const char*>(data), bytes);
    OrtValue* value = nullptr;
    static char empty_byte;  // ORT wants a non-null pointer even for an empty tensor
    std::string err = TakeError(g_api.at<OrtStatus* (*)(const OrtMemoryInfo*, void*, size_t, const int64_t*, size_t, int, OrtValue**)>(kCreateTensorWithDataAsOrtValue)(
        g_cpu_info, data ? data : &empty_byte, bytes, dims.data(), dims.size(), type, &value));
    if (!err.empty()) return fail("input " + name + ": " + err);
    w->inputs.push_back(value);
    w->input_names.push_back(name);
  }
  for (uint32_t i = 0; i < n_out; i++) {
    napi_value jn;
    std::string name;
    if (napi_get_element(env, argv[3], i, &jn) != napi_ok || !GetString(env, jn, &name)) return fail("output names must be strings");
    w->output_names.push_back(name);
  }
  napi_value promise, name;
  if (napi_create_reference(env, argv[0], 1, &w->session_ref) != napi_ok) return fail("cannot hold the session");
  if (napi_create_string_utf8(env, "ort_direct.run", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, nullptr, name, ExecuteRun, CompleteRun, w, &w->work) != napi_ok)
    return fail("cannot create the run's work item");
  // The promise last: after it exists, the work is queued (a failed queue leaves it unreachable).
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok || napi_queue_async_work(env, w->work) != napi_ok)
    return fail("cannot queue the run");
  s->inflight++;
  return promise;
}

// release(handle): releases the session; runs already in flight finish first, later runs throw.
napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_OK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Session* s = nullptr;
  bool tagged = false;
  if (argc < 1 || napi_check_object_type_tag(env, argv[0], &kSessionTag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], reinterpret_cast<void**>(&s)) != napi_ok) {
    ClearPending(env);
    return Throw(env, "ort_direct.release: expected a session handle");
  }
  s->released = true;
  MaybeReleaseSession(s);
  return nullptr;
}

napi_value ModuleInit(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", nullptr, Init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"createSession", nullptr, CreateSession, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"release", nullptr, Release, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(ort_direct, ModuleInit)
