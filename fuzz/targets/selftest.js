// A target that misbehaves on purpose, for the fuzzer's own tests (test/fuzz/engine.test.js):
// by case input it returns, refuses (CnabsecError), crashes (TypeError), wraps an engine
// error, is slow, hangs, or grows its memory to 768 MiB (past a lower test limit). Not in the
// default target list.
import { CnabsecError } from '../../dist/errors.js';

const KINDS = ['ok', 'refuse', 'crash', 'wrapped', 'hang', 'memory', 'slow'];

export const targets = {
  selftest: {
    name: 'selftest',
    about: 'misbehaves on purpose (tests of the fuzzer)',
    setup: () => ({}),
    generate(ctx, rng) {
      const kinds = process.env.FUZZ_SELFTEST_KINDS?.split(',') ?? KINDS;
      const kind = kinds[rng.int(kinds.length)];
      return { label: kind, bytes: Buffer.concat([Buffer.from(`${kind}:`), rng.bytes(16)]) };
    },
    async run(ctx, input) {
      const kind = input.label;
      if (kind === 'refuse') throw new CnabsecError('SELFTEST', 'refused');
      if (kind === 'crash') return JSON.parse('null').property;
      if (kind === 'wrapped')
        throw new CnabsecError('SELFTEST', 'wrapped', {
          cause: new TypeError("Cannot read properties of undefined (reading 'x')"),
        });
      if (kind === 'hang') for (;;);
      if (kind === 'slow') {
        const end = Date.now() + Number(process.env.FUZZ_SELFTEST_SLOW_MS ?? 300);
        while (Date.now() < end);
      }
      if (kind === 'memory') {
        const hold = [];
        for (let i = 0; i < 24; i++) {
          hold.push(Buffer.alloc(32 * 1024 * 1024, 1));
          await new Promise((r) => setTimeout(r, 5));
        }
        return hold.length;
      }
    },
  },
};
