// The restricted unpickler for PyTorch's data.pkl (see torch_pickle.hpp). A small stack
// machine over the opcodes pickle protocols 2-5 use for a state_dict; every length is checked
// against the bytes left, the stack and memo are capped.
#include "tools/convert/torch_pickle.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "tools/convert/util.hpp"

namespace recur::convert {
namespace {

constexpr size_t kMaxStack = 1 << 20;
constexpr size_t kMaxMemo = 1 << 22;
constexpr int kMaxDepth = 64;  // a state_dict nests a few levels; deep nesting is hostile

// ---- pickle values -------------------------------------------------------------------------
struct PyObj;
using Obj = std::shared_ptr<PyObj>;
struct PyObj {
  enum Kind { none, boolean, integer, floating, str, bytes, tuple, list, dict, global, storage, tensor, mark };
  Kind kind = none;
  int64_t i = 0;
  double f = 0;
  std::string s;             // str, bytes, global "module.name", storage dtype
  std::vector<Obj> items;    // tuple, list; dict as key, value, key, value, ...
  std::string key;           // storage: data/<key>
  int64_t numel = 0;         // storage: elements
  int depth = 0;             // nesting depth of containers below (capped: destruction recurses)
  Obj storage_ref;           // tensor
  int64_t offset = 0;        // tensor storage offset
  std::vector<int64_t> size, stride;
};
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", "float32", 4, true},   {"torch.DoubleStorage", "float64", 8, true},
    {"torch.HalfStorage", "float16", 2, true},    {"torch.BFloat16Storage", "bfloat16", 2, true},
    {"torch.LongStorage", "int64", 8, false},     {"torch.IntStorage", "int32", 4, false},
    {"torch.ShortStorage", "int16", 2, false},    {"torch.CharStorage", "int8", 1, false},
    {"torch.ByteStorage", "uint8", 1, false},     {"torch.BoolStorage", "bool", 1, false},
};

bool allowed_global(const std::string& name) {
  return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
         name == "torch._utils._rebuild_parameter" || storage_type(name) != nullptr;
}

// ---- the restricted unpickler --------------------------------------------------------------
class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, std::string name, size_t max_objects)
      : p_(data), n_(size), name_(std::move(name)), max_objects_(max_objects) {}
  // Objects shared through the memo may form cycles (a list appended to itself): cut them,
  // including objects whose memo slot was stored over later (memoized_ keeps them all).
  ~Unpickler() {
    for (const Obj& o : memoized_) {
      o->items.clear();
      o->storage_ref.reset();
    }
  }

  Result<Obj> run() {
    while (true) {
      if (pos_ >= n_) return trunc();
      size_t at = pos_;
      uint8_t op = p_[pos_++];
      Status s = dispatch(op, at);
      if (!s.ok()) return s;
      if (stopped_) break;
      if (stack_.size() > kMaxStack) return bad(at, "stack too deep");
      if (made_ > max_objects_)
        return bad(at, cat("the pickle builds more than ", max_objects_, " objects, more than a state_dict with this "
                                                                         "archive's storages needs"));
    }
    if (stack_.size() != 1) return bad(pos_, "stack does not hold exactly one value at STOP");
    return stack_.back();
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  std::string name_;
  size_t max_objects_;
  size_t made_ = 0;  // objects built so far
  std::vector<Obj> stack_;
  std::map<uint32_t, Obj> memo_;
  std::vector<Obj> memoized_;  // every object ever stored in the memo
  bool stopped_ = false;

  Obj make(PyObj::Kind k) {
    ++made_;
    auto o = std::make_shared<PyObj>();
    o->kind = k;
    return o;
  }

  Status trunc() { return fail(Errc::truncated, cat(name_, ": pickle ends at byte ", pos_, " before STOP")); }
  Status bad(size_t at, const std::string& why) { return fail(Errc::bad_metadata, cat(name_, ": byte ", at, ": ", why)); }

  bool need(size_t k) const { return n_ - pos_ >= k; }
  uint64_t le(size_t k) {
    uint64_t v = 0;
    for (size_t b = 0; b < k; ++b) v |= uint64_t(p_[pos_ + b]) << (8 * b);
    pos_ += k;
    return v;
  }
  // Adds `child` under `parent`, keeping the nesting depth bounded.
  Status adopt(const Obj& parent, const Obj& child, size_t at) {
    if (child->depth + 1 > kMaxDepth) return bad(at, "containers nested too deeply");
    parent->depth = std::max(parent->depth, child->depth + 1);
    parent->items.push_back(child);
    return Status::Ok();
  }

  Result<Obj> pop(size_t at) {
    if (stack_.empty() || stack_.back()->kind == PyObj::mark) return bad(at, "stack underflow");
    Obj o = stack_.back();
    stack_.pop_back();
    return o;
  }
  // Items above the topmost mark, removing the mark.
  Result<std::vector<Obj>> pop_mark(size_t at) {
    for (size_t k = stack_.size(); k-- > 0;) {
      if (stack_[k]->kind == PyObj::mark) {
        std::vector<Obj> items(stack_.begin() + static_cast<long>(k) + 1, stack_.end());
        stack_.resize(k);
        return items;
      }
    }
    return bad(at, "no MARK on the stack");
  }
  Status push_str(size_t len, PyObj::Kind kind) {
    if (!need(len)) return trunc();
    Obj o = make(kind);
    o->s.assign(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    stack_.push_back(o);
    return Status::Ok();
  }
  Status put(uint32_t idx, size_t at) {
    if (stack_.empty()) return bad(at, "memo put on an empty stack");
    if (memoized_.size() >= kMaxMemo) return bad(at, "memo too large");
    memo_[idx] = stack_.back();
    memoized_.push_back(stack_.back());
    return Status::Ok();
  }
  Status get(uint32_t idx, size_t at) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) return bad(at, cat("memo index ", idx, " was never stored"));
    stack_.push_back(it->second);
    return Status::Ok();
  }
  Status global(const std::string& module, const std::string& name, size_t at) {
    std::string full = module + "." + name;
    if (!allowed_global(full))
      return fail(Errc::unsupported, cat(name_, ": byte ", at, ": pickle global '", full,
                                         "' is not allowed (only a state_dict's OrderedDict, tensors and "
                                         "storages are read; nothing is executed)"));
    Obj o = make(PyObj::global);
    o->s = full;
    stack_.push_back(o);
    return Status::Ok();
  }
  Result<std::string> line(size_t at) {
    for (size_t k = pos_; k < n_ && k - pos_ < 256; ++k) {
      if (p_[k] == '\n') {
        std::string s(reinterpret_cast<const char*>(p_ + pos_), k - pos_);
        pos_ = k + 1;
        return s;
      }
    }
    if (n_ - pos_ < 256) return trunc();
    return bad(at, "GLOBAL name too long");
  }

  Status reduce(size_t at) {
    auto args = pop(at);
    if (!args.ok()) return args.status();
    auto fn = pop(at);
    if (!fn.ok()) return fn.status();
    if ((*fn)->kind != PyObj::global || (*args)->kind != PyObj::tuple) return bad(at, "REDUCE needs a global and a tuple");
    const std::string& g = (*fn)->s;
    const auto& a = (*args)->items;
    if (g == "collections.OrderedDict") {
      if (!a.empty()) return bad(at, "OrderedDict() with arguments");
      stack_.push_back(make(PyObj::dict));
      return Status::Ok();
    }
    if (g == "torch._utils._rebuild_tensor_v2") {
      if (a.size() < 4 || a[0]->kind != PyObj::storage || a[1]->kind != PyObj::integer ||
          a[2]->kind != PyObj::tuple || a[3]->kind != PyObj::tuple)
        return bad(at, "_rebuild_tensor_v2 with unexpected arguments");
      Obj t = make(PyObj::tensor);
      t->storage_ref = a[0];
      t->offset = a[1]->i;
      for (const Obj& d : a[2]->items) {
        if (d->kind != PyObj::integer) return bad(at, "tensor size is not an int tuple");
        t->size.push_back(d->i);
      }
      for (const Obj& d : a[3]->items) {
        if (d->kind != PyObj::integer) return bad(at, "tensor stride is not an int tuple");
        t->stride.push_back(d->i);
      }
      stack_.push_back(t);
      return Status::Ok();
    }
    if (g == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != PyObj::tensor) return bad(at, "_rebuild_parameter without a tensor");
      stack_.push_back(a[0]);
      return Status::Ok();
    }
    return fail(Errc::unsupported, cat(name_, ": byte ", at, ": '", g, "' cannot be called"));
  }

  Status persistent_id(size_t at) {
    auto pid = pop(at);
    if (!pid.ok()) return pid.status();
    const auto& a = (*pid)->items;
    if ((*pid)->kind != PyObj::tuple || a.size() < 5 || a[0]->kind != PyObj::str || a[0]->s != "storage" ||
        a[1]->kind != PyObj::global || a[2]->kind != PyObj::str || a[4]->kind != PyObj::integer)
      return bad(at, "persistent id is not ('storage', type, key, location, numel)");
    const StorageType* st = storage_type(a[1]->s);
    if (!st) return fail(Errc::unsupported, cat(name_, ": storage type '", a[1]->s, "' is not supported"));
    Obj o = make(PyObj::storage);
    o->s = a[1]->s;
    o->key = a[2]->s;
    o->numel = a[4]->i;
    stack_.push_back(o);
    return Status::Ok();
  }

  Status setitems(std::vector<Obj> kv, size_t at) {
    auto d = pop(at);
    if (!d.ok()) return d.status();
    if ((*d)->kind != PyObj::dict) return bad(at, "SETITEM(S) on a non-dict");
    if (kv.size() % 2) return bad(at, "SETITEMS with an odd number of items");
    for (auto& o : kv) RECUR_TRY(adopt(*d, o, at));
    stack_.push_back(*d);
    return Status::Ok();
  }

  Status dispatch(uint8_t op, size_t at) {
    switch (op) {
      case 0x80:  // PROTO
        if (!need(1)) return trunc();
        if (p_[pos_] > 5) return bad(at, cat("pickle protocol ", int(p_[pos_]), " is not supported"));
        ++pos_;
        return Status::Ok();
      case 0x95: {  // FRAME: a length prefix for the opcodes that follow; it must fit the bytes left
        if (!need(8)) return trunc();
        const uint64_t len = le(8);
        if (len > n_ - pos_) return bad(at, cat("FRAME of ", len, " bytes runs past the end of the pickle"));
        return Status::Ok();
      }
      case '}': stack_.push_back(make(PyObj::dict)); return Status::Ok();
      case ']': stack_.push_back(make(PyObj::list)); return Status::Ok();
      case ')': stack_.push_back(make(PyObj::tuple)); return Status::Ok();
      case '(': stack_.push_back(make(PyObj::mark)); return Status::Ok();
      case 'N': stack_.push_back(make(PyObj::none)); return Status::Ok();
      case 0x88: case 0x89: {
        Obj o = make(PyObj::boolean);
        o->i = op == 0x88;
        stack_.push_back(o);
        return Status::Ok();
      }
      case 'K': case 'M': case 'J': {
        size_t k = op == 'K' ? 1 : op == 'M' ? 2 : 4;
        if (!need(k)) return trunc();
        Obj o = make(PyObj::integer);
        uint64_t v = le(k);
        o->i = op == 'J' ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int64_t>(v);
        stack_.push_back(o);
        return Status::Ok();
      }
      case 0x8a: {  // LONG1
        if (!need(1)) return trunc();
        size_t k = p_[pos_++];
        if (k > 8) return bad(at, "LONG1 wider than 64 bits");
        if (!need(k)) return trunc();
        uint64_t v = le(k);
        if (k > 0 && k < 8 && (v >> (8 * k - 1)) & 1) v |= ~uint64_t(0) << (8 * k);  // sign-extend
        Obj o = make(PyObj::integer);
        o->i = static_cast<int64_t>(v);
        stack_.push_back(o);
        return Status::Ok();
      }
      case 'G': {
        if (!need(8)) return trunc();
        uint64_t v = 0;
        for (int b = 0; b < 8; ++b) v = (v << 8) | p_[pos_ + b];
        pos_ += 8;
        Obj o = make(PyObj::floating);
        std::memcpy(&o->f, &v, 8);
        stack_.push_back(o);
        return Status::Ok();
      }
      case 'X': case 'T': case 'B':
        if (!need(4)) return trunc();
        return push_str(le(4), op == 'B' ? PyObj::bytes : PyObj::str);
      case 0x8c: case 'U': case 'C':
        if (!need(1)) return trunc();
        return push_str(le(1), op == 'C' ? PyObj::bytes : PyObj::str);
      case 'q': if (!need(1)) return trunc(); return put(static_cast<uint32_t>(le(1)), at);
      case 'r': if (!need(4)) return trunc(); return put(static_cast<uint32_t>(le(4)), at);
      case 0x94: return put(static_cast<uint32_t>(memo_.size()), at);  // MEMOIZE
      case 'h': if (!need(1)) return trunc(); return get(static_cast<uint32_t>(le(1)), at);
      case 'j': if (!need(4)) return trunc(); return get(static_cast<uint32_t>(le(4)), at);
      case 'c': {
        auto module = line(at);
        if (!module.ok()) return module.status();
        auto name = line(at);
        if (!name.ok()) return name.status();
        return global(*module, *name, at);
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = pop(at);
        if (!name.ok()) return name.status();
        auto module = pop(at);
        if (!module.ok()) return module.status();
        if ((*name)->kind != PyObj::str || (*module)->kind != PyObj::str) return bad(at, "STACK_GLOBAL needs two strings");
        return global((*module)->s, (*name)->s, at);
      }
      case 't': case 'l': case 'd': {
        auto items = pop_mark(at);
        if (!items.ok()) return items.status();
        Obj o = make(op == 't' ? PyObj::tuple : op == 'l' ? PyObj::list : PyObj::dict);
        if (op == 'd' && items->size() % 2) return bad(at, "DICT with an odd number of items");
        for (auto& it : *items) RECUR_TRY(adopt(o, it, at));
        stack_.push_back(o);
        return Status::Ok();
      }
      case 0x85: case 0x86: case 0x87: {
        size_t k = op - 0x84u;
        if (stack_.size() < k) return bad(at, "stack underflow");
        Obj o = make(PyObj::tuple);
        for (size_t j = stack_.size() - k; j < stack_.size(); ++j) {
          if (stack_[j]->kind == PyObj::mark) return bad(at, "MARK inside TUPLEn");
          RECUR_TRY(adopt(o, stack_[j], at));
        }
        stack_.resize(stack_.size() - k);
        stack_.push_back(o);
        return Status::Ok();
      }
      case 'a': {
        auto v = pop(at);
        if (!v.ok()) return v.status();
        if (stack_.empty() || stack_.back()->kind != PyObj::list) return bad(at, "APPEND to a non-list");
        RECUR_TRY(adopt(stack_.back(), *v, at));
        return Status::Ok();
      }
      case 'e': {
        auto items = pop_mark(at);
        if (!items.ok()) return items.status();
        if (stack_.empty() || stack_.back()->kind != PyObj::list) return bad(at, "APPENDS to a non-list");
        for (auto& o : *items) RECUR_TRY(adopt(stack_.back(), o, at));
        return Status::Ok();
      }
      case 's': {
        auto v = pop(at);
        if (!v.ok()) return v.status();
        auto k = pop(at);
        if (!k.ok()) return k.status();
        return setitems({*k, *v}, at);
      }
      case 'u': {
        auto items = pop_mark(at);
        if (!items.ok()) return items.status();
        return setitems(std::move(*items), at);
      }
      case 'Q': return persistent_id(at);
      case 'R': return reduce(at);
      case 'b': {  // BUILD: only a dict's __dict__ (OrderedDict._metadata) is accepted; it is dropped
        auto state = pop(at);
        if (!state.ok()) return state.status();
        if (stack_.empty() || stack_.back()->kind != PyObj::dict) return bad(at, "BUILD on something other than a dict");
        if ((*state)->kind != PyObj::dict && (*state)->kind != PyObj::none) return bad(at, "BUILD with a non-dict state");
        return Status::Ok();
      }
      case '.': stopped_ = true; return Status::Ok();
      default:
        return bad(at, cat("pickle opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
                           " is not allowed in a state_dict"));
    }
  }
};

}  // namespace

// A tensor costs ~32 values (key, rebuild call, persistent id, size/stride tuples, hooks); views
// share storages, and checkpoints add a few scalars: 256 per storage plus 4096 is ample.
size_t pickle_object_budget(size_t storages) { return 256 * (storages + 1) + 4096; }
uint64_t pickle_byte_budget(size_t storages) {
  return std::min<uint64_t>(256ull << 20, (16ull << 10) * (storages + 1) + (1ull << 20));
}

const StorageType* storage_type(const std::string& global) {
  for (const auto& t : kStorageTypes)
    if (global == t.global) return &t;
  return nullptr;
}

Result<PickledStateDict> read_state_dict_pickle(const uint8_t* data, size_t size, const std::string& name,
                                                size_t max_objects) {
  Unpickler up(data, size, name, max_objects);
  auto root = up.run();
  if (!root.ok()) return root.status();
  if ((*root)->kind != PyObj::dict)
    return fail(Errc::unsupported, cat(name, ": the pickle holds no dict: save module.state_dict(), not the module"));
  PickledStateDict out;
  const PyObj* dict = root->get();
  // A training checkpoint {"epoch": ..., "model_state_dict": {...}, "optimizer_state_dict": ...}:
  // take the model's state_dict when the root is not itself a dict of tensors.
  bool all_tensors = true;
  for (size_t k = 1; k < dict->items.size(); k += 2) all_tensors &= dict->items[k]->kind == PyObj::tensor;
  if (!all_tensors) {
    for (const char* want : {"state_dict", "model_state_dict", "model"}) {
      for (size_t k = 0; k + 1 < dict->items.size(); k += 2) {
        const Obj& key = dict->items[k];
        if (key->kind == PyObj::str && key->s == want && dict->items[k + 1]->kind == PyObj::dict) {
          out.from_key = want;
          dict = dict->items[k + 1].get();
          break;
        }
      }
      if (!out.from_key.empty()) break;
    }
  }
  const auto& items = dict->items;
  for (size_t k = 0; k + 1 < items.size(); k += 2) {
    const Obj& key = items[k];
    const Obj& val = items[k + 1];
    if (key->kind != PyObj::str) return fail(Errc::bad_metadata, cat(name, ": state_dict key is not a string"));
    if (val->kind != PyObj::tensor)
      return fail(Errc::unsupported, cat(name, ": entry '", key->s, "' is not a tensor (is this a state_dict?)"));
    PickledTensor t;
    t.name = key->s;
    t.type = storage_type(val->storage_ref->s);
    t.key = val->storage_ref->key;
    t.storage_numel = val->storage_ref->numel;
    t.offset = val->offset;
    t.size = val->size;
    t.stride = val->stride;
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace recur::convert
