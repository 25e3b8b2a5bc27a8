#include "xsd_validator.h"

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <mutex>

#include "model/documents.h"

namespace kuajing::testing {

namespace {

void Collect(void* ctx, const char* fmt, ...) {
  auto* out = static_cast<std::string*>(ctx);
  if (out->size() > 2000) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  *out += buf;
}

xmlSchemaPtr Load(const char* path) {
  xmlSchemaParserCtxtPtr ctx = xmlSchemaNewParserCtxt(path);
  xmlSchemaPtr s = xmlSchemaParse(ctx);
  xmlSchemaFreeParserCtxt(ctx);
  return s;
}

}  // namespace

std::string ValidateAgainstCebXsd(std::string_view xml) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  static xmlSchemaPtr import_schema = Load(KJ_SOURCE_DIR "/spec/xsd/import-202205.xsd");
  static xmlSchemaPtr export_schema = Load(KJ_SOURCE_DIR "/spec/xsd/export-202205.xsd");
  if (import_schema == nullptr || export_schema == nullptr)
    return "cannot load the schemas in spec/xsd/";
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "receipt.xml", nullptr,
                                XML_PARSE_NONET);
  if (doc == nullptr) return "not well-formed";
  // The half of the standard is the root's message type (the model knows which are export).
  xmlNodePtr root = xmlDocGetRootElement(doc);
  auto type =
      root ? model::MessageTypeFromRoot(reinterpret_cast<const char*>(root->name)) : std::nullopt;
  xmlSchemaPtr schema = type && model::IsExport(*type) ? export_schema : import_schema;
  std::string errors;
  xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
  xmlSchemaSetValidErrors(v, Collect, Collect, &errors);
  int rc = xmlSchemaValidateDoc(v, doc);
  xmlSchemaFreeValidCtxt(v);
  xmlFreeDoc(doc);
  if (rc != 0 && errors.empty()) errors = "invalid (code " + std::to_string(rc) + ")";
  return rc == 0 ? std::string() : errors;
}

}  // namespace kuajing::testing
