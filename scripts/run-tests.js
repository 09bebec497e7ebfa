#!/usr/bin/env node
// Run every test/**/*.test.js with node:test. Node 20 does not expand globs given to
// `node --test`, so the files are listed here. Arguments narrow the set to paths that
// start with one of them (e.g. `node scripts/run-tests.js test/intoto`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';

function find(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...find(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2).map((f) => path.normalize(f));
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
