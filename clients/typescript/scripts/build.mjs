// The client as JavaScript (dist/index.js, for Node and bundlers) and the sign-in page
// (dist/page/: index.html and assets/, served by the gateway at /). Not committed: `make install` builds it.
import { copyFile, mkdir, rm } from "node:fs/promises";
import { build } from "esbuild";

const root = new URL("..", import.meta.url);
const at = (path) => new URL(path, root).pathname;

// dist/types/ is tsc's (the declarations), written just before.
await rm(at("dist/page"), { recursive: true, force: true });
await build({
  entryPoints: [at("src/index.ts")],
  outfile: at("dist/index.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  logLevel: "warning",
});
await build({
  entryPoints: { page: at("page/page.ts") },
  outdir: at("dist/page/assets"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  logLevel: "warning",
});
await mkdir(at("dist/page/assets"), { recursive: true });
await copyFile(at("page/index.html"), at("dist/page/index.html"));
await copyFile(at("page/page.css"), at("dist/page/assets/page.css"));
