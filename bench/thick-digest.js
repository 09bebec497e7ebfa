// bench/thick-digest: SHA-256 of a thick bundle archive (default 2 GiB) by cnabsec, side by
// side with `openssl dgst -sha256` (the practical limit) and `sha256sum`, plus the whole
// `cnabsec bundle add --thick` command with its peak RSS. Goal (issue 6): >= 0.9x openssl's
// speed, peak RSS < 100 MB. Usage: node bench/thick-digest.js [--mib 2048] [--runs 3]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, copyFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, median, table } from './lib.js';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const MIB = arg('mib', 2048);
const RUNS = arg('runs', 3);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

const work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bench-thick-'));
try {
  // A real thick bundle: bundle.json first, then a large incompressible "image" (gzip -1).
  console.log(`building a ${MIB} MiB thick bundle in ${work} ...`);
  await copyFile(path.join(ROOT, 'examples', 'bundle.json'), path.join(work, 'bundle.json'));
  execFileSync(
    'sh',
    [
      '-c',
      `head -c ${MIB * 1024 * 1024} /dev/urandom > image.tar && tar -cf - bundle.json image.tar | gzip -1 > bundle.tgz && rm image.tar`,
    ],
    { cwd: work },
  );
  const tgz = path.join(work, 'bundle.tgz');
  const size = (await stat(tgz)).size;
  const env = {
    ...process.env,
    CNABSEC_HOME: path.join(work, 'home'),
    CNABSEC_PASSPHRASE: 'bench',
    CI: 'true',
  };
  execFileSync(process.execPath, [CLI, 'init', path.join(work, 'repo'), '--name', 'bench.example/org/b'], {
    env,
  });
  const lib = `import { fileDigest } from ${JSON.stringify(path.join(ROOT, 'dist', 'cnab', 'bundle.js'))}; await fileDigest(${JSON.stringify(tgz)});`;

  const contenders = [
    ['openssl dgst -sha256', 'openssl', ['dgst', '-sha256', tgz]],
    ['sha256sum', 'sha256sum', [tgz]],
    ['cnabsec fileDigest (library)', process.execPath, ['--input-type=module', '-e', lib]],
    [
      'cnabsec bundle add --thick (CLI)',
      process.execPath,
      [CLI, 'bundle', 'add', path.join(work, 'repo'), 'v1', '--thick', tgz],
    ],
  ];
  const results = [];
  for (const [label, cmd, args] of contenders) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await measure(cmd, args, { env });
      if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
      runs.push(r);
    }
    results.push({ label, ms: median(runs.map((r) => r.ms)), rssKb: Math.max(...runs.map((r) => r.rssKb)) });
  }
  const openssl = results[0].ms;
  console.log(
    `\nthick bundle ${(size / 2 ** 20).toFixed(0)} MiB, median of ${RUNS} runs, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  table(
    ['digest of the archive', 'seconds', 'MiB/s', 'x openssl speed', 'peak RSS MB'],
    results.map((r) => [
      r.label,
      (r.ms / 1000).toFixed(2),
      (size / 2 ** 20 / (r.ms / 1000)).toFixed(0),
      (openssl / r.ms).toFixed(2),
      (r.rssKb / 1024).toFixed(0),
    ]),
  );
  console.log('\ngoal: cnabsec >= 0.90x openssl speed, peak RSS < 100 MB');
} finally {
  await rm(work, { recursive: true, force: true });
}
