// The zone administration's dashboard: headline figures with growth, trends, trade-mode split,
// top enterprises, countries, clearance time, refusals, buyers' annual amounts, live counters.
// Every figure comes from /api/v1/stats/* and means what docs/METRICS.md says.
import { api, frame, t, esc, money, CURRENCY, today, country } from "./common.js";

const charts = {};
function chart(id) {
  if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  return charts[id];
}
addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

const number = (s) => Number(s || 0);
const mainCurrency = (value) =>
  Object.entries(value || {}).sort((a, b) => number(b[1]) - number(a[1]))[0]?.[0] || "502";

function growth(g, key) {
  const pct = key ? g?.value?.[key] : g?.lists;
  if (pct === null || pct === undefined) return "—";
  const cls = pct.startsWith("-") ? "down" : "up";
  return `<span class="${cls}">${pct.startsWith("-") ? "" : "+"}${esc(pct)} %</span>`;
}

function card(label, figure, yoy, mom) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="figure">${figure}</div>
    <div class="growth">${t("yoy")} ${yoy} · ${t("mom")} ${mom}</div></div>`;
}

function headline(s) {
  const im = s.import, ex = s.export;
  const exCur = mainCurrency(ex.value);
  const exValues = Object.entries(ex.value).map(([c, v]) => `${CURRENCY[c] || c} ${money(v)}`);
  document.getElementById("cards").innerHTML = [
    card(t("importValue"), money(im.value["142"] || "0.00"), growth(im.vsLastYear, "142"), growth(im.vsPreviousPeriod, "142")),
    card(t("exportValue"), exValues.length ? `${esc(CURRENCY[exCur] || exCur)} ${money(ex.value[exCur])}` +
      (exValues.length > 1 ? `<div class="small">${esc(exValues.filter((v) => !v.startsWith(CURRENCY[exCur] || exCur)).join(" · "))}</div>` : "") : "0",
      growth(ex.vsLastYear, exCur), growth(ex.vsPreviousPeriod, exCur)),
    card(t("importLists"), money(String(im.lists)), growth(im.vsLastYear), growth(im.vsPreviousPeriod)),
    card(t("exportLists"), money(String(ex.lists)), growth(ex.vsLastYear), growth(ex.vsPreviousPeriod)),
    card(t("tax"), money(im.tax), "", ""),
    card(t("activeEnterprises"), String(im.activeEnterprises + ex.activeEnterprises), "", ""),
  ].join("");
  // The two cards without growth keep the layout but show none.
  for (const g of [...document.querySelectorAll(".card .growth")].slice(4)) g.textContent = "";
  return exCur;
}

function bars(id, rows, label, name = (k) => k) {
  const data = rows.slice().reverse().map((r) => ({ ...r, key: name(r.key) }));
  chart(id).setOption({
    grid: { left: 110, right: 20, top: 10, bottom: 30 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "value", name: label },
    yAxis: { type: "category", data: data.map((r) => r.key) },
    series: [{ type: "bar", data: data.map((r) => number(r.value)), itemStyle: { color: "#b3261e" } }],
  }, true);
}

async function load(from, to) {
  const q = `from=${from}&to=${to}`;
  const days = (Date.UTC(+to.slice(0, 4), +to.slice(4, 6) - 1, +to.slice(6)) -
    Date.UTC(+from.slice(0, 4), +from.slice(4, 6) - 1, +from.slice(6))) / 864e5 + 1;
  const granularity = days > 400 ? "month" : "day";
  const [summary, im, ex, dist] = await Promise.all([
    api(`/api/v1/stats/summary?${q}`),
    api(`/api/v1/stats/series?${q}&direction=import&granularity=${granularity}`),
    api(`/api/v1/stats/series?${q}&direction=export&granularity=${granularity}`),
    api(`/api/v1/stats/distributions?${q}&limit=10`),
  ]);
  const exCur = headline(summary);
  const [topIm, topEx, origins, dests] = await Promise.all([
    api(`/api/v1/stats/ranking?${q}&by=enterprise&limit=10`),
    api(`/api/v1/stats/ranking?${q}&by=enterprise&direction=export&currency=${exCur}&limit=10`),
    api(`/api/v1/stats/ranking?${q}&by=country&limit=10`),
    api(`/api/v1/stats/ranking?${q}&by=country&direction=export&currency=${exCur}&limit=10`),
  ]);

  const periods = [...new Set([...im.points, ...ex.points].map((p) => p.period))].sort();
  const at = (series, p) => series.points.find((x) => x.period === p)?.lists || 0;
  chart("trend").setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [t("importLists"), t("exportLists")], top: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: periods },
    yAxis: { type: "value" },
    series: [
      { name: t("importLists"), type: "line", smooth: true, data: periods.map((p) => at(im, p)) },
      { name: t("exportLists"), type: "line", smooth: true, data: periods.map((p) => at(ex, p)) },
    ],
  }, true);

  const modes = [];
  for (const [dir, s] of [["import", summary.import], ["export", summary.export]]) {
    for (const [mode, m] of Object.entries(s.byTradeMode)) modes.push({ name: `${mode} ${dir === "import" ? "进口" : "出口"}`, value: m.lists });
  }
  chart("modes").setOption({
    tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
    series: [{ type: "pie", radius: ["35%", "70%"], data: modes }],
  }, true);

  bars("topImport", topIm.rows, "CNY");
  bars("topExport", topEx.rows, CURRENCY[exCur] || exCur);
  bars("origins", origins.rows, "CNY", country);
  bars("destinations", dests.rows, CURRENCY[exCur] || exCur, country);

  const edge = (s) => (s >= 3600 ? `${s / 3600} h` : s >= 60 ? `${s / 60} min` : `${s} s`);
  const ct = dist.clearanceTime;
  chart("clearance").setOption({
    tooltip: { trigger: "axis" },
    grid: { left: 50, right: 20, top: 30, bottom: 30 },
    title: { text: ["p50", "p90", "p99"].map((p) => `${p} < ${dist.clearanceTimeUnderSeconds[p] ? edge(dist.clearanceTimeUnderSeconds[p]) : "—"}`).join("   "), textStyle: { fontSize: 12, fontWeight: "normal" } },
    xAxis: { type: "category", data: ct.map((b, i) => (b.underSeconds ? `< ${edge(b.underSeconds)}` : `≥ ${edge(ct[i - 1].underSeconds)}`)) },
    yAxis: { type: "value", name: t("lists") },
    series: [{ type: "bar", data: ct.map((b) => b.lists), itemStyle: { color: "#1c2733" } }],
  }, true);

  const qb = dist.quota.buckets;
  chart("quotaBands").setOption({
    tooltip: { trigger: "axis" },
    grid: { left: 50, right: 20, top: 30, bottom: 30 },
    xAxis: { type: "category", data: qb.map((b, i) => (b.underYuan ? `< ${money(String(b.underYuan))}` : `≥ ${money(String(qb[i - 1].underYuan))}`)) },
    yAxis: { type: "value", name: `${t("buyers")} ${dist.quota.year}` },
    series: [{ type: "bar", data: qb.map((b) => b.buyers), itemStyle: { color: "#1b7f3b" } }],
  }, true);

  const r = dist.refusals;
  document.getElementById("refusals").innerHTML =
    `<thead><tr><th>${t("receiptType")}</th><th>${t("code")}</th><th class="num">${t("count")}</th></tr></thead><tbody>` +
    (r.top.length
      ? r.top.map((x) => `<tr><td>${esc(x.receiptType)}</td><td>${esc(x.status)}</td><td class="num">${x.count}</td></tr>`).join("")
      : `<tr><td colspan="3">${t("none")}</td></tr>`) +
    `</tbody><tfoot><tr><td colspan="2">Σ</td><td class="num">${r.total}</td></tr></tfoot>`;
}

// Live counters, every 5 s: today's cleared lists (statistics) and the status (messages, lists
// waiting and held; kept by the engines, cheap).
async function live() {
  try {
    const d = today();
    const [status, s] = await Promise.all([api("/api/v1/status"), api(`/api/v1/stats/summary?from=${d}&to=${d}`)]);
    const i = status.inventories || {};
    document.getElementById("live").innerHTML =
      `● ${t("live")} · ${t("importLists")} ${money(String(s.import.lists))} · ${t("exportLists")} ${money(String(s.export.lists))} · ` +
      `${t("messages")} ${money(String(status.messages))} · ${t("waiting")} ${money(String(i.waiting || 0))} · ${t("held")} ${money(String(i.held || 0))}`;
  } catch {
    document.getElementById("live").textContent = "";
  }
}

frame("dashboard", async () => {
  const form = document.getElementById("period");
  const params = new URLSearchParams(location.search);
  form.from.value = params.get("from") || today().slice(0, 4) + "0101";
  form.to.value = params.get("to") || today();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    history.replaceState(null, "", `?from=${form.from.value}&to=${form.to.value}`);
    load(form.from.value, form.to.value).catch((err) => alert(err.message));
  });
  await load(form.from.value, form.to.value);
  await live();
  setInterval(live, 5000);
  // The figures follow the traffic: reload them every 30 s while the page is open.
  setInterval(() => load(form.from.value, form.to.value).catch(() => {}), 30000);
  document.body.dataset.ready = "1";
});
