#include "xsd_validator.h"

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <mutex>

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

// The export messages are CEB2xx, CEB3xx, CEB4xx, CEB50[5-9]/510, CEB60x, CEB7[09]x; the import
// ones CEB311/312, 411/412, 511-514, 62x, 711/712, 816/818, 900.
bool IsExportRoot(std::string_view xml) {
  static constexpr std::string_view kExport[] = {
      "CEB303", "CEB304", "CEB403", "CEB404", "CEB505", "CEB506", "CEB507", "CEB508",
      "CEB509", "CEB510", "CEB603", "CEB604", "CEB605", "CEB606", "CEB607", "CEB608",
      "CEB213", "CEB214", "CEB215", "CEB216", "CEB701", "CEB702", "CEB792"};
  size_t p = xml.find("CEB");
  if (p == std::string_view::npos) return false;
  std::string_view name = xml.substr(p, 6);
  for (std::string_view e : kExport) {
    if (name == e) return true;
  }
  return false;
}

}  // namespace

std::string ValidateAgainstCebXsd(std::string_view xml) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  static xmlSchemaPtr import_schema = Load(KJ_SOURCE_DIR "/spec/xsd/import-202205.xsd");
  static xmlSchemaPtr export_schema = Load(KJ_SOURCE_DIR "/spec/xsd/export-202205.xsd");
  xmlSchemaPtr schema = IsExportRoot(xml) ? export_schema : import_schema;
  if (schema == nullptr) return "cannot load the schemas in spec/xsd/";
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "receipt.xml", nullptr,
                                XML_PARSE_NONET);
  if (doc == nullptr) return "not well-formed";
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
