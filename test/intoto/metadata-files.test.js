// In-toto metadata and key files read from disk are regular files of bounded size, opened
// without blocking: a FIFO, a directory or a device named as a link, a link directory entry or a
// key file is a one-line typed error, never a hang, an unbounded read or an internal error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { loadLinksForLayout } from '../../dist/intoto/verify.js';
import { loadPublicKeyFile } from '../../dist/intoto/keys.js';
import { readMetadataFile } from '../../dist/intoto/files.js';
import { readLinkDir, MAX_LINK_FILES } from '../../dist/cnab/provenance.js';
import { tempDir } from '../helpers/tmp.js';

const keyid = 'ab'.repeat(32);
const layout = {
  _type: 'layout',
  keys: {},
  steps: [{ _type: 'step', name: 'build', pubkeys: [keyid], threshold: 1, expected_command: [] }],
  inspect: [],
  expires: '2099-01-01T00:00:00Z',
};

test('a FIFO or a device in place of a link is refused, not read', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const fifo = path.join(dir, `build.${keyid.slice(0, 8)}.link`);
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(
    loadLinksForLayout(layout, dir),
    (e) => e.code === 'INTOTO_BAD_FORMAT' && e.cause?.code === 'EFTYPE',
  );
  await assert.rejects(
    readLinkDir(dir),
    (e) => e.code === 'INTOTO_METADATA_MISSING' && /not a regular file/.test(e.message),
  );
  await assert.rejects(readMetadataFile('/dev/zero', 'layout'), (e) => e.code === 'INTOTO_BAD_FORMAT');
});

test('link directory: a directory named *.link and too many links are refused with a code', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'x.link'));
  await assert.rejects(
    readLinkDir(dir),
    (e) => e.code === 'INTOTO_METADATA_MISSING' && /is a directory/.test(e.message),
  );
  const many = path.join(dir, 'many');
  await mkdir(many);
  for (let i = 0; i <= MAX_LINK_FILES; i++) await writeFile(path.join(many, `s${i}.00000000.link`), '{}');
  await assert.rejects(
    readLinkDir(many),
    (e) => e.code === 'INTOTO_METADATA_MISSING' && /more than/.test(e.message),
  );
});

test('a FIFO given as an in-toto key file is INTOTO_IO, not a hang', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const fifo = path.join(dir, 'key.pub');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(loadPublicKeyFile(fifo), (e) => e.code === 'INTOTO_IO');
});
