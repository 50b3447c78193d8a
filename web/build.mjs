// Builds the playground page and the offline API docs into OUT (default ../service/static):
//   playground/  index.html, app.js (the page + the generated client + KaTeX), app.css
//   samples/     the sample data sets (from examples/)
//   docs/        swagger-init.js (Swagger UI's start-up, a file so the CSP needs no inline script)
//   vendor/      swagger-ui-dist and ReDoc's standalone bundle, as published on npm
// Reproducible: the same sources and lockfile give the same bytes (no timestamps, no hashes of
// the build machine; esbuild's output is deterministic). usage: node build.mjs [OUT]
import { build } from "esbuild";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "..", "service", "static"));
const modules = join(here, "node_modules");

rmSync(out, { recursive: true, force: true });
for (const dir of ["playground", "samples", "docs", "vendor/swagger-ui", "vendor/redoc"]) {
  mkdirSync(join(out, dir), { recursive: true });
}

await build({
  entryPoints: [join(here, "src", "main.ts")],
  outfile: join(out, "playground", "app.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  legalComments: "eof",
  logLevel: "warning",
});
cpSync(join(here, "index.html"), join(out, "playground", "index.html"));
cpSync(join(here, "app.css"), join(out, "playground", "app.css"));
for (const file of ["iris.csv", "outliers.csv"]) {
  cpSync(join(here, "..", "examples", file), join(out, "samples", file));
}
cpSync(join(here, "swagger-init.js"), join(out, "docs", "swagger-init.js"));

const swagger = join(modules, "swagger-ui-dist");
for (const f of ["swagger-ui.css", "swagger-ui-bundle.js", "LICENSE"]) {
  cpSync(join(swagger, f), join(out, "vendor", "swagger-ui", f));
}
const redoc = join(modules, "redoc");
// ReDoc's sidebar shows Redocly's logo from their CDN; with an empty src no request is made
// (the image's error handler hides it). A new ReDoc version without that URL fails the build.
const CDN_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const redocJs = readFileSync(join(redoc, "bundles", "redoc.standalone.js"), "utf8");
if (!redocJs.includes(CDN_LOGO)) throw new Error(`redoc.standalone.js no longer references ${CDN_LOGO}: check it for other hosts`);
writeFileSync(join(out, "vendor", "redoc", "redoc.standalone.js"), redocJs.replaceAll(CDN_LOGO, ""));
cpSync(join(redoc, "bundles", "redoc.standalone.js.LICENSE.txt"), join(out, "vendor", "redoc", "LICENSE.txt"));

// what was built, from which package versions (served as /static/build.json)
const version = (name) => JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version;
const info = {
  page: "playground/index.html",
  packages: Object.fromEntries(["esbuild", "katex", "swagger-ui-dist", "redoc"].map((n) => [n, version(n)])),
};
writeFileSync(join(out, "build.json"), JSON.stringify(info, null, 2) + "\n");
console.log(`built the playground and offline docs into ${out}`);
