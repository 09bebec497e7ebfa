#!/usr/bin/env node
// Benchmark: whole-process time and peak memory of `cnabsec intoto verify` against python
// in-toto 1.3.1 `in-toto-verify` on the same files: a layout with 5 steps whose links each
// list M materials and M products, every artifact MATCHed against the previous step.
//
//   node bench/intoto-verify.js [--sizes 10,1000,10000,100000] [--runs N] [--keep] [--generate-only]
//
// Each size is verified once by both tools first (both must pass), then timed N times
// alternately (default 5 runs, 3 from M = 10 000); the table shows medians and the largest
// peak RSS (from /usr/bin/time, or /proc/<pid>/status VmHWM when it is absent).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, sslibKeyFiles, SslibSigner } from '../dist/crypto/index.js';
import { linkFileName, newLink, serializeMetablock, signMetablock } from '../dist/intoto/index.js';

const CLI = fileURLToPath(new URL('../dist/bin/cnabsec.cjs', import.meta.url));
const PY = '/usr/bin/in-toto-verify';
const TIME = '/usr/bin/time';
const STEPS = 5;

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const sizes = arg('--sizes', '10,1000,10000,100000').split(',').map(Number);
const runsArg = arg('--runs', undefined);
const keep = process.argv.includes('--keep');
const generateOnly = process.argv.includes('--generate-only');

function artifacts(m) {
  const out = {};
  for (let i = 0; i < m; i++) {
    out[`src/dir${i % 97}/file${i}.c`] = {
      sha256: createHash('sha256').update(`content ${i}`).digest('hex'),
    };
  }
  return out;
}

async function generate(dir, m) {
  await mkdir(path.join(dir, 'links'), { recursive: true });
  const owner = generateKeyPair('ed25519').privateKey;
  const ownerFiles = sslibKeyFiles(owner);
  await writeFile(path.join(dir, 'owner.pub'), ownerFiles.public);
  const files = artifacts(m);
  const keys = {};
  const steps = [];
  for (let s = 1; s <= STEPS; s++) {
    const signer = SslibSigner.fromKeyObject(generateKeyPair('ed25519').privateKey);
    keys[signer.keyid] = signer.publicKey;
    const name = `step${s}`;
    steps.push({
      _type: 'step',
      name,
      pubkeys: [signer.keyid],
      threshold: 1,
      expected_command: [],
      expected_materials:
        s === 1
          ? [['ALLOW', '*']]
          : [
              ['MATCH', '*', 'WITH', 'PRODUCTS', 'FROM', `step${s - 1}`],
              ['DISALLOW', '*'],
            ],
      expected_products: [
        ['MATCH', '*', 'WITH', 'MATERIALS', 'FROM', name],
        ['DISALLOW', '*'],
      ],
    });
    const link = { signed: newLink(name, { materials: files, products: files }), signatures: [] };
    await signMetablock(link, signer);
    await writeFile(path.join(dir, 'links', linkFileName(name, signer.keyid)), serializeMetablock(link));
  }
  const layout = {
    signed: { _type: 'layout', expires: '2099-01-01T00:00:00Z', readme: '', keys, steps, inspect: [] },
    signatures: [],
  };
  await signMetablock(layout, SslibSigner.fromKeyObject(owner));
  await writeFile(path.join(dir, 'root.layout'), serializeMetablock(layout));
}

/** Run a command; returns wall seconds, peak RSS in MiB and the exit code. */
function measure(cmd, args, cwd) {
  const useTime = existsSync(TIME);
  const file = useTime ? TIME : cmd;
  const argv = useTime ? ['-f', '@@%e %M', cmd, ...args] : args;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let hwm = 0;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 5);
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const m = /@@([\d.]+) (\d+)/.exec(stderr);
      const rssKb = m ? Number(m[2]) : hwm;
      const exit = m && code === 0 ? 0 : code;
      resolve({ seconds: wall, rssMb: rssKb / 1024, code: exit, stderr: stderr.replace(/@@.*\n?$/, '') });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchSize(m) {
  const dir = await mkdtemp(path.join(tmpdir(), `cnabsec-bench-${m}-`));
  try {
    await generate(dir, m);
    if (generateOnly) {
      console.log(dir);
      return undefined;
    }
    const common = ['-l', 'root.layout', '-k', 'owner.pub'];
    const tools = {
      python: () => measure(PY, [...common, '-t', 'ed25519', '--link-dir', 'links'], dir),
      cnabsec: () =>
        measure(process.execPath, [CLI, 'intoto', 'verify', ...common, '--link-dir', 'links'], dir),
    };
    for (const [name, run] of Object.entries(tools)) {
      const r = await run();
      if (r.code !== 0) throw new Error(`${name} did not verify M=${m}: ${r.stderr}`);
    }
    const runs = Number(runsArg ?? (m >= 10000 ? 3 : 5));
    const res = { python: [], cnabsec: [] };
    for (let i = 0; i < runs; i++)
      for (const [name, run] of Object.entries(tools)) res[name].push(await run());
    const sec = (n) => median(res[n].map((r) => r.seconds));
    const rss = (n) => Math.max(...res[n].map((r) => r.rssMb));
    return { m, runs, py: sec('python'), js: sec('cnabsec'), pyRss: rss('python'), jsRss: rss('cnabsec') };
  } finally {
    if (!keep && !generateOnly) await rm(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

if (!existsSync(PY)) {
  console.error(`${PY} not found: install python in-toto 1.3.1 (scripts/install-peers.sh)`);
  process.exit(2);
}
const rows = [];
for (const m of sizes) {
  process.stderr.write(`M=${m} ...\n`);
  const row = await benchSize(m);
  if (row !== undefined) rows.push(row);
}
if (generateOnly) process.exit(0);
const pad = (s, n) => String(s).padStart(n);
console.log(
  `in-toto verify, ${STEPS} steps, M materials + M products per link (median wall time of whole processes)`,
);
console.log(
  `${pad('M', 7)} ${pad('runs', 4)} ${pad('in-toto-verify s', 16)} ${pad('cnabsec s', 10)} ${pad('speed-up', 9)} ${pad('python peak MiB', 15)} ${pad('cnabsec peak MiB', 16)}`,
);
for (const r of rows) {
  console.log(
    `${pad(r.m, 7)} ${pad(r.runs, 4)} ${pad(r.py.toFixed(3), 16)} ${pad(r.js.toFixed(3), 10)} ${pad(`${(r.py / r.js).toFixed(1)}x`, 9)} ${pad(r.pyRss.toFixed(0), 15)} ${pad(r.jsRss.toFixed(0), 16)}`,
  );
}
