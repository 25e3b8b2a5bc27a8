// The officer workbench: the held queue (manual review 300, inspection 500), each list's documents
// side by side with the fields that disagree marked, the reasons it was held and the credit grades
// of its parties, and the release / inspect / reject decisions that produce the standard receipts.
import { api, frame, t, esc, money, leaves, returnInfo, showError } from "./common.js";

let selected = null;

async function queue() {
  const { held } = await api("/api/v1/officer/held");
  const table = document.getElementById("queue");
  if (!held.length) {
    table.innerHTML = `<tbody><tr><td>${t("nothingHeld")}</td></tr></tbody>`;
    return held;
  }
  table.innerHTML =
    `<thead><tr><th>${t("invtNo")}</th><th>${t("orderNo")}</th><th>${t("buyer")}</th><th>${t("status")}</th>` +
    `<th>${t("grades")}</th><th class="num">${t("value")}</th><th>${t("reason")}</th></tr></thead><tbody>` +
    held
      .map(
        (h) => `<tr data-invt="${esc(h.invtNo)}" class="${h.invtNo === selected ? "selected" : ""}">
        <td>${esc(h.invtNo)}</td><td>${esc(h.orderNo)}</td><td>${esc(h.buyerName)}</td>
        <td>${h.status === "300" ? "300 人工审核" : "500 查验"}</td>
        <td>${grade(h.agentGrade)} ${grade(h.ebcGrade)}</td>
        <td class="num">${money(h.dutiablePrice)}</td><td class="small">${esc(h.reason)}</td></tr>`,
      )
      .join("") +
    "</tbody>";
  for (const row of table.querySelectorAll("tr[data-invt]")) row.addEventListener("click", () => open(row.dataset.invt, held));
  return held;
}

const grade = (g) => (g ? `<span class="grade grade-${esc(g)}">${esc(g)}</span>` : "");

// The four documents in columns; a field the documents share but disagree on is marked.
function documents(d) {
  const kinds = ["order", "payment", "waybill", "inventory"];
  const fields = Object.fromEntries(kinds.map((k) => [k, d[k] ? leaves(d[k]) : null]));
  const values = {};
  for (const k of kinds) for (const [name, v] of fields[k] || []) if (!name.startsWith("list.") && !/guid|appTime|appType|appStatus|note/.test(name)) (values[name] ||= new Set()).add(v);
  document.getElementById("docs").innerHTML = kinds
    .map(
      (k) => `<div><h2 data-t="${k}">${t(k)}</h2>${
        fields[k]
          ? `<table>${fields[k]
              .map(([name, v]) => `<tr class="${values[name]?.size > 1 ? "diff" : ""}"><td>${esc(name)}</td><td>${esc(v)}</td></tr>`)
              .join("")}</table>`
          : `<p class="small">${t("none")}</p>`
      }</div>`,
    )
    .join("");
}

async function open(invt, held) {
  selected = invt;
  for (const row of document.querySelectorAll("#queue tr[data-invt]")) row.classList.toggle("selected", row.dataset.invt === invt);
  const h = held.find((x) => x.invtNo === invt);
  const d = await api(`/api/v1/officer/held/${encodeURIComponent(invt)}`);
  document.getElementById("detail").hidden = false;
  document.getElementById("detailTitle").textContent = invt;
  document.getElementById("holdReason").innerHTML = `<strong>${t("reason")}:</strong> ${esc(h?.reason)}${
    h?.riskRulesVersion ? ` <span class="small">(rules ${esc(h.riskRulesVersion)}, score ${h.riskScore})</span>` : ""}`;
  document.getElementById("outcome").innerHTML = "";
  documents(d);
  // The credit records of the list's agent and e-commerce enterprise (docs/CREDIT.md).
  const codes = [...new Set([h?.agentCode, h?.ebcCode].filter(Boolean))];
  const records = await Promise.all(codes.map((c) => api(`/api/v1/credit/enterprises/${c}`).catch(() => null)));
  document.getElementById("credit").innerHTML =
    `${t("enterpriseCredit")}: ` +
    records
      .filter(Boolean)
      .map((r) => `${esc(r.code)} ${grade(r.grade)} ${t("score")} ${esc(r.score)}${r.pinned ? " (pinned)" : ""}`)
      .join(" · ");
}

async function decide(action) {
  const form = document.getElementById("decide");
  const reason = form.reason.value.trim();
  try {
    const { receipts } = await api("/api/v1/officer/decisions", { method: "POST", json: { invtNo: selected, action, reason } });
    document.getElementById("outcome").innerHTML =
      `<p class="notice">${t("decided")}: ${esc(selected)}</p><table>` +
      receipts.map((r) => `<tr><td>${esc(r.type)}</td><td>${esc(r.status)}</td><td>${esc(returnInfo(r.xml))}</td></tr>`).join("") +
      "</table>";
    form.reason.value = "";
    const held = await queue();
    if (!held.some((x) => x.invtNo === selected)) document.getElementById("docs").innerHTML = "";
  } catch (e) {
    showError(e.message);
  }
}

frame("officer", async () => {
  for (const b of document.querySelectorAll("#decide button")) b.addEventListener("click", () => decide(b.dataset.action));
  await queue();
  document.body.dataset.ready = "1";
});
