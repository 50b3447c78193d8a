// Untyped declarations in typescript-fetch output, found with the TypeScript compiler API.
// usage: node untyped_ts.js TYPESCRIPT_LIB_DIR GENERATED_DIR   (exit 1 when any is found)
const ts = require(process.argv[2]);
const fs = require("fs");
const path = require("path");
const dir = process.argv[3];
const files = ["models", "apis"].flatMap((d) =>
  fs.existsSync(path.join(dir, d))
    ? fs.readdirSync(path.join(dir, d)).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, d, f))
    : []
);
const found = [];
const bad = (t) => /\bany\b|\bobject\b|\bunknown\b|^\{\s*\}$/.test(t);
for (const f of files) {
  const src = ts.createSourceFile(f, fs.readFileSync(f, "utf8"), ts.ScriptTarget.ES2020, true);
  const rel = path.relative(dir, f);
  const visit = (n) => {
    if (ts.isInterfaceDeclaration(n)) {
      // `interface X {}` with no members and no `extends`: an untyped schema
      if (n.members.length === 0 && !n.heritageClauses) found.push(`${rel}: empty interface ${n.name.text}`);
      for (const m of n.members) {
        if (ts.isPropertySignature(m) && m.type && bad(m.type.getText(src)))
          found.push(`${rel}: ${n.name.text}.${m.name.getText(src)}: ${m.type.getText(src)}`);
        if (ts.isIndexSignatureDeclaration(m) && bad(m.type.getText(src)))
          found.push(`${rel}: ${n.name.text}[key]: ${m.type.getText(src)}`);
      }
      for (const h of n.heritageClauses || [])
        for (const t of h.types) if (bad(t.getText(src))) found.push(`${rel}: ${n.name.text} extends ${t.getText(src)}`);
    }
    if (ts.isTypeAliasDeclaration(n) && !n.name.text.endsWith("Enum") && bad(n.type.getText(src)))
      found.push(`${rel}: type ${n.name.text} = ${n.type.getText(src)}`);
    if (ts.isMethodDeclaration(n) && n.type && /^Promise<(any|object|runtime\.ApiResponse<any>)>$/.test(n.type.getText(src)))
      found.push(`${rel}: ${n.name.getText(src)}(): ${n.type.getText(src)}`);
    ts.forEachChild(n, visit);
  };
  visit(src);
}
for (const x of found) console.log("UNTYPED " + x);
console.log(`${files.length} files, ${found.length} untyped`);
process.exit(found.length ? 1 : 0);
