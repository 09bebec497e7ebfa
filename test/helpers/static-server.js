// A static file server for client tests, run as a child process (the tests run the CLI with
// spawnSync, which blocks their own event loop): `node static-server.js <dir> [mode]` serves
// <dir> on 127.0.0.1 and prints its URL. Mode `silent` accepts connections and never answers.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import * as path from 'node:path';

const [dir, mode] = process.argv.slice(2);
const server = createServer(async (req, res) => {
  if (mode === 'silent') return; // accept, read the request, never answer
  const rel = decodeURIComponent((req.url ?? '/').split('?')[0].replace(/%2F/gi, '%252F')).replace(
    /^\/+/,
    '',
  );
  try {
    if (rel.split('/').includes('..')) throw new Error('outside');
    const bytes = await readFile(path.join(dir, ...rel.split('/')));
    res.writeHead(200, { 'content-type': 'application/json' }).end(bytes);
  } catch {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`serving at http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
