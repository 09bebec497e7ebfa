// The bad-input table, continued (issue 12, item 8): the client (trust, lookup), serve, verify
// and in-toto commands; see bad-input-more.test.js and bad-input-table.js.
import * as path from 'node:path';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { cliOk } from '../helpers/cli.js';
import { NAME, envFor, missingRepo, runTable } from './bad-input-table.js';

// prepare(copy, port) → {args, names, hint, env, watch}; `usage: true` for an exit-2 case.
runTable({
  // ---- client -------------------------------------------------------------------------------
  'trust add: repository already trusted': {
    code: 'TRUST_EXISTS',
    prepare: ({ repo }) => ({
      args: [
        'trust',
        'add',
        NAME,
        '--root',
        path.join(repo, 'metadata', '1.root.json'),
        '--url',
        'http://127.0.0.1:9',
      ],
      names: [NAME],
      hint: /trust reset/,
    }),
  },
  'trust reset: repository not trusted': {
    code: 'TRUST_NOT_FOUND',
    prepare: ({ repo }) => ({
      args: ['trust', 'reset', 'example.com/org/other', '--root', path.join(repo, 'metadata', '1.root.json')],
      names: ['example.com/org/other'],
      hint: /trust add/,
    }),
  },
  'trust reset: missing root file': {
    code: 'INVALID_ARGUMENT',
    prepare: () => ({ args: ['trust', 'reset', NAME, '--root', 'new-root.json'], names: ['new-root.json'] }),
  },
  'trust list: a truncated trust entry': {
    code: 'TRUST_STORE_CORRUPT',
    prepare: async ({ home }) => {
      const entry = path.join(home, 'trust', encodeURIComponent(NAME), 'trust.json');
      await truncate(entry, 20);
      // The advice must work: `trust add` refuses while the entry exists, so it says to remove it.
      return {
        args: ['trust', 'list'],
        names: [entry],
        hint: new RegExp(`remove ${path.dirname(entry)} and run`),
      };
    },
  },
  'lookup: repository not trusted': {
    code: 'TRUST_NOT_FOUND',
    prepare: () => ({ args: ['lookup', 'example.com/org/other:v1'], names: ['example.com/org/other:v1'] }),
  },
  'serve: missing repository': missingRepo(['serve']),
  'serve: nothing published yet': {
    code: 'SERVER_DIRECTORY',
    prepare: ({ home, file }) => {
      cliOk(['init', file('new-repo'), '--name', 'example.com/org/new'], { env: envFor(home) });
      return { args: ['serve', file('new-repo')], names: [file('new-repo')], hint: /cnabsec publish/ };
    },
  },
  'serve: port out of range': {
    usage: true,
    prepare: ({ repo }) => ({ args: ['serve', repo, '--port', '99999'], names: ['--port', '99999'] }),
  },
  'serve: port in use': {
    code: 'SERVER_LISTEN_FAILED',
    busyPort: true,
    prepare: ({ repo }, port) => ({
      args: ['serve', repo, '--port', String(port)],
      names: [`127.0.0.1:${port}`, 'EADDRINUSE'],
      hint: /--port/,
    }),
  },
  'server: no master key': {
    code: 'MASTER_KEY_MISSING',
    prepare: ({ file }) => ({
      args: ['server', '--listen', '127.0.0.1:0', '--db', file('server.db')],
      names: ['CNABSEC_SERVER_MASTER_KEY'],
      hint: /--no-online-keys/,
    }),
  },
  'server: malformed --listen': {
    usage: true,
    prepare: () => ({ args: ['server', '--listen', 'localhost'], names: ['--listen', 'localhost'] }),
  },
  'server: unknown key in the config file': {
    code: 'SERVER_CONFIG',
    prepare: async ({ file }) => {
      await writeFile(file('server.json'), '{"lisen": "127.0.0.1:0"}\n');
      return {
        args: ['server', '--config', file('server.json')],
        names: [file('server.json'), '"lisen"'],
      };
    },
  },
  'server: bad CNABSEC_SERVER_* value': {
    code: 'SERVER_CONFIG',
    prepare: ({ home }) => ({
      args: ['server', '--listen', '127.0.0.1:0'],
      env: envFor(home, { CNABSEC_SERVER_TIMESTAMP_EXPIRY: '0d' }),
      names: ['CNABSEC_SERVER_TIMESTAMP_EXPIRY', '"0d"'],
    }),
  },
  'server: port in use': {
    code: 'SERVER_LISTEN_FAILED',
    busyPort: true,
    prepare: ({ home }, port) => ({
      // the database is created before the port turns out taken: only the key store is watched
      args: ['server', '--listen', `127.0.0.1:${port}`, '--db', path.join(home, '..', 'server.db')],
      env: envFor(home, { CNABSEC_SERVER_MASTER_KEY: 'ab'.repeat(32), CNABSEC_SERVER_LOG_LEVEL: 'silent' }),
      watch: [home],
      names: [`127.0.0.1:${port}`, 'EADDRINUSE'],
      hint: /--listen/,
    }),
  },
  'server-backup: database does not exist': {
    code: 'STORE_IO',
    prepare: ({ file }) => ({
      args: ['server-backup', file('backup.db'), '--db', file('none.db')],
      names: [file('none.db'), 'no such database'],
      hint: /--db/,
    }),
  },
  'server-backup: the backup file exists': {
    code: 'STORE_IO',
    prepare: ({ file }) => ({
      args: ['server-backup', file('bundle.json'), '--db', file('none.db')],
      names: [file('bundle.json'), 'never overwrites'],
    }),
  },
  'verify: repository not trusted': {
    code: 'TUF_UPDATE_FAILED',
    prepare: () => ({
      args: ['verify', 'example.com/org/other:v1', '--thin', 'bundle.json'],
      names: ['example.com/org/other:v1'],
      hint: /trust add/,
    }),
  },
  'verify: missing bundle file': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['verify', `${NAME}:v1`, '--thin', 'missing.json'], names: ['missing.json'] }),
  },
  'verify: no bundle given': {
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({ args: ['verify', `${NAME}:v1`], names: ['--thin', '--thick'] }),
  },
  'verify: missing --map file': {
    code: 'MAP_INVALID',
    prepare: () => ({
      args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '--map', 'map.json'],
      names: ['map.json'],
    }),
  },
  'verify: --map file that is not a TAP 4 map': {
    code: 'MAP_INVALID',
    prepare: async ({ file }) => {
      await writeFile(file('map.json'), JSON.stringify({ repositories: [], mapping: {} }));
      return {
        args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '--map', 'map.json'],
        names: ['repositories'],
      };
    },
  },
  'verify: thick archive corrupted (same length)': {
    code: 'BUNDLE_HASH_MISMATCH',
    prepare: async ({ file }) => {
      const bytes = await readFile(file('bundle.tgz'));
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
      await writeFile(file('bundle.tgz'), bytes);
      return { args: ['verify', `${NAME}:v2`, '--thick', 'bundle.tgz'], names: [`${NAME}:v2`] };
    },
  },
  'verify: --thick names a directory': {
    // was: BUNDLE_HASH_MISMATCH "length differs", blaming a bundle that was never read
    code: 'BUNDLE_NOT_FOUND',
    prepare: () => ({
      args: ['verify', `${NAME}:v2`, '--thick', 'links'],
      names: ['links', 'not a regular file'],
    }),
  },
  'verify: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: ['verify', `${NAME}:v1`, '--thin', 'bundle.json', '-o', file('no-dir', 'bundle.json')],
      names: [file('no-dir', 'bundle.json')],
    }),
  },

  // ---- in-toto ------------------------------------------------------------------------------
  'intoto run: key that is no file or key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({
      args: ['intoto', 'run', '-n', 'build', '-k', 'builder', '--', 'true'],
      names: ['builder'],
    }),
  },
  'intoto run: -d below a regular file': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'run', '-n', 'build', '-k', 'k', '-d', 'bundle.json/links', '--', 'true'],
      names: ['bundle.json/links', 'ENOTDIR'],
    }),
  },
  'intoto record start: key that is no file or key id': {
    code: 'KEY_NOT_FOUND',
    prepare: () => ({ args: ['intoto', 'record', 'start', '-n', 'source', '-k', 'dev'], names: ['dev'] }),
  },
  'intoto record stop: never started': {
    code: 'INTOTO_RECORD_NOT_STARTED',
    prepare: () => ({
      args: ['intoto', 'record', 'stop', '-n', 'source', '-k', 'k'],
      names: ['source'],
      hint: /record start/,
    }),
  },
  'intoto sign: a file that is not in-toto metadata': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({ args: ['intoto', 'sign', 'bundle.json', '--key', 'k'], names: ['bundle.json'] }),
  },
  'intoto verify: missing link directory': {
    code: 'INTOTO_LINK_DIR_MISSING',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'min.layout', '--layout-key', 'k.pub', '--link-dir', 'no-links'],
      names: ['no-links'],
    }),
  },
  'intoto verify: --layout-key names a directory': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'min.layout', '--layout-key', 'links', '--link-dir', 'links'],
      names: ['links'],
      hint: /key file/,
    }),
  },
  'intoto verify: missing layout': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({
      args: ['intoto', 'verify', '--layout', 'root.layout', '--layout-key', 'k.pub', '--link-dir', 'links'],
      names: ['root.layout'],
    }),
  },
  'intoto layout new: a step the template does not have': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({
      args: ['intoto', 'layout', 'new', '--template', 'cnab', '-f', 'deploy=k.pub', '-o', 'root.layout'],
      names: ['deploy'],
      hint: /source, build, package/,
    }),
  },
  'intoto layout new: -o in a directory that does not exist': {
    code: 'OUTPUT_WRITE_FAILED',
    prepare: ({ file }) => ({
      args: [
        'intoto',
        'layout',
        'new',
        '--template',
        'minimal',
        '-f',
        'build=k.pub',
        '-o',
        file('no-dir', 'l'),
      ],
      names: [file('no-dir', 'l')],
    }),
  },
  'intoto layout lint: a file that is not a layout': {
    code: 'INTOTO_BAD_FORMAT',
    prepare: () => ({ args: ['intoto', 'layout', 'lint', 'bundle.json'], names: ['bundle.json'] }),
  },
  'intoto keygen: parent path is a regular file': {
    code: 'INTOTO_IO',
    prepare: () => ({
      args: ['intoto', 'keygen', 'bundle.json/builder'],
      names: ['bundle.json/builder', 'ENOTDIR'],
    }),
  },
});
