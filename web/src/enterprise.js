// An enterprise's own documents: the receipts of everything it sent or is named in, newest first,
// with the reason text of every refusal; search by order number, waybill number, invtNo or guid.
import { api, frame, t, esc, returnInfo } from "./common.js";

const refused = (r) => r.status.startsWith("-") || r.status === "100";

// The receipt's time (returnTime yyyyMMddHHmmssSSS) as "yyyy-MM-dd HH:mm:ss".
function when(xml) {
  const m = /<(?:\w+:)?returnTime>(\d{14})/.exec(xml);
  return m ? m[1].replace(/(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/, "$1-$2-$3 $4:$5:$6") : "";
}

function show(receipts, onlyRefused) {
  const rows = receipts.filter((r) => !onlyRefused || refused(r));
  document.getElementById("receipts").innerHTML =
    `<thead><tr><th>${t("time")}</th><th>${t("receiptType")}</th><th>${t("status")}</th><th>${t("reason")}</th><th>${t("guid")}</th></tr></thead><tbody>` +
    (rows.length
      ? rows
          .map(
            (r) => `<tr class="${refused(r) ? "refused" : ""}"><td>${esc(when(r.xml))}</td><td>${esc(r.type)}</td>
            <td>${esc(r.status)}</td><td>${esc(returnInfo(r.xml))}</td><td class="small">${esc(r.answers)}</td></tr>`,
          )
          .join("")
      : `<tr><td colspan="5">${t("noData")}</td></tr>`) +
    "</tbody>";
}

// The latest receipts this key may read: the feed is oldest first from a receipt id, so read the
// pages after (last id - window) and keep the newest 200.
async function recent() {
  const { lastReceiptId } = await api("/api/v1/status");
  let after = Math.max(0, lastReceiptId - 20000);
  let all = [];
  for (let page = 0; page < 40; page++) {
    const { receipts, next } = await api(`/api/v1/receipts?after=${after}&limit=500`);
    all = all.concat(receipts).slice(-200);
    if (!receipts.length || next === after) break;
    after = next;
  }
  return all.reverse();
}

frame("enterprise", async () => {
  const me = await api("/api/v1/whoami");
  const form = document.getElementById("search");
  if (me.enterprise) {
    document.getElementById("who").textContent = `${me.name || ""} ${me.enterprise}`;
    form.code.value = me.enterprise;
  }
  let current = await recent();
  show(current, false);
  form.refused.addEventListener("change", () => show(current, form.refused.checked));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = encodeURIComponent(form.number.value.trim());
    const c = encodeURIComponent(form.code.value.trim());
    // An order number finds the order's receipts and its list's (same ebpCode and orderNo).
    const paths = {
      order: [`/api/v1/documents/order?ebpCode=${c}&orderNo=${n}`, `/api/v1/documents/inventory?ebpCode=${c}&orderNo=${n}`],
      waybill: [`/api/v1/documents/waybill?logisticsCode=${c}&logisticsNo=${n}`],
      invtNo: [`/api/v1/documents/invtNo?invtNo=${n}`],
      guid: [`/api/v1/receipts/${n}`],
    }[form.kind.value];
    const found = await Promise.allSettled(paths.map((p) => api(p)));
    const ok = found.filter((f) => f.status === "fulfilled").flatMap((f) => f.value.receipts);
    if (!ok.length) {
      current = [];
      const why = found.find((f) => f.status === "rejected")?.reason?.message || t("noData");
      document.getElementById("receipts").innerHTML = `<tbody><tr><td class="error">${esc(why)}</td></tr></tbody>`;
      return;
    }
    // Newest first by receipt id (a re-fetch has ids; equal ids keep their order).
    current = ok.sort((a, b) => (b.id || 0) - (a.id || 0));
    show(current, form.refused.checked);
  });
  document.body.dataset.ready = "1";
});
