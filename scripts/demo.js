// The local cnabsec demo (`npm run demo:local`): record → sign → publish → verify a thick CNAB
// bundle with in-toto provenance on one machine, with the real CLI and a static file server
// (no metadata repository server; scripts/demo-server.js is the flow against one).
// Everything happens in a temporary directory that is removed at the end.
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { startServe } from '../test/helpers/serve.js';
import { NAME, demoContext, supplyChain, tamperedArchive } from './demo-kit.js';

const ctx = await demoContext('cnabsec-demo-');
const { work, env, say, run } = ctx;
const repo = path.join(work, 'repo');

let server;
try {
  say('1. The supply chain: each step is recorded and signed by its functionary (in-toto)');
  const { ws, links, keys, layout, archive } = await supplyChain(ctx);

  say('2. Developers set up the TUF repository with provenance (CNAB-Sec doc 302 setup)');
  console.log(
    '   root 2-of-3 offline keys; targets signs the layout and its key; targets/releases signs bundles and links',
  );
  await run([
    'init',
    repo,
    '--name',
    NAME,
    '--root-keys',
    '3',
    '--root-threshold',
    '2',
    '--in-toto',
    '--layout',
    layout,
    '--layout-key',
    path.join(keys, 'owner.pub'),
  ]);

  say('3. The new thick bundle is signed with its links and published');
  await run(['bundle', 'add', repo, 'v1.0.0', '--thick', archive, '--links', links]);
  await run(['publish', repo]);

  say('4. The metadata is served (a read-only HTTP server on 127.0.0.1)');
  server = await startServe(repo, env);
  console.log(`   serving ${server.url}`);

  say('5. A user pins the root once (out of band) and verifies: TUF, hashes, then in-toto (doc 303)');
  await run(['trust', 'add', NAME, '--root', path.join(repo, 'metadata', 'root.json'), '--url', server.url]);
  await run(['verify', `${NAME}:v1.0.0`, '--thick', archive]);

  say('6. An attacker swaps the archive in the registry: verification refuses it');
  const tampered = await tamperedArchive(ctx, ws);
  await run(['verify', `${NAME}:v1.0.0`, '--thick', tampered], { expectFail: true });

  say('7. Timestamps are refreshed (a daily cron job); clients keep updating');
  await run(['refresh', repo, '--force']);
  await run(['lookup', `${NAME}:v1.0.0`]);

  say('Done: recorded, signed, published, verified end to end; the tampered bundle was refused.');
} finally {
  await server?.close();
  await rm(work, { recursive: true, force: true });
}
