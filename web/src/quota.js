// The consumer's page: the year's used and remaining amount of the 26,000 CNY annual limit
// (财关税〔2018〕49号), after the ID number and the name as the buyer gave them. The query is public
// and rate-limited per address; a wrong name answers as a buyer who bought nothing.
import { api, frame, t, esc, money, today, showError } from "./common.js";

frame(
  "quota",
  async () => {
    const form = document.getElementById("quota");
    form.year.value = today().slice(0, 4);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const q = await api(
          `/api/v1/quota?id=${encodeURIComponent(form.id.value.trim())}&name=${encodeURIComponent(form.name.value.trim())}&year=${form.year.value}`,
        );
        const pct = Math.min(100, (100 * Number(q.used)) / Number(q.annualLimit));
        const box = document.getElementById("result");
        box.hidden = false;
        box.innerHTML = `<table>
          <tr><th>${t("year")}</th><td class="num">${esc(q.year)}</td></tr>
          <tr><th>${t("used")}</th><td class="num" id="used">${money(q.used)}</td></tr>
          <tr><th>${t("remaining")}</th><td class="num" id="remaining">${money(q.remaining)}</td></tr>
          <tr><th>${t("annualLimit")}</th><td class="num">${money(q.annualLimit)}</td></tr></table>
          <div class="meter" role="meter" aria-valuenow="${pct.toFixed(1)}" aria-valuemin="0" aria-valuemax="100"><div style="width:${pct}%"></div></div>`;
      } catch (err) {
        showError(err.message);
      }
    });
    document.body.dataset.ready = "1";
  },
  { needsKey: false },
);
