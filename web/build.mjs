// Builds the web single window into web/dist: the page sources as they are (no bundler: plain ES
// modules the browser loads), and Apache ECharts' minified build from node_modules. `kuajing serve`
// serves web/dist at /. Run by scripts/build-web.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const dist = join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
let files = 0;
for (const name of readdirSync(src)) {
  if (!statSync(join(src, name)).isFile()) continue;
  copyFileSync(join(src, name), join(dist, name));
  files++;
}
copyFileSync(join(here, "node_modules/echarts/dist/echarts.min.js"), join(dist, "echarts.min.js"));
console.log(`web/dist: ${files} page files and echarts.min.js`);
