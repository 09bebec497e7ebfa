import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';

const CLI = fileURLToPath(new URL('../../dist/bin/cnabsec.cjs', import.meta.url));

function cli(args, cwd) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd, env: { ...process.env, CI: 'true', CNABSEC_PASSPHRASE: 'pw' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? err.code : 0, stdout, stderr });
      },
    );
  });
}

test('CLI: the CNAB template end to end: keygen, layout new, record, run, sign, lint, verify', async (t) => {
  const dir = await tempDir(t);
  const c = (...a) => cli(a, dir);
  for (const n of ['owner', 'dev', 'builder'])
    assert.equal((await c('intoto', 'keygen', n, '-t', n === 'builder' ? 'ecdsa' : 'ed25519')).code, 0);
  assert.equal((await c('intoto', 'keygen', 'packager', '-t', 'rsa', '-p')).code, 0);
  let r = await c(
    'intoto',
    'layout',
    'new',
    '-o',
    'root.layout',
    '-f',
    'source=dev.pub',
    '-f',
    'build=builder.pub',
    '-f',
    'package=packager.pub',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).steps, ['source', 'build', 'package']);
  r = await c('intoto', 'layout', 'lint', 'root.layout');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await c('intoto', 'sign', 'root.layout', '-k', 'owner')).code, 0);

  await mkdir(path.join(dir, 'src'));
  await writeFile(path.join(dir, 'src/porter.yaml'), 'name: demo\n');
  assert.equal((await c('intoto', 'record', 'start', '-n', 'source', '-k', 'dev')).code, 0);
  assert.equal((await c('intoto', 'record', 'stop', '-n', 'source', '-k', 'dev', '-p', 'src')).code, 0);
  r = await c(
    'intoto',
    'run',
    '-n',
    'build',
    '-k',
    'builder',
    '-m',
    'src',
    '-p',
    'src',
    'bundle.json',
    '--',
    'sh',
    '-c',
    'echo {} > bundle.json',
  );
  assert.equal(r.code, 0, r.stderr);
  r = await c(
    'intoto',
    'run',
    '-n',
    'package',
    '-k',
    'packager',
    '-m',
    'bundle.json',
    '-p',
    'bundle.json',
    'bundle.tgz',
    '--',
    'tar',
    'czf',
    'bundle.tgz',
    'bundle.json',
  );
  assert.equal(r.code, 0, r.stderr);

  const verifyDir = path.join(dir, 'download');
  await mkdir(verifyDir);
  const { copyFile } = await import('node:fs/promises');
  await copyFile(path.join(dir, 'bundle.tgz'), path.join(verifyDir, 'bundle.tgz'));
  r = await c(
    'intoto',
    'verify',
    '-l',
    'root.layout',
    '-k',
    'owner.pub',
    '--link-dir',
    '.',
    '--inspection-dir',
    verifyDir,
    '--json',
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(JSON.parse(r.stdout).verified, true);

  // A different archive is caught by the inspection rules.
  await writeFile(path.join(dir, 'bundle.json'), '{"evil":1}\n');
  const { execFileSync } = await import('node:child_process');
  execFileSync('tar', ['czf', path.join(verifyDir, 'bundle.tgz'), 'bundle.json'], { cwd: dir });
  r = await c(
    'intoto',
    'verify',
    '-l',
    'root.layout',
    '-k',
    'owner.pub',
    '--inspection-dir',
    verifyDir,
    '--json',
  );
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).error.code, 'INTOTO_RULE_FAILED');
});

test('CLI: bad input gives a clear error with a code and exit 1, never a crash', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bad.json'), '{"signed": ');
  await writeFile(path.join(dir, 'type.layout'), '{"signed": {"_type": "lay"}, "signatures": []}');
  await writeFile(
    path.join(dir, 'rule.layout'),
    JSON.stringify({
      signed: {
        _type: 'layout',
        expires: '2030-01-01T00:00:00Z',
        steps: [{ name: 'a', expected_products: [['PERMIT', '*']] }],
        inspect: [],
      },
    }),
  );
  await writeFile(
    path.join(dir, 'ok.layout'),
    JSON.stringify({
      signed: { _type: 'layout', expires: '2030-01-01T00:00:00Z', steps: [{ name: 'a' }], inspect: [] },
    }),
  );
  await writeFile(path.join(dir, 'bad.pub'), 'hello');
  assert.equal((await cli(['intoto', 'keygen', 'k'], dir)).code, 0);
  const cases = [
    [['-l', 'bad.json', '-k', 'k.pub'], 'INTOTO_BAD_FORMAT'],
    [['-l', 'type.layout', '-k', 'k.pub'], 'INTOTO_BAD_FORMAT'],
    [['-l', 'rule.layout', '-k', 'k.pub'], 'INTOTO_BAD_RULE'],
    [['-l', 'ok.layout', '-k', 'bad.pub'], 'INTOTO_BAD_KEY'],
    [['-l', 'missing.layout', '-k', 'k.pub'], 'INTOTO_BAD_FORMAT'],
    [['-l', 'ok.layout', '-k', 'k.pub'], 'INTOTO_SIGNATURE_INVALID'],
  ];
  for (const [args, code] of cases) {
    const r = await cli(['intoto', 'verify', ...args, '--json'], dir);
    assert.equal(r.code, 1, `${args}: ${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).error.code, code, args.join(' '));
  }
  assert.equal((await cli(['intoto', 'sign', 'ok.layout', '-k', 'k'], dir)).code, 0);
  let r = await cli(['intoto', 'verify', '-l', 'ok.layout', '-k', 'k.pub', '--link-dir', 'nope'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error \[INTOTO_LINK_DIR_MISSING\]: link directory nope does not exist\n {2}hint: /);
  r = await cli(['intoto', 'run', '-n', 's', '-k', 'bad.pub', '--', 'true'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /INTOTO_BAD_KEY/);
});

test('CLI: intoto run with --materials=x (one value) runs the command that follows', async (t) => {
  const dir = await tempDir(t);
  assert.equal((await cli(['intoto', 'keygen', 'k'], dir)).code, 0);
  await writeFile(path.join(dir, 'in.txt'), 'x');
  const r = await cli(
    ['intoto', 'run', '-n', 'build', '-k', 'k', '--materials=in.txt', 'touch', 'out.txt', '--json'],
    dir,
  );
  assert.equal(r.code, 0, r.stderr);
  const { readFile } = await import('node:fs/promises');
  const link = JSON.parse(await readFile(path.join(dir, JSON.parse(r.stdout).path), 'utf8'));
  assert.deepEqual(link.signed.command, ['touch', 'out.txt']);
  assert.deepEqual(Object.keys(link.signed.materials), ['in.txt']);
  {
    const signed = await cli(
      ['intoto', 'sign', '--key=k', path.join(dir, JSON.parse(r.stdout).path), '--json'],
      dir,
    );
    assert.equal(signed.code, 0, signed.stderr);
  }
});
