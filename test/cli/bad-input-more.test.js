// The bad-input table, continued (issue 12, item 8): at least one realistic bad input for every
// command of `cnabsec --help` (test/cli/command-coverage.test.js checks that none is missing);
// this file: keys, delegations, recovery, the repository, bundles and layouts; the client,
// serve, verify and in-toto are in bad-input-more-client.test.js. Same style as
// bad-input.test.js: the real CLI against a copy of one shared set-up (bad-input-table.js),
// exit 1 with `cnabsec: error [CODE]: ...` naming what was wrong and one hint line (exit 2 for
// usage errors), no stack trace, nothing on stdout, and the case's directory (repository, key
// store, trust store, in-toto files) byte-for-byte unchanged.
import * as path from 'node:path';
import { truncate, writeFile } from 'node:fs/promises';
import { cliOk } from '../helpers/cli.js';
import { NAME, ctx, envFor, missingRepo, runTable } from './bad-input-table.js';

// prepare(copy) → {args, names, hint, env, watch}; `usage: true` for an exit-2 case.
runTable({
  // ---- keys ------------------------------------------------------------------------------
  'key generate: $CNABSEC_HOME is a regular file': {
    code: 'KEY_STORE_IO',
    prepare: async ({ file }) => {
      await writeFile(file('not-a-dir'), 'x');
      return {
        args: ['key', 'generate', '--label', 'releases'],
        env: envFor(file('not-a-dir')),
        names: [path.join(file('not-a-dir'), 'keys')],
      };
    },
  },
  'key list: a key file that is not JSON': {
    code: 'KEY_FILE_CORRUPT',
    prepare: async ({ home }) => {
      const key = path.join(home, 'keys', `${ctx.targetsId}.key`);
      await truncate(key, 50);
      return { args: ['key', 'list'], names: [key], hint: /backup/ };
    },
  },
  'key export: unknown key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['key', 'export', 'ffffffff'], names: ['ffffffff'], hint: /key list/ }),
  },
  'key sign: payload file missing': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'sign', ctx.targetsId, 'payload.bin'], names: ['payload.bin'] }),
  },
  'key sign: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: ['key', 'sign', ctx.targetsId, 'bundle.json', '-o', file('no-dir', 'sig.json')],
      names: [file('no-dir', 'sig.json'), 'ENOENT'],
    }),
  },
  'key import: a file that is not a PEM private key': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'import', 'bundle.json'], names: ['PEM'], hint: /PEM private key/ }),
  },
  'key import: missing PEM file': {
    code: 'KEY_INVALID',
    prepare: () => ({ args: ['key', 'import', 'nope.pem'], names: ['nope.pem', 'ENOENT'] }),
  },
  'key rotate: threshold above the number of keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['key', 'rotate', repo, 'targets', '--add-key', 'new', '--threshold', '5'],
      names: ['targets', '5'],
    }),
  },
  'key rotate: unknown role': {
    code: 'ROLE_UNKNOWN',
    prepare: ({ repo }) => ({
      args: ['key', 'rotate', repo, 'deploy', '--add-key', 'new'],
      names: ['deploy'],
    }),
  },

  // ---- delegations --------------------------------------------------------------------------
  'delegation add: --key that is no key id or file': {
    code: 'KEY_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['delegation', 'add', repo, 'targets/ci', '--paths', `${NAME}:ci-*`, '--key', 'ci.pem'],
      names: ['ci.pem'],
    }),
  },
  'delegation add: without --paths': {
    usage: true,
    prepare: ({ repo }) => ({
      args: ['delegation', 'add', repo, 'targets/ci', '--key', 'new'],
      names: ['--paths'],
    }),
  },
  'delegation remove: not a delegated role': {
    code: 'DELEGATION_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['delegation', 'remove', repo, 'targets/nightly'],
      names: ['targets/nightly'],
      hint: /targets\/releases/,
    }),
  },
  'delegation rotate: threshold above the number of keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['delegation', 'rotate', repo, 'targets/releases', '--add-key', 'new', '--threshold', '7'],
      names: ['targets/releases'],
    }),
  },
  'delegation list: missing repository': missingRepo(['delegation', 'list']),

  // ---- recovery -----------------------------------------------------------------------------
  'recover: missing repository': missingRepo(['recover'], ['--new-root-key', 'new']),
  'recover: no --new-root-key': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({ args: ['recover', repo], names: ['--new-root-key'] }),
  },
  'recover: threshold above the new root keys': {
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ repo }) => ({
      args: ['recover', repo, '--new-root-key', 'new', '--threshold', '3'],
      names: ['root', '3'],
    }),
  },
  'advisory: without --since': {
    usage: true,
    prepare: ({ repo }) => ({ args: ['advisory', repo], names: ['--since'] }),
  },
  'advisory: --since neither a version nor a time (a typed option: usage error)': {
    usage: true,
    prepare: ({ repo }) => ({
      args: ['advisory', repo, '--since', 'yesterday'],
      names: ['--since', 'yesterday'],
    }),
  },
  'version: an argument it does not take': {
    usage: true,
    prepare: () => ({ args: ['version', 'extra'], names: ['version'] }),
  },
  'completion: a shell it does not know': {
    usage: true,
    prepare: () => ({ args: ['completion', 'fish'], names: ['fish'] }),
  },
  'advisory: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ repo, file }) => ({
      args: ['advisory', repo, '--since', '1', '--key', ctx.targetsId, '-o', file('no-dir', 'advisory.txt')],
      names: [file('no-dir', 'advisory.txt')],
    }),
  },

  // ---- repository ---------------------------------------------------------------------------
  'init: repository name outside the OCI grammar': {
    code: 'INVALID_NAME',
    prepare: ({ file }) => ({
      args: ['init', file('new-repo'), '--name', 'Example.com/Org'],
      names: ['Example.com/Org'],
    }),
  },
  'status: missing repository': missingRepo(['status']),
  'publish: missing repository': missingRepo(['publish']),
  'refresh: missing repository': missingRepo(['refresh']),
  'resign: unknown role': {
    code: 'ROLE_UNKNOWN',
    prepare: ({ repo }) => ({ args: ['resign', repo, 'deploy'], names: ['deploy'] }),
  },
  'sign: key id not in the key store': {
    code: 'KEY_NOT_FOUND',
    prepare: ({ repo, home }) => {
      cliOk(['resign', repo, 'targets'], { env: envFor(home) }); // staged: the key is what is wrong
      return { args: ['sign', repo, 'targets', '--key', 'ffffffffffff'], names: ['ffffffffffff'] };
    },
  },
  'payload: role without staged changes': {
    code: 'ROLE_NOT_STAGED',
    prepare: ({ repo }) => ({ args: ['payload', repo, 'targets'], names: ['targets'], hint: /resign/ }),
  },
  'payload: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ repo, home, file }) => {
      cliOk(['resign', repo, 'targets'], { env: envFor(home) });
      return {
        args: ['payload', repo, 'targets', '-o', file('no-dir', 'p.bin')],
        names: [file('no-dir', 'p.bin')],
      };
    },
  },
  'add-signature: missing signature file': {
    code: 'BAD_SIGNATURE',
    prepare: ({ repo }) => ({ args: ['add-signature', repo, 'targets', 'sig.json'], names: ['sig.json'] }),
  },

  // ---- bundles and layouts ------------------------------------------------------------------
  'bundle add: missing bundle file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', 'missing.json'],
      names: ['missing.json'],
    }),
  },
  'bundle add: neither --thin nor --thick': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({ args: ['bundle', 'add', repo, 'v3'], names: ['--thin', '--thick'] }),
  },
  'bundle add: --links directory that does not exist': {
    code: 'INTOTO_METADATA_MISSING',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', 'bundle.json', '--links', 'no-links'],
      names: ['no-links'],
    }),
  },
  'bundle remove: unknown tag': {
    code: 'TARGET_NOT_FOUND',
    prepare: ({ repo }) => ({ args: ['bundle', 'remove', repo, 'v9'], names: [`${NAME}:v9`] }),
  },
  'bundle list: missing repository': missingRepo(['bundle', 'list']),
  'bundle canonicalize: missing file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['bundle', 'canonicalize', 'missing.json'], names: ['missing.json'] }),
  },
  'bundle canonicalize: a directory': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['bundle', 'canonicalize', 'repo'], names: ['repo'] }),
  },
  'bundle canonicalize: truncated bundle.json': {
    code: 'BUNDLE_INVALID_JSON',
    prepare: async ({ file }) => {
      await truncate(file('bundle.json'), 30);
      return { args: ['bundle', 'canonicalize', 'bundle.json'], names: ['bundle.json'] };
    },
  },
  'layout add: missing layout file': {
    code: 'INTOTO_METADATA_MISSING',
    prepare: ({ repo }) => ({
      args: ['layout', 'add', repo, 'release', '--layout', 'root.layout', '--layout-key', 'k.pub'],
      names: ['root.layout'],
    }),
  },
});
