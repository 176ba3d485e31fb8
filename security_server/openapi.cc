#include "security_server/openapi.h"

#include <cstddef>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace renkei {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::OneofDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr absl::string_view kSchemas = "#/components/schemas/";
constexpr absl::string_view kParameters = "#/components/parameters/";
constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com";

// The document is built as a google.protobuf.Value tree so that protobuf's JSON printer does
// the escaping; these keep the building readable.
using Members = std::initializer_list<std::pair<const std::string, Value>>;

Value Text(absl::string_view text) {
  Value value;
  value.set_string_value(std::string(text));
  return value;
}

Value Flag(bool flag) {
  Value value;
  value.set_bool_value(flag);
  return value;
}

Value Number(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

Value Object(Members members) {
  Value value;
  auto& fields = *value.mutable_struct_value()->mutable_fields();
  for (const auto& [key, member] : members) fields[key] = member;
  return value;
}

Value Array(std::vector<Value> items) {
  Value value;
  auto& list = *value.mutable_list_value();
  for (Value& item : items) *list.add_values() = std::move(item);
  return value;
}

void Put(Value& object, const std::string& key, Value member) {
  (*object.mutable_struct_value()->mutable_fields())[key] = std::move(member);
}

Value Ref(absl::string_view prefix, absl::string_view name) {
  return Object({{"$ref", Text(absl::StrCat(prefix, name))}});
}

// OpenAPI 3.0 ignores keywords beside a $ref, so an annotated reference goes in an allOf.
void Annotate(Value& schema, const std::string& key, Value annotation) {
  if (schema.struct_value().fields().count("$ref") > 0) {
    schema = Object({{"allOf", Array({schema})}});
  }
  Put(schema, key, std::move(annotation));
}

Value Typed(absl::string_view type, absl::string_view format = "") {
  Value schema = Object({{"type", Text(type)}});
  if (!format.empty()) Put(schema, "format", Text(format));
  return schema;
}

// What the printed document will weigh, counted before each piece is built. A provider's
// descriptors can multiply (an enum of 100,000 values is written in place for each of its
// fields; a field's $ref repeats its message's name), and the Value tree costs a few times
// the text it prints as, so the document is refused as soon as it passes kMaxOpenApiBytes,
// not after. The per-piece figures are what the piece prints as with the printer's
// indentation, rounded down: the document is never refused for an overestimate, and
// OpenApiDocument measures the printed text once more. One per document; not thread-safe.
class DocumentBudget {
 public:
  // A property's key and braces; its type costs the rest: a scalar's "type", a $ref's name,
  // an enum's values.
  static constexpr size_t kProperty = 24;
  static constexpr size_t kScalar = 16;
  static constexpr size_t kEnumValue = 10;
  // A component, or a note (description, deprecated) on a property.
  static constexpr size_t kComponent = 40;
  static constexpr size_t kNote = 24;
  // A well-known type written in place (the smallest, Value, is "{}").
  static constexpr size_t kWellKnown = 8;
  // An operation: parameters, answer, error and request body, without the names in them.
  static constexpr size_t kOperation = 1500;
  // info, components.parameters and the Error schema.
  static constexpr size_t kFixed = 2200;

  // Counts `bytes` more; false when the document is over the bound, now or before.
  bool Spend(size_t bytes) {
    spent_ += bytes;
    return !exhausted();
  }
  bool exhausted() const { return spent_ > kMaxOpenApiBytes; }

 private:
  size_t spent_ = 0;
};

absl::Status TooLarge() {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the OpenAPI document of these methods would be larger than ", kMaxOpenApiBytes, " bytes"));
}

Value EnumSchema(const EnumDescriptor& type, DocumentBudget& budget) {
  // NullValue renders as JSON null, which OpenAPI 3.0 cannot state without a type.
  if (type.full_name() == "google.protobuf.NullValue") {
    return Object({{"description", Text("JSON null")}});
  }
  std::vector<Value> names;
  for (int i = 0; i < type.value_count(); ++i) {
    if (!budget.Spend(DocumentBudget::kEnumValue + type.value(i)->name().size())) break;
    names.push_back(Text(type.value(i)->name()));
  }
  Value schema = Typed("string");
  Put(schema, "enum", Array(std::move(names)));
  return schema;
}

// One value of a field that is not a message, as the proto3 JSON mapping prints it.
Value ScalarSchema(const FieldDescriptor& field, DocumentBudget& budget) {
  budget.Spend(DocumentBudget::kScalar);
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return Typed("integer", "int32");
    case FieldDescriptor::CPPTYPE_UINT32: {
      // OpenAPI has no uint32 format; int64 holds every value and the bounds say the rest.
      Value schema = Typed("integer", "int64");
      Put(schema, "minimum", Number(0));
      Put(schema, "maximum", Number(4294967295.0));
      return schema;
    }
    // 64-bit integers are JSON strings, as JavaScript numbers lose precision beyond 2^53.
    case FieldDescriptor::CPPTYPE_INT64:
      return Typed("string", "int64");
    case FieldDescriptor::CPPTYPE_UINT64:
      return Typed("string", "uint64");
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Typed("number", "float");
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Typed("number", "double");
    case FieldDescriptor::CPPTYPE_BOOL:
      return Typed("boolean");
    case FieldDescriptor::CPPTYPE_STRING:
      return field.type() == FieldDescriptor::TYPE_BYTES ? Typed("string", "byte")
                                                         : Typed("string");
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumSchema(*field.enum_type(), budget);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return Object({});
}

// The well-known types that the JSON mapping does not print as an object of their fields.
std::optional<Value> WellKnownSchema(const Descriptor& message, DocumentBudget& budget) {
  const std::string& name = message.full_name();
  if (name == "google.protobuf.Timestamp") return Typed("string", "date-time");
  if (name == "google.protobuf.Duration") {
    Value schema = Typed("string");
    Put(schema, "pattern", Text(R"(^-?[0-9]+(\.[0-9]{1,9})?s$)"));
    return schema;
  }
  if (name == "google.protobuf.FieldMask") {
    Value schema = Typed("string");
    Put(schema, "description", Text("Comma-separated field paths in lowerCamelCase."));
    return schema;
  }
  if (name == "google.protobuf.Struct") {
    Value schema = Typed("object");
    Put(schema, "additionalProperties", Flag(true));
    return schema;
  }
  if (name == "google.protobuf.Value") return Object({});
  if (name == "google.protobuf.ListValue") {
    Value schema = Typed("array");
    Put(schema, "items", Object({}));
    return schema;
  }
  if (name == "google.protobuf.Empty") return Typed("object");
  if (name == "google.protobuf.Any") {
    return Object({{"type", Text("object")},
                   {"required", Array({Text("@type")})},
                   {"properties", Object({{"@type", Typed("string")}})},
                   {"additionalProperties", Flag(true)}});
  }
  if (message.file()->name() == "google/protobuf/wrappers.proto" &&
      message.FindFieldByNumber(1) != nullptr) {
    Value schema = ScalarSchema(*message.FindFieldByNumber(1), budget);
    Put(schema, "nullable", Flag(true));
    return schema;
  }
  return std::nullopt;
}

// The schemas of the messages reachable from the operations, each written once, so that
// recursive messages end in a $ref to a schema already queued. Stops adding once `budget` is
// exhausted: the caller checks it and throws the partial schemas away.
class SchemaCollector {
 public:
  explicit SchemaCollector(DocumentBudget& budget) : budget_(budget) {}

  // A value of `message`: a well-known type in place, else a $ref to its (queued) component.
  Value MessageSchema(const Descriptor& message) {
    if (std::optional<Value> well_known = WellKnownSchema(message, budget_)) {
      budget_.Spend(DocumentBudget::kWellKnown);
      return *well_known;
    }
    budget_.Spend(kSchemas.size() + message.full_name().size());
    if (seen_.insert(message.full_name()).second) pending_.push_back(&message);
    return Ref(kSchemas, message.full_name());
  }

  // Writes the component of every queued message, and of those they reach, into `schemas`.
  void WriteComponents(Value& schemas) {
    while (!pending_.empty() && !budget_.exhausted()) {
      const Descriptor& message = *pending_.front();
      pending_.pop_front();
      budget_.Spend(DocumentBudget::kComponent + message.full_name().size());
      Put(schemas, message.full_name(), ObjectSchema(message));
    }
  }

 private:
  Value ElementSchema(const FieldDescriptor& field) {
    return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
               ? MessageSchema(*field.message_type())
               : ScalarSchema(field, budget_);
  }

  Value FieldSchema(const FieldDescriptor& field) {
    if (field.is_map()) {
      Value schema = Typed("object");
      Put(schema, "additionalProperties", ElementSchema(*field.message_type()->map_value()));
      return schema;
    }
    if (!field.is_repeated()) return ElementSchema(field);
    Value schema = Typed("array");
    Put(schema, "items", ElementSchema(field));
    return schema;
  }

  // "Set at most one field of each oneof: choice (label, rank); kind (a, b)." Each oneof's
  // members are listed here, once: listing them at each member made a document quadratic in
  // the size of a oneof (12,000 members printed 1 GB).
  std::string OneofNote(const Descriptor& message) {
    std::vector<std::string> oneofs;
    for (int i = 0; i < message.real_oneof_decl_count(); ++i) {
      const OneofDescriptor& oneof = *message.oneof_decl(i);
      std::vector<absl::string_view> members;
      if (!budget_.Spend(oneof.name().size() + 5)) return "";
      for (int j = 0; j < oneof.field_count(); ++j) {
        if (!budget_.Spend(oneof.field(j)->json_name().size() + 2)) return "";
        members.push_back(oneof.field(j)->json_name());
      }
      oneofs.push_back(absl::StrCat(oneof.name(), " (", absl::StrJoin(members, ", "), ")"));
    }
    if (oneofs.empty()) return "";
    return absl::StrCat("Set at most one field of each oneof: ", absl::StrJoin(oneofs, "; "), ".");
  }

  Value ObjectSchema(const Descriptor& message) {
    Value properties = Object({});
    std::vector<Value> required;
    for (int i = 0; i < message.field_count(); ++i) {
      const FieldDescriptor& field = *message.field(i);
      if (!budget_.Spend(DocumentBudget::kProperty + field.json_name().size())) break;
      Value schema = FieldSchema(field);
      std::vector<std::string> notes;
      if (const OneofDescriptor* oneof = field.real_containing_oneof()) {
        notes.push_back(absl::StrCat("A member of oneof ", oneof->name(),
                                     ": set at most one of the members the object lists."));
      }
      if (field.is_map() &&
          field.message_type()->map_key()->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        notes.push_back(absl::StrCat("Keys are ", field.message_type()->map_key()->type_name(),
                                     " values written as JSON strings."));
      }
      if (!notes.empty()) {
        std::string note = absl::StrJoin(notes, " ");
        budget_.Spend(DocumentBudget::kNote + note.size());
        Annotate(schema, "description", Text(note));
      }
      if (field.options().deprecated()) {
        budget_.Spend(DocumentBudget::kNote);
        Annotate(schema, "deprecated", Flag(true));
      }
      if (field.is_required()) {
        budget_.Spend(field.json_name().size() + 4);
        required.push_back(Text(field.json_name()));
      }
      Put(properties, field.json_name(), std::move(schema));
    }
    Value schema = Typed("object");
    std::string oneofs = OneofNote(message);
    if (!oneofs.empty()) Put(schema, "description", Text(oneofs));
    Put(schema, "properties", std::move(properties));
    if (!required.empty()) Put(schema, "required", Array(std::move(required)));
    return schema;
  }

  DocumentBudget& budget_;
  std::set<std::string> seen_;
  std::deque<const Descriptor*> pending_;
};

absl::StatusOr<const MethodDescriptor*> FindUnaryMethod(const DescriptorPool& pool,
                                                        const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, '/');
  if (parts.size() != 3 || !parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", name, "\" is not a gRPC method name (/package.Service/Method)"));
  }
  const ServiceDescriptor* service = pool.FindServiceByName(parts[1]);
  const MethodDescriptor* method =
      service == nullptr ? nullptr : service->FindMethodByName(parts[2]);
  if (method == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown method ", name));
  }
  if (method->client_streaming() || method->server_streaming()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is streaming; the REST/JSON entry serves unary methods only"));
  }
  return method;
}

std::string Sanitized(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!keep) c = '_';
  }
  return out;
}

// Operation ids must be unique in a document: Service_Method, qualified by the package when
// two services share a name, numbered when even that is taken.
class OperationIds {
 public:
  std::string Next(const MethodDescriptor& method) {
    std::string id = Sanitized(absl::StrCat(method.service()->name(), "_", method.name()));
    if (taken_.count(id) > 0) id = Sanitized(method.full_name());
    std::string unique = id;
    // Numbering resumes after the last number this stem got (every one before it is taken):
    // many methods that sanitize alike (a.b_c, a_b.c, ...) would otherwise each retry every
    // number before theirs.
    int& number = last_number_[id];  // 0 until the stem is first numbered, from 2
    while (taken_.count(unique) > 0) {
      number = number == 0 ? 2 : number + 1;
      unique = absl::StrCat(id, "_", number);
    }
    taken_.insert(unique);
    return unique;
  }

 private:
  std::set<std::string> taken_;
  std::map<std::string, int> last_number_;
};

Value HeaderParameter(absl::string_view name, bool required, absl::string_view description,
                      Value schema) {
  return Object({{"name", Text(name)},
                 {"in", Text("header")},
                 {"required", Flag(required)},
                 {"description", Text(description)},
                 {"schema", std::move(schema)}});
}

Value Parameters(absl::string_view client) {
  Value client_parameter = HeaderParameter(
      "Renkei-Client", true, "The calling client subsystem, e.g. JP/GOV/MHLW/child-allowance.",
      Typed("string"));
  if (!client.empty()) Put(client_parameter, "example", Text(client));
  Value timeout_schema = Typed("string");
  Put(timeout_schema, "pattern", Text("^[0-9]{1,8}[HMSmun]$"));
  return Object({
      {"Renkei-Client", std::move(client_parameter)},
      {"Renkei-Subject",
       HeaderParameter("Renkei-Subject", true,
                       "A resident concerned: the agency's code for them, never a My Number. "
                       "Repeat the header once per resident (1 to 100 times).",
                       Typed("string"))},
      {"Renkei-Purpose",
       HeaderParameter("Renkei-Purpose", true,
                       "The legal basis or business code of the use (printable ASCII), e.g. "
                       "child-allowance-act/art7/eligibility.",
                       Typed("string"))},
      {"Renkei-User",
       HeaderParameter("Renkei-User", false, "The official acting, if any.", Typed("string"))},
      {"Renkei-Timeout",
       HeaderParameter("Renkei-Timeout", false,
                       "How long the call may take, in gRPC timeout format: up to 8 digits and "
                       "a unit (H, M, S, m for ms, u for µs, n for ns), e.g. 5S or 500m.",
                       std::move(timeout_schema))},
  });
}

Value JsonContent(Value schema) {
  return Object({{"application/json", Object({{"schema", std::move(schema)}})}});
}

Value ErrorSchema() {
  auto described = [](absl::string_view description) {
    Value schema = Typed("string");
    Put(schema, "description", Text(description));
    return schema;
  };
  return Object({{"type", Text("object")},
                 {"required", Array({Text("code"), Text("message"), Text("message_id")})},
                 {"properties",
                  Object({{"code", described("The gRPC status code name, e.g. NOT_FOUND.")},
                          {"message", described("What went wrong.")},
                          {"message_id", described("The exchange's message id; empty when the call "
                                                   "was refused before it had one.")}})}});
}

Value Operation(const MethodDescriptor& method, const std::string& operation_id,
                absl::string_view error_schema, SchemaCollector& schemas) {
  std::vector<Value> parameters;
  for (const char* name :
       {"Renkei-Client", "Renkei-Subject", "Renkei-Purpose", "Renkei-User", "Renkei-Timeout"}) {
    parameters.push_back(Ref(kParameters, name));
  }
  auto message_id = [](absl::string_view description) {
    return Object({{"Renkei-Message-Id",
                    Object({{"description", Text(description)}, {"schema", Typed("string")}})}});
  };
  Value answer =
      Object({{"description", Text("The provider's answer.")},
              {"headers", message_id("The exchange's message id, under which the security servers "
                                     "logged it.")},
              {"content", JsonContent(schemas.MessageSchema(*method.output_type()))}});
  Value error =
      Object({{"description", Text("The call failed: the HTTP status follows the gRPC status code, "
                                   "which the body names.")},
              {"headers", message_id("The exchange's message id, when the call got far enough to "
                                     "have one.")},
              {"content", JsonContent(Ref(kSchemas, error_schema))}});
  return Object(
      {{"operationId", Text(operation_id)},
       {"summary", Text(absl::StrCat(method.service()->name(), ".", method.name()))},
       {"tags", Array({Text(method.service()->full_name())})},
       {"parameters", Array(std::move(parameters))},
       {"requestBody",
        Object({{"description", Text("An empty body is the message with every field unset.")},
                {"content", JsonContent(schemas.MessageSchema(*method.input_type()))}})},
       {"responses", Object({{"200", std::move(answer)}, {"default", std::move(error)}})}});
}

// Deterministic serialization sorts map entries, so the printed object keys come out sorted.
absl::StatusOr<std::string> PrintJson(const Struct& document) {
  std::string binary;
  {
    google::protobuf::io::StringOutputStream stream(&binary);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!document.SerializeToCodedStream(&coded)) {
      return absl::InternalError("cannot serialize the OpenAPI document");
    }
  }
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          std::string(kTypeUrlPrefix), Struct::descriptor()->file()->pool()));
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::BinaryToJsonString(
      resolver.get(), absl::StrCat(kTypeUrlPrefix, "/", Struct::descriptor()->full_name()), binary,
      &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the OpenAPI document: ", status.ToString()));
  }
  return json;
}

}  // namespace

absl::StatusOr<std::string> OpenApiDocument(const OpenApiInput& input) {
  if (input.pool == nullptr) return absl::InvalidArgumentError("no descriptor pool");
  if (input.service.empty()) return absl::InvalidArgumentError("no service subsystem");
  // A message of that name would own the key "Error".
  const std::string error_schema =
      input.pool->FindMessageTypeByName("Error") == nullptr ? "Error" : "renkei.r1.Error";

  DocumentBudget budget;
  budget.Spend(DocumentBudget::kFixed + 2 * input.service.size() + input.client.size());
  SchemaCollector schemas(budget);
  OperationIds operation_ids;
  Value paths = Object({});
  for (const std::string& name :
       std::set<std::string>(input.methods.begin(), input.methods.end())) {
    auto method = FindUnaryMethod(*input.pool, name);
    if (!method.ok()) return method.status();
    if (budget.exhausted()) return TooLarge();
    std::string path = absl::StrCat("/r1/", input.service, "/", (*method)->service()->full_name(),
                                    "/", (*method)->name());
    const std::string operation_id = operation_ids.Next(**method);
    budget.Spend(DocumentBudget::kOperation + path.size() + operation_id.size() +
                 (*method)->full_name().size() + (*method)->service()->full_name().size());
    Put(paths, path, Object({{"post", Operation(**method, operation_id, error_schema, schemas)}}));
  }
  if (budget.exhausted()) return TooLarge();
  Value components_schemas = Object({{error_schema, ErrorSchema()}});
  schemas.WriteComponents(components_schemas);
  if (budget.exhausted()) return TooLarge();

  std::string client = input.client.empty() ? "this client" : input.client;
  Value info = Object(
      {{"title", Text(absl::StrCat("Renkei service ", input.service))},
       {"version", Text(absl::StrCat(input.configuration_version))},
       {"description",
        Text(absl::StrCat(
            "The methods of ", input.service, " that ", client,
            " may call, and only those, as the Renkei security server serves them under "
            "configuration version ",
            input.configuration_version,
            ". Each is a POST of the request message in the proto3 JSON mapping; the security "
            "server sends it to the provider as the signed gRPC call and answers with the "
            "response message in the same mapping."))}});
  Value document = Object({{"openapi", Text("3.0.3")},
                           {"info", std::move(info)},
                           {"paths", std::move(paths)},
                           {"components", Object({{"schemas", std::move(components_schemas)},
                                                  {"parameters", Parameters(input.client)}})}});
  absl::StatusOr<std::string> json = PrintJson(document.struct_value());
  if (json.ok() && json->size() > kMaxOpenApiBytes) return TooLarge();
  return json;
}

}  // namespace renkei
