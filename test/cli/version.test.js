// `cnabsec version`, `--version` and `-V` print package.json's version (no second copy in the
// sources) and the version of Node.js; `version --json` gives {"version","node"}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { runCli } from '../helpers/cli.js';

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));

test('version: the command, --version and -V print the package version and node', () => {
  const line = `cnabsec ${pkg.version} (node ${process.versions.node})\n`;
  for (const args of [['version'], ['--version'], ['-V']]) {
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, line, args.join(' '));
    assert.equal(r.stderr, '');
  }
});

test('version: --json gives one document {"version","node"}', () => {
  const r = runCli(['version', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { version: pkg.version, node: process.versions.node });
});

test('version: the version is read from package.json, not written in the sources', async () => {
  const { readdir } = await import('node:fs/promises');
  const src = new URL('../../src/cli/', import.meta.url);
  const files = (await readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'));
  for (const f of files) {
    const text = await readFile(new URL(f, src), 'utf8');
    assert.doesNotMatch(text, new RegExp(`['"\`]${pkg.version.replace(/\./g, '\\.')}['"\`]`), f);
  }
  assert.equal(runCli(['version', 'extra']).status, 2);
});
