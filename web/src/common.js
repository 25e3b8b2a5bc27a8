// Shared by every page of the web single window: the key, the language, API calls, the header.
//
// The key (an API key, docs/API.md) lives in this tab's sessionStorage only. A link may carry it
// in its fragment (#key=kj_...), as `scripts/run` prints: it is stored and removed from the
// address bar at once, so it is never sent to the server in a URL nor kept in the history.

const KEY = "kuajing.key";
const LANG = "kuajing.lang";

const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get("key")) {
  sessionStorage.setItem(KEY, fragment.get("key"));
  history.replaceState(null, "", location.pathname + location.search);
}

export function key() {
  return sessionStorage.getItem(KEY) || "";
}

// --- language: Chinese first, English beside it -------------------------------------------------

const TEXT = {
  dashboard: ["看板", "Dashboard"],
  officer: ["审单", "Officer"],
  enterprise: ["企业", "Enterprise"],
  quota: ["个人额度", "My quota"],
  apiKey: ["API 密钥", "API key"],
  use: ["使用", "Use"],
  signOut: ["退出", "Sign out"],
  needKey: ["请输入密钥（见 zone/keys.txt）", "Enter a key (see zone/keys.txt)"],
  from: ["自", "From"],
  to: ["至", "To"],
  show: ["查询", "Show"],
  importValue: ["进口货值（元）", "Import value (CNY)"],
  exportValue: ["出口货值", "Export value"],
  importLists: ["进口清单", "Import lists"],
  exportLists: ["出口清单", "Export lists"],
  tax: ["代征税款（元）", "Tax collected (CNY)"],
  activeEnterprises: ["活跃企业", "Active enterprises"],
  yoy: ["同比", "YoY"],
  mom: ["环比", "vs previous"],
  trend: ["每日趋势", "Trend"],
  modeSplit: ["贸易方式", "Trade mode split"],
  topEnterprises: ["企业排名（进口）", "Top enterprises (import)"],
  topExporters: ["企业排名（出口）", "Top enterprises (export)"],
  origins: ["原产国（进口）", "Countries of origin (import)"],
  destinations: ["目的国（出口）", "Destinations (export)"],
  clearanceTime: ["通关时长", "Clearance time"],
  refusals: ["退单原因", "Refusals"],
  quotaBands: ["个人年度额度使用", "Buyers' annual amount used"],
  live: ["实时", "Live"],
  messages: ["报文", "Messages"],
  released: ["已放行", "Released"],
  waiting: ["待匹配", "Waiting"],
  held: ["待审", "Held"],
  lists: ["单数", "Lists"],
  value: ["货值", "Value"],
  buyers: ["人数", "Buyers"],
  count: ["次数", "Count"],
  code: ["代码", "Code"],
  receiptType: ["回执", "Receipt"],
  heldQueue: ["待审清单", "Held lists"],
  invtNo: ["清单编号", "List no."],
  orderNo: ["订单编号", "Order no."],
  buyer: ["订购人", "Buyer"],
  status: ["状态", "Status"],
  reason: ["原因", "Reason"],
  grades: ["信用等级", "Credit grades"],
  release: ["放行", "Release"],
  inspect: ["查验", "Inspect"],
  reject: ["退单", "Reject"],
  reasonForDeclarant: ["给申报企业的原因", "Reason the declarant can act on"],
  nothingHeld: ["没有待审清单", "Nothing is held"],
  documents: ["单证比对", "Documents side by side"],
  order: ["订单", "Order"],
  payment: ["支付单", "Payment"],
  waybill: ["运单", "Waybill"],
  inventory: ["清单", "Inventory list"],
  receipts: ["回执", "Receipts"],
  search: ["查找", "Search"],
  by: ["按", "By"],
  onlyRefusals: ["只看退单", "Refusals only"],
  time: ["时间", "Time"],
  guid: ["报文编号 (guid)", "guid"],
  idNumber: ["身份证号", "ID number"],
  name: ["姓名", "Name"],
  year: ["年度", "Year"],
  used: ["已用（元）", "Used (CNY)"],
  remaining: ["剩余（元）", "Remaining (CNY)"],
  annualLimit: ["年度限额（元）", "Annual limit (CNY)"],
  check: ["查询", "Check"],
  quotaNote: [
    "姓名与身份证号须与订购人一致；仅显示本人额度。",
    "Name and ID must match the buyer's; only your own amount is shown.",
  ],
  under: ["<", "<"],
  over: ["≥", "≥"],
  none: ["无", "None"],
  enterpriseCredit: ["企业信用", "Enterprise credit"],
  score: ["分数", "Score"],
  decided: ["已处理", "Decided"],
  noData: ["暂无数据", "No data yet"],
};

export function lang() {
  return localStorage.getItem(LANG) === "en" ? 1 : 0;
}
export function t(id) {
  const e = TEXT[id];
  return e ? e[lang()] : id;
}
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-tp]")) el.placeholder = t(el.dataset.tp);
  document.documentElement.lang = lang() ? "en" : "zh-CN";
}

// --- API ------------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (key()) headers.Authorization = "Bearer " + key();
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const res = await fetch(path, { ...options, headers });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, body.message || body.error || res.statusText);
  return body;
}

// --- page frame -----------------------------------------------------------------------------------

const PAGES = [
  ["index.html", "dashboard"],
  ["officer.html", "officer"],
  ["enterprise.html", "enterprise"],
  ["quota.html", "quota"],
];

// Draws the header (navigation, key, language) and calls `start` when the page may load data.
export function frame(current, start, { needsKey = true } = {}) {
  const header = document.createElement("header");
  const nav = PAGES.map(
    ([href, id]) =>
      `<a href="${href}" data-t="${id}" ${id === current ? 'aria-current="page"' : ""}></a>`,
  ).join("");
  header.innerHTML = `<span class="brand">kuajing 跨境</span><nav>${nav}</nav>
    <form class="keyform" ${needsKey ? "" : "hidden"}>
      <input type="password" name="key" autocomplete="off" data-tp="needKey" aria-label="API key">
      <button type="submit" data-t="use"></button>
      <button type="button" class="signout" data-t="signOut"></button>
    </form>
    <button type="button" class="lang">中文 / EN</button>`;
  document.body.prepend(header);
  const form = header.querySelector(".keyform");
  form.key.value = key() ? "••••••••" : "";
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (form.key.value && !form.key.value.startsWith("•")) sessionStorage.setItem(KEY, form.key.value.trim());
    location.reload();
  });
  header.querySelector(".signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  header.querySelector(".lang").addEventListener("click", () => {
    localStorage.setItem(LANG, lang() ? "zh" : "en");
    location.reload();
  });
  translate();
  if (needsKey && !key()) {
    showError(t("needKey"));
    return;
  }
  start().catch((e) => showError(e.status === 401 ? t("needKey") : e.message));
}

export function showError(message) {
  let box = document.querySelector(".error");
  if (!box) {
    box = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    document.querySelector("main").prepend(box);
  }
  box.textContent = message;
}

// Escapes text for HTML built from strings.
export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// "12345.60" -> "12,345.60"
export function money(s) {
  if (s === undefined || s === null) return "—";
  const [i, f] = String(s).split(".");
  const neg = i.startsWith("-");
  const digits = neg ? i.slice(1) : i;
  return (neg ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f ? "." + f : "");
}

// The standard's currency codes the pages name (others are shown as their code).
export const CURRENCY = { 142: "CNY", 502: "USD", 300: "EUR", 110: "HKD", 116: "JPY", 303: "GBP" };

// Country codes of the standard (海关国别代码) the pages name; others show as their code.
const COUNTRY = {
  110: ["香港", "Hong Kong"], 116: ["日本", "Japan"], 132: ["新加坡", "Singapore"], 133: ["韩国", "Korea"],
  142: ["中国", "China"], 303: ["英国", "UK"], 304: ["德国", "Germany"], 305: ["法国", "France"],
  307: ["意大利", "Italy"], 309: ["荷兰", "Netherlands"], 331: ["瑞士", "Switzerland"], 344: ["俄罗斯", "Russia"],
  501: ["加拿大", "Canada"], 502: ["美国", "USA"], 601: ["澳大利亚", "Australia"], 609: ["新西兰", "New Zealand"],
};
export function country(code) {
  return COUNTRY[code] ? `${COUNTRY[code][lang()]} ${code}` : code;
}

// Reads a CEB XML document into [[element, text], ...] for its leaf elements, in order.
export function leaves(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const out = [];
  const walk = (node, path) => {
    const kids = [...node.children];
    if (!kids.length) {
      out.push([path + node.localName, node.textContent]);
      return;
    }
    for (const k of kids) walk(k, node.localName.endsWith("List") ? "list." : path);
  };
  const body = doc.documentElement;
  for (const k of [...body.children]) if (!/BaseTransfer|BaseSubscribe|Signature|ExtendMessage/.test(k.localName)) walk(k, "");
  return out;
}

// The returnInfo of a receipt's XML ("" if none).
export function returnInfo(xml) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const el = [...doc.getElementsByTagName("*")].find((e) => e.localName === "returnInfo");
  return el ? el.textContent : "";
}

export function today() {
  const d = new Date(Date.now() + 8 * 3600e3); // CST
  return d.toISOString().slice(0, 10).replaceAll("-", "");
}
