// The layering rule of the project (README "Layout and design"): util → crypto → tuf / intoto
// → cnab → workflows → server / registry → cli, each layer importing only layers before it (tuf
// and intoto are siblings, as are server and registry, and import neither each other). Checked on the TypeScript sources, so a
// new upward import fails here instead of being found in review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const RANK = { util: 0, crypto: 1, tuf: 2, intoto: 2, cnab: 3, workflows: 4, server: 5, registry: 5, cli: 6 };

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** The layer of a source path: its first folder under src/ (undefined for src/*.ts). */
function layerOf(file) {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0] : undefined;
}

/** Relative module specifiers of import/export-from statements and dynamic imports. */
export function specifiers(text) {
  const out = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out.filter((s) => s.startsWith('.'));
}

test('every layer imports only the layers below it', () => {
  const files = sources(SRC);
  assert.ok(files.length > 50, `found ${files.length} sources`);
  const violations = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) continue; // src/index.ts and src/errors.ts are the package root
    assert.ok(from in RANK, `${path.relative(SRC, file)}: folder ${from} has no place in the layering`);
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const to = layerOf(path.resolve(path.dirname(file), spec));
      if (to === undefined || to === from) continue;
      if (!(to in RANK) || RANK[to] >= RANK[from])
        violations.push(`${path.relative(SRC, file)} imports ${spec} (${from} → ${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the import scanner sees static, re-export, side-effect and dynamic imports', () => {
  const text = [
    "import { a } from '../tuf/a.js';",
    "import type { B } from '../cnab/b.js';",
    "export * from './c.js';",
    "import '../server/d.js';",
    "const e = await import('../cli/e.js');",
    "const f = 'not an import from \\'../x.js\\'';",
  ].join('\n');
  assert.deepEqual(specifiers(text).sort(), [
    '../cli/e.js',
    '../cnab/b.js',
    '../server/d.js',
    '../tuf/a.js',
    './c.js',
  ]);
});
