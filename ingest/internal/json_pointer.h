// File: ingest/internal/json_pointer.h
//
// JsonPointer: a JSON pointer (RFC 6901, e.g. "/objectEvent/epcList/2") built lazily, for
// naming fields while walking a message. Appending a member name or an array index costs
// nothing (no string, no allocation); ToString() spells the pointer out, which the validator
// only does when it reports a violation. Folder-private. Thread-compatible.
//
//   const JsonPointer root;                         // ""
//   const JsonPointer body = root / "objectEvent";  // "/objectEvent"
//   Check(event.epc_list(), body / "epcList");      // "/objectEvent/epcList", during the call
//
// A pointer refers to its parent and to its name, which must outlive it. So children are made
// only of named (lvalue) pointers: a temporary child lives to the end of its full expression,
// long enough as an argument, and `root / "a" / "b"` (a child of a temporary) does not compile.
#ifndef TRACELEDGER_INGEST_INTERNAL_JSON_POINTER_H_
#define TRACELEDGER_INGEST_INTERNAL_JSON_POINTER_H_

#include <string>
#include <string_view>

namespace traceledger::ingest::internal {

class JsonPointer {
 public:
  // The root pointer "": the whole document.
  JsonPointer() = default;

  // The member `name` of this object; `name` must outlive the result (a literal, or a field
  // name owned by a descriptor). Names are used as given: ours need no "~0"/"~1" escapes.
  JsonPointer operator/(std::string_view name) const& { return JsonPointer(this, name, -1); }
  // Element `index` (>= 0) of this array.
  JsonPointer operator/(int index) const& { return JsonPointer(this, {}, index); }
  // Children of temporaries would dangle at the end of the full expression.
  JsonPointer operator/(std::string_view name) const&& = delete;
  JsonPointer operator/(int index) const&& = delete;

  // The pointer's text: "" for the root, else "/" + token for each level from the root.
  std::string ToString() const {
    std::string text;
    AppendTo(text);
    return text;
  }

 private:
  JsonPointer(const JsonPointer* parent, std::string_view name, int index)
      : parent_(parent), name_(name), index_(index) {}

  void AppendTo(std::string& text) const {
    if (parent_ == nullptr) return;  // the root adds nothing
    parent_->AppendTo(text);
    text.push_back('/');
    if (index_ >= 0) {
      text.append(std::to_string(index_));
    } else {
      text.append(name_);
    }
  }

  const JsonPointer* parent_ = nullptr;  // null for the root
  std::string_view name_;                // the member name when index_ < 0
  int index_ = -1;                       // the array index, or -1 for a member
};

}  // namespace traceledger::ingest::internal

#endif  // TRACELEDGER_INGEST_INTERNAL_JSON_POINTER_H_
