// Bundle the UI with esbuild: hashed assets in dist/assets/ and an index.html that names them.
// The UI is served by the function app under /api/ui/ (see functions/http_ui.py).
import { build } from "esbuild";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const BASE = "/api/ui/";

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, "assets"), { recursive: true });
const result = await build({
  entryPoints: { app: path.join(here, "src", "main.jsx") },
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  outdir: path.join(dist, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const js = outputs.find((f) => f.endsWith(".js"));
const css = outputs.find((f) => f.endsWith(".css"));
const icon = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='6' fill='%230b5cad'/><circle cx='9' cy='16' r='4' fill='white'/><circle cx='23' cy='9' r='4' fill='white'/><circle cx='23' cy='23' r='4' fill='white'/><path d='M12 15 20 10M12 17 20 22' stroke='white' stroke-width='2'/></svg>";
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ML pipeline designer</title>
<link rel="icon" href="data:image/svg+xml,${icon}">
<link rel="stylesheet" href="${BASE}assets/${css}">
<script type="module" src="${BASE}assets/${js}"></script>
</head>
<body>
<div id="root"></div>
<noscript>The designer needs JavaScript.</noscript>
</body>
</html>
`;
await writeFile(path.join(dist, "index.html"), html);
console.log(`web/dist: ${outputs.join(", ")}, index.html`);
