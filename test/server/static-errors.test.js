// `cnabsec serve`: a file that fails to read after its stat (here a symlink to
// /proc/self/mem, which stats as a regular file and fails with EIO on read; a file removed by
// a publish rolling back does the same) ends that response only: the server keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import * as path from 'node:path';
import { serveDirectory } from '../../dist/server/static.js';
import { tempDir } from '../helpers/tmp.js';

function get(url) {
  return new Promise((resolve) => {
    const req = request(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', () => resolve({ status: 'reset' }));
    });
    req.on('error', () => resolve({ status: 'reset' }));
    req.end();
  });
}

test(
  'a read error after the stat ends one response, not the server',
  { skip: !existsSync('/proc/self/mem') },
  async (t) => {
    const dir = await tempDir(t);
    await writeFile(path.join(dir, 'timestamp.json'), '{"ok":true}');
    await symlink('/proc/self/mem', path.join(dir, '1.root.json'));
    const server = await serveDirectory(dir, { host: '127.0.0.1' });
    t.after(() => server.close());
    await get(`${server.url}/1.root.json`);
    const good = await get(`${server.url}/timestamp.json`);
    assert.equal(good.status, 200);
    assert.equal(good.body, '{"ok":true}');
  },
);
