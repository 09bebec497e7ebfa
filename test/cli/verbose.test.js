// -v/--verbose (issue 12, item 3): every command prints to stderr each HTTP request (method,
// URL, status, bytes) and each file read (path, bytes); stdout is unchanged; nothing without
// the flag; never a passphrase or key material. The trace facility is off by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { trustedRepository, NAME } from '../helpers/client-repo.js';
import { tempDir } from '../helpers/tmp.js';
import { setTraceSink, trace, traceUrl, tracing } from '../../dist/util/trace.js';

const size = async (file) => (await stat(file)).size;

test('lookup -v: each GET with status and bytes, each metadata file read; stdout unchanged', async (t) => {
  const r = await trustedRepository(t, { http: true, build: (sim) => sim.addBundle('v1') });
  const quiet = runCli(['lookup', `${NAME}:v1`], { env: r.env });
  assert.equal(quiet.status, 0, quiet.stderr);
  assert.equal(quiet.stderr, '', 'nothing on stderr without -v');
  const entry = path.join(r.home, 'trust', encodeURIComponent(NAME));
  for (const flag of ['-v', '--verbose']) {
    const v = runCli(['lookup', `${NAME}:v1`, flag], { env: r.env });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, quiet.stdout, flag);
    const lines = v.stderr.trimEnd().split('\n');
    assert.ok(
      lines.every((l) => l.startsWith('cnabsec: ')),
      v.stderr,
    );
    const ts = await size(path.join(r.metadata, 'timestamp.json'));
    assert.ok(
      lines.includes(
        `cnabsec: read ${path.join(entry, 'trust.json')} (${await size(path.join(entry, 'trust.json'))} bytes)`,
      ),
      v.stderr,
    );
    assert.ok(
      lines.includes(
        `cnabsec: read ${path.join(entry, 'metadata', 'root.json')} (${await size(path.join(entry, 'metadata', 'root.json'))} bytes)`,
      ),
      v.stderr,
    );
    assert.ok(
      lines.some((l) => l.startsWith(`cnabsec: GET ${r.url}/timestamp.json -> 200, ${ts} bytes (`)),
      v.stderr,
    );
    assert.ok(
      lines.some((l) => l.startsWith(`cnabsec: GET ${r.url}/2.root.json -> 404 (`)),
      v.stderr,
    );
  }
});

test('trust add -v traces the root file read; init/status -v never print a passphrase or key', async (t) => {
  const dir = await tempDir(t);
  const r = await trustedRepository(t, { build: (sim) => sim.addBundle('v1') });
  const root = path.join(r.metadata, '1.root.json');
  const env = {
    CNABSEC_HOME: path.join(dir, 'home'),
    CI: 'true',
    CNABSEC_PASSPHRASE: 'sekrit-passphrase-42',
  };
  const add = runCli(['trust', 'add', NAME, '--root', root, '--url', r.url, '-v'], { env });
  assert.equal(add.status, 0, add.stderr);
  assert.equal(add.stderr, `cnabsec: read ${root} (${await size(root)} bytes)\n`);
  const repo = path.join(dir, 'repo');
  const init = runCli(['init', repo, '--name', 'example.com/org/app', '-v'], { env });
  assert.equal(init.status, 0, init.stderr);
  cliOk(['publish', repo], { env });
  const status = runCli(['status', repo, '-v'], { env });
  assert.equal(status.status, 0, status.stderr);
  const config = path.join(repo, 'cnabsec.json');
  assert.ok(status.stderr.includes(`cnabsec: read ${config} (${await size(config)} bytes)\n`), status.stderr);
  for (const out of [init, status]) {
    assert.doesNotMatch(out.stderr, /sekrit|PRIVATE KEY|"keyval"/);
  }
});

test('trace facility: off by default, the line is not even built; URLs lose credentials', () => {
  assert.equal(tracing(), false);
  let built = 0;
  trace(() => `x${++built}`);
  assert.equal(built, 0);
  const lines = [];
  const previous = setTraceSink((l) => lines.push(l));
  try {
    trace(() => `x${++built}`);
  } finally {
    setTraceSink(previous);
  }
  assert.deepEqual(lines, ['x1']);
  assert.equal(traceUrl('https://user:pw@tuf.example/metadata'), 'https://***@tuf.example/metadata');
  assert.equal(traceUrl('http://127.0.0.1:8080/a@b'), 'http://127.0.0.1:8080/a@b');
});

test('-v on serve and bundle canonicalize too: the bundle.json read is traced', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'bundle.json');
  await writeFile(file, '{"b":1,"a":2}');
  const r = runCli(['bundle', 'canonicalize', file, '-v']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '{"a":2,"b":1}');
  assert.match(
    r.stderr,
    new RegExp(`^cnabsec: read ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(13 bytes\\)$`, 'm'),
  );
  assert.match(runCli(['serve', '--help']).stdout, /-v, --verbose/);
});
