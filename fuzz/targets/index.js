// The fuzz targets, by name. Each module exports targets {name, about, setup, generate, run}:
//   setup({seed, dir}) → ctx        seed inputs made by real library calls, deterministic in `seed`
//   generate(ctx, rng) → {label, bytes}   one case's input (label: which file / mode)
//   run(ctx, input, rng)            feeds the input to the library; throws what the library throws
//   controls(ctx) → inputs          optional: the unmutated seeds (default ctx.seeds), which must pass
export const TARGETS = {
  'intoto-parse': './intoto.js',
  'intoto-verify': './intoto.js',
  'tuf-client': './tuf.js',
  'tuf-root': './tuf.js',
  'bundle-json': './cnab.js',
  'thick-archive': './cnab.js',
  'keystore-file': './keys.js',
  'intoto-key': './keys.js',
  'map-file': './map.js',
};

/** Targets run only when named (the fuzzer's own tests). */
const EXTRA = { selftest: './selftest.js' };

export async function loadTarget(name) {
  const file = TARGETS[name] ?? EXTRA[name];
  if (file === undefined)
    throw new Error(`unknown fuzz target ${name} (known: ${Object.keys(TARGETS).join(', ')})`);
  const mod = await import(file);
  return mod.targets[name];
}
