// A published local repository made by the real CLI (init + publish), with a canonical
// bundle.json beside it: the starting point of CLI tests that stage and reset changes.
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { cliOk } from './cli.js';
import { tempDir } from './tmp.js';

/** `{dir, repo, env, bundle}` for repository `example.com/org/<short>` (passphrase "pw"). */
export async function publishedRepository(t, short) {
  const dir = await tempDir(t);
  const repo = path.join(dir, 'repo');
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true' };
  cliOk(['init', repo, '--name', `example.com/org/${short}`], { env });
  cliOk(['publish', repo], { env });
  const bundle = path.join(dir, 'bundle.json');
  const doc = {
    schemaVersion: 'v1.0.0',
    name: short,
    version: '0.1.0',
    invocationImages: [{ imageType: 'docker', image: `cnab/${short}:0.1.0` }],
  };
  await writeFile(bundle, canonicalize(doc));
  return { dir, repo, env, bundle };
}
