// Build step (after tsc): bundle the CLI into CommonJS files under dist/bin (ADR 0006):
//  - cnabsec.cjs: the entry (src/cli/main.ts, the parser and the help);
//  - <group>.cjs: one per command group module (src/cli/commands/<group>.ts), with the
//    library code it uses; main.ts loads only the group(s) named on the command line.
// A command then loads two files of ours instead of a few dozen ES modules, and modules it
// imports lazily (`await import(...)`) stay lazy: they become functions that run on first
// use, and the packages and node: builtins they need are `require`d only then. Packages stay
// external (@tufjs/models, tuf-js, ajv load from node_modules, so the models patch of
// ADR 0005 applies to the very instance tuf-js uses); they are all CommonJS.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const scripts = fileURLToPath(new URL('./', import.meta.url));
const out = `${dist}bin/`;
// Every module of src/cli/commands is a group of its own (main.ts lists which it loads).
const groups = readdirSync(`${dist}cli/commands`)
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3));

const common = {
  outdir: out,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // `import()` becomes a lazy `require`: the ESM loader would re-parse each CommonJS file.
  supported: { 'dynamic-import': false },
  // import.meta.url (createRequire in src/cnab/schema.ts, src/tuf/models-patch.ts) is the
  // bundle file's URL.
  define: { 'import.meta.url': '__cnabsecModuleUrl' },
  inject: [`${scripts}build-cli-shim.js`],
  sourcemap: true,
  logLevel: 'warning',
};

/** main.ts's `import('./commands/<group>.js')` → the group's own bundle, loaded at run time. */
const groupsExternal = {
  name: 'cnabsec-groups-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/[a-z-]+\.js$/ }, (args) => ({
      path: args.path.replace('./commands/', './').replace(/\.js$/, '.cjs'),
      external: true,
    }));
  },
};

rmSync(out, { recursive: true, force: true });
await build({ ...common, entryPoints: { cnabsec: `${dist}cli/main.js` }, plugins: [groupsExternal] });
await build({
  ...common,
  entryPoints: Object.fromEntries(groups.map((g) => [g, `${dist}cli/commands/${g}.js`])),
});
// src/cnab/schema.ts requires its build-time validator relative to its own file, which is
// now a bundle in dist/bin.
cpSync(`${dist}cnab/schema/validate-bundle.cjs`, `${out}schema/validate-bundle.cjs`);
