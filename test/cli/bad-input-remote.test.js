// The bad-input table of the commands that talk to a metadata repository server (issue 13
// item 5): pull, clone, and init/publish/trust add with a server. No server runs here: the
// server is a closed loopback port (one line: connection refused) or never reached. The
// conflict and the real server: remote-e2e.test.js.
import * as path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { NAME, missingRepo, runTable } from './bad-input-table.js';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Give the copied repository a server at a closed port (as init --server would record it). */
async function withDeadServer(repo) {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const file = path.join(repo, 'cnabsec.json');
  const config = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...config, server: { url, managed: ['timestamp'] } }));
  return url;
}

runTable({
  'pull: missing repository': missingRepo(['pull']),
  'pull: a repository without a server': {
    code: 'REMOTE_NOT_CONFIGURED',
    prepare: ({ repo }) => ({ args: ['pull', repo], names: [repo], hint: /init <dir> --server/ }),
  },
  'pull: the server is down': {
    code: 'TUF_SERVER_UNREACHABLE',
    prepare: async ({ repo }) => {
      const url = await withDeadServer(repo);
      return { args: ['pull', repo], names: [url, 'connection refused'] };
    },
  },
  'publish: the server is down': {
    code: 'TUF_SERVER_UNREACHABLE',
    prepare: async ({ repo }) => {
      const url = await withDeadServer(repo);
      return { args: ['publish', repo], names: [url, 'connection refused'] };
    },
  },
  'publish: an unreadable token file': {
    code: 'INVALID_ARGUMENT',
    prepare: async ({ repo, file }) => {
      await withDeadServer(repo);
      return { args: ['publish', repo, '--token-file', file('no-token')], names: [file('no-token')] };
    },
  },
  'refresh: the server refreshes the timestamp itself': {
    code: 'INVALID_ARGUMENT',
    prepare: async ({ repo }) => {
      const url = await withDeadServer(repo);
      return { args: ['refresh', repo, '--force'], names: [repo, url], hint: /cnabsec pull/ };
    },
  },
  'clone: the server is down': {
    code: 'TUF_SERVER_UNREACHABLE',
    prepare: async ({ file }) => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      return { args: ['clone', url, NAME, file('clone')], names: [url, 'connection refused'] };
    },
  },
  'clone: not a server URL': {
    code: 'INVALID_ARGUMENT',
    prepare: ({ file }) => ({ args: ['clone', 'ftp://x', NAME, file('clone')], names: ['ftp://x'] }),
  },
  'clone: the directory holds a repository': {
    code: 'REPO_EXISTS',
    prepare: ({ repo }) => ({ args: ['clone', 'http://127.0.0.1:9', NAME, repo], names: [repo] }),
  },
  'init: the server is down': {
    code: 'TUF_SERVER_UNREACHABLE',
    prepare: async ({ file }) => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      return {
        args: ['init', file('new'), '--name', 'example.com/org/new', '--server', url],
        names: [url, 'connection refused'],
      };
    },
  },
  'init: --server-managed that is not timestamp or snapshot,timestamp': {
    usage: true,
    prepare: ({ file }) => ({
      args: ['init', file('new'), '--name', 'example.com/org/new', '--server-managed', 'snapshot'],
      names: ['--server-managed', 'snapshot'],
    }),
  },
  'trust add: both --url and --server': {
    usage: true,
    prepare: ({ repo }) => ({
      args: [
        'trust',
        'add',
        'example.com/org/other',
        '--root',
        path.join(repo, 'metadata', '1.root.json'),
        '--url',
        'http://127.0.0.1:9/x',
        '--server',
        'http://127.0.0.1:9',
      ],
      names: ['--url', '--server'],
    }),
  },
});
