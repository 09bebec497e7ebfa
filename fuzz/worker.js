// Fuzz worker (a child process): builds a target's seeds once, then runs the cases it is told
// to, reporting each start and outcome over IPC so that the parent's watchdog can kill it on
// a hang or a memory blow-up. Also generates a single case's input on request.
import { classify } from './classify.js';
import { Rng } from './rng.js';
import { loadTarget } from './targets/index.js';

let state;

/** The target and its seeds, made once per worker (concurrent messages share one setup). */
function prepare(name, seed, dir) {
  if (state?.name !== name || state.seed !== seed) {
    state = {
      name,
      seed,
      ready: (async () => {
        const target = await loadTarget(name);
        return { name, seed, target, ctx: await target.setup({ seed, dir }), dir };
      })(),
    };
  }
  return state.ready;
}

/** Run one case: {status, ms, rss, ...}. */
export async function runCase(s, i) {
  let input;
  try {
    input = await s.target.generate(s.ctx, new Rng(s.name, s.seed, i));
  } catch (e) {
    // a bug of the fuzzer, not of cnabsec: reported as such, the campaign goes on
    const error = { name: e?.name, message: String(e?.message ?? e), stack: e?.stack };
    return {
      out: { status: 'harness', error, signature: `harness: ${error.message.slice(0, 100)}`, ms: 0 },
      input: { label: 'harness', bytes: Buffer.alloc(0) },
    };
  }
  const t0 = process.hrtime.bigint();
  let out;
  try {
    await s.target.run(s.ctx, input, new Rng(s.name, s.seed, i, 'run'));
    out = { status: 'ok' };
  } catch (e) {
    out = classify(e);
  }
  out.ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { out, input };
}

const send = (m) => new Promise((resolve) => process.send(m, resolve));

async function onMessage(m) {
  if (m.type === 'run') {
    const s = await prepare(m.target, m.seed, m.dir);
    await send({ type: 'ready' });
    for (let i = m.from; i < m.to; i++) {
      await send({ type: 'start', i });
      let { out, input } = await runCase(s, i);
      if (out.ms > m.slowMs) {
        // once more, to tell a slow input from a busy machine
        const again = await runCase(s, i);
        if (again.out.ms < out.ms) out.ms = again.out.ms;
      }
      // the peak (kernel-kept) catches a blow-up that was freed again before the case returned
      const rss = Math.max(process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
      const failed =
        out.status === 'crash' ||
        out.status === 'wrapped' ||
        out.status === 'harness' ||
        out.ms > m.slowMs ||
        rss > m.rssLimit;
      await send({
        type: 'done',
        i,
        out: { ...out, rss },
        input: failed
          ? { label: input.label, bytes: Buffer.from(input.bytes).toString('base64') }
          : undefined,
      });
      if (rss > m.rssLimit) process.exit(3);
    }
    await send({ type: 'finished' });
  } else if (m.type === 'gen') {
    const s = await prepare(m.target, m.seed, m.dir);
    const input = await s.target.generate(s.ctx, new Rng(s.name, s.seed, m.i));
    await send({ type: 'input', label: input.label, bytes: Buffer.from(input.bytes).toString('base64') });
  } else if (m.type === 'exit') {
    process.exit(0);
  }
}

process.on('message', (m) => {
  onMessage(m).catch(async (e) => {
    await send({ type: 'error', message: e instanceof Error ? e.stack : String(e) });
    process.exit(2);
  });
});
// The parent is gone (killed, interrupted): stop too.
process.on('disconnect', () => process.exit(0));
// Errors escaping a case asynchronously (an unawaited rejection inside the library) are findings too.
process.on('unhandledRejection', (e) => {
  process.send({ type: 'unhandled', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
});
