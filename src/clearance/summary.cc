#include "clearance/summary.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace kuajing::clearance {

using model::exp::Inventory;

namespace {

using HeadKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                           std::string, std::string, std::string>;
using LineKey = std::tuple<std::string, std::string, std::string, std::string, std::string,
                           std::string, std::string>;

struct Group {
  const Inventory* first = nullptr;  // names of agent, consignor, producer
  std::vector<LineKey> order;        // line keys in order of first appearance
  std::map<LineKey, SummaryLine> lines;
  std::vector<std::pair<const SummarySource*, LineKey>> first_lines;  // each list's first line
};

}  // namespace

std::vector<SummaryDeclaration> Summarize(std::vector<SummarySource> sources,
                                          const SummaryOptions& options) {
  std::sort(sources.begin(), sources.end(),
            [](const SummarySource& a, const SummarySource& b) { return a.invt_no < b.invt_no; });
  std::map<HeadKey, Group> groups;
  for (const SummarySource& s : sources) {
    const auto& h = s.list->head;
    HeadKey hk{h.agentCode,   h.ebcCode,  options.per_owner ? h.ownerCode : std::string(),
               h.customsCode, h.portCode, h.tradeMode,
               h.trafMode,    h.country};
    Group& g = groups[hk];
    if (g.first == nullptr) g.first = s.list;
    for (size_t i = 0; i < s.list->lists.size(); ++i) {
      const auto& l = s.list->lists[i];
      const std::string name = options.by_item_name && !l.itemName.empty() ? l.itemName : l.gname;
      LineKey lk{l.gcode, name, l.country, l.currency, l.unit, l.unit1, l.unit2};
      auto [it, fresh] = g.lines.try_emplace(lk);
      SummaryLine& line = it->second;
      if (fresh) {
        g.order.push_back(lk);
        line.gcode = l.gcode;
        line.name = name;
        line.country = l.country;
        line.currency = l.currency;
        line.unit = l.unit;
        line.unit1 = l.unit1;
        line.unit2 = l.unit2;
      }
      line.qty += l.qty;
      line.qty1 += l.qty1;
      if (l.qty2) line.qty2 += *l.qty2;
      line.amount += l.totalPrice;
      line.sources.push_back(SummaryLineSource{s.invt_no, h.logisticsNo, l.gcode, l.gnum});
      if (i == 0) g.first_lines.emplace_back(&s, lk);
    }
  }
  std::vector<SummaryDeclaration> out;
  const size_t per = static_cast<size_t>(std::max(1, options.max_lines));
  for (auto& [hk, g] : groups) {
    const size_t first_decl = out.size();
    std::map<LineKey, size_t> decl_of;
    for (size_t i = 0; i < g.order.size(); ++i) {
      if (i % per == 0) {
        const auto& h = g.first->head;
        SummaryDeclaration d;
        d.agent_code = h.agentCode;
        d.agent_name = h.agentName;
        d.ebc_code = h.ebcCode;
        d.ebc_name = h.ebcName;
        if (options.per_owner) {
          d.owner_code = h.ownerCode;
          d.owner_name = h.ownerName;
        }
        d.customs_code = h.customsCode;
        d.port_code = h.portCode;
        d.trade_mode = h.tradeMode;
        d.traf_mode = h.trafMode;
        d.country = h.country;
        out.push_back(std::move(d));
      }
      SummaryLine& line = g.lines.at(g.order[i]);
      line.gseqno = static_cast<int>(i % per) + 1;
      decl_of[g.order[i]] = out.size() - 1;
      out.back().lines.push_back(std::move(line));
    }
    for (const auto& [src, lk] : g.first_lines) {
      SummaryDeclaration& d = out[decl_of.at(lk)];
      d.gross_weight += src->list->head.grossWeight;
      d.net_weight += src->list->head.netWeight;
      d.pack_no += src->list->head.packNo;
    }
    for (size_t i = first_decl; i < out.size(); ++i) {
      auto& ids = out[i].invt_nos;
      for (const SummaryLine& l : out[i].lines)
        for (const SummaryLineSource& s : l.sources) ids.push_back(s.invt_no);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    }
  }
  return out;
}

}  // namespace kuajing::clearance
