// Browser tests of the web single window (issue 5): a real `kuajing serve` over a zone filled by
// `kuajing simulate`, driven in Debian's chromium by playwright-core. Each page is opened, checked
// against the API's own figures, clicked through (the officer releases and rejects held lists), and
// saved as a screenshot.
//
//   KJ_BIN=build/kuajing node web/tests/browser.mjs [screenshot dir]
//
// Run by ctest (test `web_browser`). Exits 1 on the first failed check, with what was expected.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const bin = resolve(process.env.KJ_BIN || "build/kuajing");
const web = resolve(new URL("../dist", import.meta.url).pathname);
const shots = resolve(process.argv[2] || "build/screenshots");
const browserPath = process.env.KJ_CHROMIUM || "/usr/bin/chromium";
mkdirSync(shots, { recursive: true });
for (const [path, fix] of [[join(web, "index.html"), "run scripts/build-web"], [browserPath, "run scripts/install-deps (chromium)"]]) {
  if (!existsSync(path)) {
    console.log(`FAIL ${path} is missing: ${fix}`);
    process.exit(1);
  }
}

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`  ok   ${what}`);
  } else {
    console.log(`  FAIL ${what}`);
    failures++;
  }
}

const data = mkdtempSync(join(tmpdir(), "kj-web-"));
let server;
let browser;
try {
  // Two days of a small zone, ending today: the dashboard's default period (year to date) has them.
  execFileSync(bin, ["simulate", "--data", data, "--days", "2", "--imports", "300", "--exports", "60", "--seed", "7"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // The server's request log goes beside the screenshots.
  const log = openSync(join(shots, "server.log"), "w");
  server = spawn(bin, ["serve", "--data", data, "--demo-keys", "--listen", "127.0.0.1:0", "--web", web], {
    stdio: ["ignore", "pipe", log],
  });
  const base = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error("the server did not start in 20 s")), 20000);
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /serving on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    server.on("exit", (code) => fail(new Error(`the server exited with ${code}`)));
  });
  const keys = Object.fromEntries(
    readFileSync(join(data, "keys.txt"), "utf8")
      .split("\n")
      .filter((l) => /^(officer|enterprise) /.test(l))
      .map((l) => l.split(" "))
      .map((p) => (p[0] === "officer" ? ["officer", p[1]] : [p[1], p[2]])),
  );
  const api = async (path, key) => {
    const res = await fetch(base + path, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: "zh-CN" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // The refusals the test provokes (400, 404) show as failed loads: not script errors.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  const ready = () => page.waitForSelector("body[data-ready='1']", { timeout: 20000 });

  // --- the dashboard ---------------------------------------------------------------------------
  console.log("dashboard");
  await page.goto(`${base}/#key=${keys.officer}`);
  await ready();
  check(!page.url().includes("key="), "the key leaves the address bar");
  const from = await page.inputValue("input[name=from]");
  const to = await page.inputValue("input[name=to]");
  const summary = await api(`/api/v1/stats/summary?from=${from}&to=${to}`, keys.officer);
  check(summary.import.lists > 0 && summary.export.lists > 0, `the simulation cleared lists (${summary.import.lists} import, ${summary.export.lists} export)`);
  const figures = await page.locator(".card .figure").allTextContents();
  check(figures[2] === summary.import.lists.toLocaleString("en-US"), `the import-lists card shows ${summary.import.lists} (${figures[2]})`);
  const [int, frac] = summary.import.value["142"].split(".");
  const value = `${Number(int).toLocaleString("en-US")}.${frac}`;
  check(figures[0] === value, `the import-value card shows ${value} (${figures[0]})`);
  check((await page.locator(".chart canvas").count()) >= 8, "every chart is drawn");
  await page.waitForFunction(() => document.getElementById("live").textContent.includes("●"), null, { timeout: 10000 });
  check(true, "the live counters run");
  const refusalRows = await page.locator("#refusals tbody tr").count();
  const dist = await api(`/api/v1/stats/distributions?from=${from}&to=${to}&limit=10`, keys.officer);
  check(refusalRows === Math.max(1, dist.refusals.top.length), `the refusals table has ${dist.refusals.top.length} kinds`);
  await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  await page.click("header .lang");
  await ready();
  check((await page.locator(".card .label").first().textContent()) === "Import value (CNY)", "English labels");
  await page.screenshot({ path: join(shots, "dashboard-en.png"), fullPage: true });
  await page.click("header .lang");
  await ready();

  // --- the officer workbench: release one held list, reject another ------------------------------
  console.log("officer workbench");
  await page.goto(`${base}/officer.html`);
  await ready();
  const held = (await api("/api/v1/officer/held", keys.officer)).held;
  const rows = page.locator("#queue tr[data-invt]");
  check((await rows.count()) === held.length && held.length >= 2, `the queue shows the ${held.length} held lists`);
  const first = held[0].invtNo;
  await rows.first().click();
  await page.waitForSelector("#docs table");
  check((await page.locator("#docs > div").count()) === 4, "four documents side by side");
  check((await page.locator("#docs").textContent()).includes(held[0].orderNo), "the documents are the list's");
  check((await page.locator("#holdReason").textContent()).includes(held[0].reason.slice(0, 20)), "the reason it was held");
  await page.waitForFunction(() => document.getElementById("credit").textContent.includes("4304963001"));
  await page.screenshot({ path: join(shots, "officer.png"), fullPage: true });
  await page.fill("#decide input[name=reason]", "单件不可分割，已核实");
  await page.click("#decide .release");
  await page.waitForSelector("#outcome .notice");
  check((await page.locator("#outcome").textContent()).includes("800"), "release answers CEB622 800");
  const after = (await api("/api/v1/officer/held", keys.officer)).held;
  check(!after.some((h) => h.invtNo === first), "the released list left the queue");
  const receipts = await api(`/api/v1/documents/invtNo?invtNo=${first}`, keys.officer);
  check(receipts.receipts.some((r) => r.type === "CEB622" && r.status === "800"), "the release receipt is stored");
  // A rejection needs a reason the declarant can act on.
  await page.locator("#queue tr[data-invt]").first().click();
  await page.waitForSelector("#docs table");
  const second = await page.locator("#detailTitle").textContent();
  await page.click("#decide .reject");
  await page.waitForSelector(".error");
  check((await page.locator(".error").textContent()).length > 0, "a rejection without a reason is refused");
  await page.fill("#decide input[name=reason]", "申报价格明显低于市场价，请补充说明");
  await page.click("#decide .reject");
  await page.waitForSelector("#outcome .notice");
  const secondList = held.find((h) => h.invtNo === second);
  const rejected = await api(`/api/v1/receipts/${secondList.guid}`, keys.officer);
  check(rejected.receipts.some((r) => r.type === "CEB622" && r.status === "100" && r.xml.includes("申报价格明显低于市场价")),
    "the rejection's receipt carries the officer's reason");
  await page.screenshot({ path: join(shots, "officer-decided.png"), fullPage: true });

  // --- the enterprise view (the declaring agent) --------------------------------------------------
  console.log("enterprise view");
  const agent = await context.newPage();
  agent.on("pageerror", (e) => errors.push(e.message));
  await agent.goto(`${base}/enterprise.html#key=${keys["4304963001"]}`);
  await agent.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  check((await agent.locator("#who").textContent()).includes("4304963001"), "the page names the enterprise");
  check((await agent.locator("#receipts tbody tr").count()) > 10, "its recent receipts");
  await agent.check("input[name=refused]");
  const refused = await agent.locator("#receipts tbody tr").allTextContents();
  check(refused.length > 0 && (await agent.locator("#receipts tbody tr.refused").count()) === refused.length,
    `refusals only (${refused.length}), each with its reason`);
  await agent.uncheck("input[name=refused]");
  await agent.selectOption("select[name=kind]", "order");
  await agent.fill("input[name=code]", secondList.ebpCode);
  await agent.fill("input[name=number]", secondList.orderNo);
  await agent.click("#search button[type=submit]");
  await agent.waitForFunction(() => document.querySelector("#receipts").textContent.includes("申报价格明显低于市场价"));
  check(true, "search by order number finds the officer's rejection with its reason");
  await agent.selectOption("select[name=kind]", "invtNo");
  await agent.fill("input[name=number]", first);
  await agent.click("#search button[type=submit]");
  await agent.waitForFunction(() => document.querySelector("#receipts").textContent.includes("放行"));
  check(true, "search by invtNo finds the release");
  await agent.screenshot({ path: join(shots, "enterprise.png"), fullPage: true });
  // Another enterprise's list is not found.
  const other = await context.newPage();
  await other.goto(`${base}/enterprise.html#key=${keys["4304965002"]}`);
  await other.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  await other.selectOption("select[name=kind]", "guid");
  await other.fill("input[name=number]", secondList.guid);
  await other.click("#search button[type=submit]");
  await other.waitForSelector("#receipts .error");
  check(true, "an enterprise the list does not name cannot read it");

  // --- the consumer page ----------------------------------------------------------------------------
  console.log("consumer page");
  const docs = await api(`/api/v1/officer/held/${first}`, keys.officer);
  const id = /<ceb:buyerIdNumber>(\w+)</.exec(docs.inventory)[1];
  const name = /<ceb:buyerName>([^<]+)</.exec(docs.inventory)[1];
  const year = to.slice(0, 4);
  const quota = await api(`/api/v1/quota?id=${id}&name=${encodeURIComponent(name)}&year=${year}`);
  const consumer = await browser.newPage({ viewport: { width: 900, height: 700 } });
  await consumer.goto(`${base}/quota.html`);
  await consumer.waitForSelector("body[data-ready='1']");
  await consumer.fill("input[name=id]", id);
  await consumer.fill("input[name=name]", name);
  await consumer.click("#quota button[type=submit]");
  await consumer.waitForSelector("#used");
  const used = await consumer.locator("#used").textContent();
  check(Number(used.replaceAll(",", "")) === Number(quota.used) && Number(quota.used) >= Number(held[0].dutiablePrice),
    `the buyer's used amount (${used}) includes the released list`);
  await consumer.screenshot({ path: join(shots, "quota.png"), fullPage: true });

  check(errors.length === 0, `no script errors${errors.length ? ": " + errors.join("; ") : ""}`);
} catch (e) {
  console.log(`  FAIL ${e.stack || e}`);
  failures++;
} finally {
  if (browser) await browser.close();
  if (server) {
    // The server writes its snapshot as it stops: wait for it to exit before the folder goes, and
    // count an unclean stop as a failure.
    const exited = server.exitCode !== null || server.signalCode !== null
      ? Promise.resolve([server.exitCode, server.signalCode])
      : new Promise((ok) => server.once("exit", (code, signal) => ok([code, signal])));
    server.kill("SIGTERM");
    const [code, signal] = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok(["timeout", null]), 30000))]);
    check(code === 0, `the server stopped cleanly on SIGTERM (exit ${code}${signal ? ", signal " + signal : ""})`);
    if (code === "timeout") server.kill("SIGKILL");
  }
  rmSync(data, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
console.log(failures ? `${failures} check(s) failed` : `all checks passed; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
