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

xmlSchemaPtr Schema() {
  static xmlSchemaPtr schema = [] {
    xmlSchemaParserCtxtPtr ctx =
        xmlSchemaNewParserCtxt(KJ_SOURCE_DIR "/spec/xsd/import-202205.xsd");
    xmlSchemaPtr s = xmlSchemaParse(ctx);
    xmlSchemaFreeParserCtxt(ctx);
    return s;
  }();
  return schema;
}

}  // namespace

std::string ValidateAgainstImportXsd(std::string_view xml) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  xmlSchemaPtr schema = Schema();
  if (schema == nullptr) return "cannot load spec/xsd/import-202205.xsd";
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
