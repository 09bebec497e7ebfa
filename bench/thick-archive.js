// bench/thick-archive: crafted thick bundle archives (each under 100 MiB) read as `bundle add
// --thick` reads them (`readThickBundle`, in a fresh process), with the answer (accepted or the
// refusal code), the in-process time, the whole-process time and the peak RSS of that process.
// Goal (hardening issue): every archive under 100 MiB is refused or accepted in under 2 s and
// 100 MB RSS. Each run is killed past --budget seconds. `--dist <dir>` measures another build
// (e.g. an older checkout's dist/) with the same archives.
// Usage: node bench/thick-archive.js [--mib 96] [--budget 20] [--dist dist] [--only name,...]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { table } from './lib.js';
import { END, file, header, longName, pax, tgz, zeroBomb } from '../test/cnab/tar-craft.js';

const argv = process.argv;
const arg = (name, d) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? d : argv[i + 1];
};
const MIB = Number(arg('mib', 96));
const BUDGET_S = Number(arg('budget', 20));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.resolve(arg('dist', path.join(ROOT, 'dist')));
const ONLY = arg('only', undefined)?.split(',');
const B = await readFile(path.join(ROOT, 'test', 'fixtures', 'bundle.json'));

/** gzip members repeated until about `mib` MiB of archive: large inputs built fast. */
function repeated(head, member, mib, tail = tgz([])) {
  const n = Math.max(1, Math.floor((mib * 2 ** 20) / member.length));
  return Buffer.concat([gzipSync(head), ...Array.from({ length: n }, () => member), tail]);
}

/** Crafted archives: [name, make bytes] (each under 100 MiB), made one at a time. */
function archives() {
  const tiny = Buffer.concat(Array.from({ length: 1000 }, (_, i) => file(`d/f${i}`, 'x')));
  const chain = pax({ comment: 'a'.repeat((1 << 20) - 40) });
  const gnu = { magic: 'ustar  \0' };
  const good = () =>
    Buffer.concat([
      gzipSync(Buffer.concat([file('bundle.json', B), header('image.tar', MIB << 20)]), { level: 1 }),
      gzipSync(randomBytes(MIB << 20), { level: 1 }),
      tgz([]),
    ]);
  const zeros = () => gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  const big = (name) => Buffer.concat([file('bundle.json', B), header(name, 2 ** 33 - 1)]);
  return [
    [`good: bundle.json + ${MIB} MiB image (random)`, good],
    [
      'good: 99 999 empty files + bundle.json',
      () => tgz([...Array.from({ length: 99_999 }, (_, i) => file(`f/${i}`, '')), file('bundle.json', B)]),
    ],
    [
      'good: bundle.json + 200 MiB of zeros (old scanner: quadratic)',
      () =>
        Buffer.concat([
          zeroBomb(Buffer.concat([file('bundle.json', B), header('z', 200 << 20)]), 200),
          tgz([]),
        ]),
    ],
    ['bomb: 1 MiB gzip of 1 GiB zeros', () => zeroBomb(big('z'), 1024)],
    [`bomb: ${MIB} MiB gzip of zeros (~${MIB} GiB)`, () => repeated(big('z'), zeros(), MIB)],
    [
      'many tiny entries: 200 000 one-byte files',
      () => tgz([file('bundle.json', B), ...Array.from({ length: 200_000 }, (_, i) => file(`t/${i}`, 'x'))]),
    ],
    [
      'same 1 000 tiny entries repeated to the size',
      () => repeated(file('bundle.json', B), gzipSync(tiny), MIB),
    ],
    [
      'header chain: 100 entries with a 1 MiB pax record each',
      () =>
        tgz([
          file('bundle.json', B),
          ...Array.from({ length: 100 }, (_, i) => Buffer.concat([chain, file(`c/${i}`, '')])),
        ]),
    ],
    [
      'long names: 20 000 entries with 4 KiB GNU long names',
      () =>
        tgz([
          file('bundle.json', B),
          ...Array.from({ length: 20_000 }, (_, i) =>
            Buffer.concat([longName(`${'n'.repeat(4000)}/${i}`), file('x', '', gnu)]),
          ),
        ]),
    ],
    [
      'huge pax record declared (8 GiB)',
      () => tgz([header('PaxHeaders/x', 2 ** 33 - 1, { type: 'x' })], { end: false }),
    ],
    [
      'duplicate bundle.json after 64 MiB image',
      () =>
        Buffer.concat([
          gzipSync(Buffer.concat([file('bundle.json', B), header('image.tar', 64 << 20)])),
          gzipSync(randomBytes(64 << 20), { level: 1 }),
          tgz([file('bundle.json', B)]),
        ]),
    ],
    [
      'truncated: good archive cut at half',
      () => {
        const g = good();
        return g.subarray(0, g.length >> 1);
      },
    ],
    ['garbage headers after bundle.json', () => tgz([file('bundle.json', B), randomBytes(4096)])],
    [
      'entries after the end block (ignored)',
      () => tgz([file('bundle.json', B), END, file('bundle.json', B)]),
    ],
  ];
}

/** Run the library in a fresh process; the child prints its own answer, time and maxRSS. */
function run(tgzFile) {
  const lib = pathToImport(path.join(DIST, 'cnab', 'archive.js'));
  const code = `
    const { readThickBundle } = await import(${JSON.stringify(lib)});
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const t = performance.now();
    const c0 = process.cpuUsage();
    let answer = 'accepted';
    try { await readThickBundle(${JSON.stringify(tgzFile)}); } catch (e) { answer = e.code ?? e.name; }
    const ms = performance.now() - t;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    const hwm = /VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    process.stdout.write(JSON.stringify({ answer, ms, cpuMs, rssKb: hwm === null ? undefined : Number(hwm[1]) }));`;
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), BUDGET_S * 1000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const wall = performance.now() - start;
      if (signal !== null) return resolve({ killed: true, wall });
      try {
        resolve({ ...JSON.parse(out), wall });
      } catch {
        resolve({ answer: `exit ${status}`, wall });
      }
    });
  });
}

function pathToImport(p) {
  return new URL(`file://${p}`).href;
}

const work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bench-thick-archive-'));
const started = Date.now();
const load0 = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
try {
  const rows = [];
  for (const [name, make] of archives()) {
    if (ONLY !== undefined && !ONLY.some((o) => name.includes(o))) continue;
    const f = path.join(work, 'a.tgz');
    await writeFile(f, make());
    const size = (await stat(f)).size;
    const r = await run(f);
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
    rows.push(
      r.killed
        ? [
            name,
            `${(size / 2 ** 20).toFixed(2)}`,
            `> ${BUDGET_S} s (killed)`,
            '-',
            '-',
            `> ${BUDGET_S} s`,
            '-',
          ]
        : [
            name,
            `${(size / 2 ** 20).toFixed(2)}`,
            r.answer,
            r.ms === undefined ? '-' : s(r.ms),
            r.cpuMs === undefined ? '-' : s(r.cpuMs),
            s(r.wall),
            r.rssKb === undefined ? '-' : `${Math.round(r.rssKb / 1024)}`,
          ],
    );
  }
  const when = new Date().toISOString().slice(0, 10);
  console.log(
    `thick-archive — readThickBundle (the bundle add --thick path) on crafted archives · ${DIST === path.join(ROOT, 'dist') ? 'dist/' : DIST} · node ${process.version} · ${cpus().length} cores · ${Math.round(totalmem() / 2 ** 30)} GiB · ${when} · budget ${BUDGET_S} s · total ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  table(['archive', 'MiB', 'answer', 'in process', 'CPU', 'whole process', 'peak RSS MB'], rows);
  console.log(
    `load average before/after: ${load0} / ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('goal: every archive under 100 MiB answered in < 2 s (whole process), peak RSS < 100 MB');
} finally {
  await rm(work, { recursive: true, force: true });
}
