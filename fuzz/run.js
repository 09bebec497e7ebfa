#!/usr/bin/env node
// cnabsec fuzz suite — see fuzz/README.md.
//   node fuzz/run.js [--cases N] [--seed S] [--target name[,name]] [--jobs J] [--verbose]
//   node fuzz/run.js --target T --seed S --case I     run one case in-process, print the error
//   node fuzz/run.js --replay .fuzz-findings/T/H.json replay a saved input in-process
//   node fuzz/run.js --list                            list saved findings by target and signature
//   node fuzz/run.js --targets                         list the targets
//   node fuzz/run.js --known                           list the known findings (fuzz/known-findings.json)
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULTS, failures, runCampaign, table } from './engine.js';
import { classify } from './classify.js';
import { Rng } from './rng.js';
import { TARGETS, loadTarget } from './targets/index.js';

function parseArgs(argv) {
  const o = { cases: 100_000, seed: DEFAULTS.seed, targets: Object.keys(TARGETS), jobs: 2 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--cases') o.cases = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--target') o.targets = v().split(',');
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--case') o.case = Number(v());
    else if (a === '--replay') o.replay = v();
    else if (a === '--findings') o.findingsDir = v();
    else if (a === '--slow-ms') o.slowMs = Number(v());
    else if (a === '--hang-ms') o.hangMs = Number(v());
    else if (a === '--rss-mb') o.rssLimit = Number(v()) * 1024 * 1024;
    else if (a === '--list') o.list = true;
    else if (a === '--targets') o.listTargets = true;
    else if (a === '--known') o.known = true;
    else if (a === '--allow-wrapped') o.allowWrapped = true;
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const t of o.targets) if (!(t in TARGETS) && t !== 'selftest') throw new Error(`unknown target ${t}`);
  return o;
}

/** Run one input in this process and print the outcome with the full stack. */
async function runOne(name, seed, input, rngKey) {
  const target = await loadTarget(name);
  const dir = await mkdtemp(path.join(tmpdir(), `cnabsec-fuzz-${name}-`));
  try {
    const ctx = await target.setup({ seed, dir });
    const inp = input ?? (await target.generate(ctx, new Rng(name, seed, rngKey)));
    console.log(`target ${name}, seed ${seed}, input ${inp.label} (${inp.bytes.length} bytes)`);
    const t0 = Date.now();
    try {
      await target.run(ctx, inp, new Rng(name, seed, rngKey, 'run'));
      const ms = Date.now() - t0;
      console.log(`ok in ${ms} ms${ms > DEFAULTS.slowMs ? ' — SLOW (over the limit)' : ''}`);
      return ms > DEFAULTS.slowMs ? 1 : 0;
    } catch (e) {
      const c = classify(e);
      const ms = Date.now() - t0;
      const slow = ms > DEFAULTS.slowMs ? ' — SLOW (over the limit)' : '';
      console.log(`${c.status} in ${ms} ms${slow}${c.signature ? `: ${c.signature}` : ''}`);
      const clip = (x) => (x.length > 4000 ? `${x.slice(0, 4000)}… (${x.length} characters)` : x);
      console.log(clip(e instanceof Error ? e.stack : String(e)));
      let cause = e?.cause;
      while (cause !== undefined && cause !== null) {
        console.log(clip(`caused by: ${cause instanceof Error ? cause.stack : String(cause)}`));
        cause = cause?.cause;
      }
      return c.status === 'rejected' && slow === '' ? 0 : 1;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const KNOWN = new URL('./known-findings.json', import.meta.url);

/** Known findings on the tree this suite was written against: {target: [{signature, input, owner}]}. */
function knownFindings() {
  try {
    return JSON.parse(readFileSync(KNOWN, 'utf8')).findings;
  } catch {
    return {};
  }
}

function printKnown() {
  for (const [t, list] of Object.entries(knownFindings())) {
    console.log(`\n${t}:`);
    for (const f of list)
      console.log(`  ${f.signature}\n    input: ${f.input}${f.area ? `\n    area: ${f.area}` : ''}`);
  }
}

function listFindings(dir) {
  let targets = [];
  try {
    targets = readdirSync(dir).sort();
  } catch {
    console.log(`no findings under ${dir}`);
    return;
  }
  for (const t of targets) {
    const bySig = new Map();
    for (const f of readdirSync(path.join(dir, t)).filter((n) => n.endsWith('.json'))) {
      const info = JSON.parse(readFileSync(path.join(dir, t, f), 'utf8'));
      const list = bySig.get(info.signature) ?? [];
      list.push({ ...info, file: path.join(dir, t, f) });
      bySig.set(info.signature, list);
    }
    console.log(`\n${t}: ${bySig.size} signature(s)`);
    for (const [sig, list] of bySig) {
      const first = list.sort((a, b) => a.bytes - b.bytes)[0];
      console.log(
        `  ${sig}\n    e.g. ${first.label}, ${first.bytes} bytes, seed ${first.seed} case ${first.case}: ${first.replay}`,
      );
    }
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const findingsDir = o.findingsDir ?? DEFAULTS.findingsDir;
  if (o.listTargets) {
    for (const t of Object.keys(TARGETS)) console.log(`${t.padEnd(16)} ${(await loadTarget(t)).about}`);
    return 0;
  }
  if (o.list) return listFindings(findingsDir) ?? 0;
  if (o.known) return printKnown() ?? 0;
  if (o.replay !== undefined) {
    const info = JSON.parse(readFileSync(o.replay, 'utf8'));
    const bytes = readFileSync(o.replay.replace(/\.json$/, '.bin'));
    return runOne(info.target, info.seed, { label: info.label, bytes }, info.case);
  }
  if (o.case !== undefined) {
    if (o.targets.length !== 1) throw new Error('--case needs one --target');
    return runOne(o.targets[0], o.seed, undefined, o.case);
  }
  const per = Math.max(1, Math.ceil(o.cases / o.targets.length));
  console.log(
    `fuzzing ${o.targets.join(', ')}: ${per} cases each, seed ${o.seed}, ${o.jobs} jobs; findings in ${findingsDir}/`,
  );
  const t0 = Date.now();
  const stats = await runCampaign(
    o.targets,
    per,
    {
      seed: o.seed,
      jobs: o.jobs,
      findingsDir,
      slowMs: o.slowMs ?? DEFAULTS.slowMs,
      hangMs: o.hangMs ?? DEFAULTS.hangMs,
      allowWrapped: o.allowWrapped === true,
      rssLimit: o.rssLimit ?? DEFAULTS.rssLimit,
    },
    o.verbose ? (m) => console.log(m) : () => {},
  );
  console.log(`\n${table(stats)}\n(${Math.round((Date.now() - t0) / 1000)} s)`);
  const known = knownFindings();
  for (const s of stats) {
    if (s.signatures.size === 0) continue;
    console.log(`\n${s.target}:`);
    const mine = new Set((known[s.target] ?? []).map((f) => f.signature));
    for (const [sig, e] of s.signatures)
      console.log(
        `  ${mine.has(sig) ? '[known]' : '[new]  '} ${e.count}x ${sig}${e.first ? `\n     first: case ${e.first.case}, ${e.first.label}, ${e.first.bytes} bytes → ${e.first.file}` : ''}`,
      );
  }
  return stats.some((s) => failures(s) > 0) ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
