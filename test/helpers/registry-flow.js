// Set-up shared by the registry CLI tests (registry*.test.js, bad-input-registry.test.js): a
// real docker-registry, a tiny invocation image pushed into the bundle repository, a
// bundle.json referencing it by digest, a local TUF repository named after the registry
// repository, and the env of the developer and of a user.
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalize } from '@tufjs/canonical-json';
import { openRegistry } from '../../dist/registry/index.js';
import { startRegistry } from './registry.js';
import { cliOk } from './cli.js';
import { tempDir } from './tmp.js';
import { pushImage as pushImageOf } from './registry-images.js';

export const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Push a tiny image (config blob + OCI manifest, no layers) by digest into `repository`. */
export const pushImage = (c, repository, label) => pushImageOf(c, repository, { label, layers: [] });

/** A bundle.json (canonical) whose invocation image is `image` in the bundle repository. */
export function bundleDoc(host, image, version = '1.0.0') {
  return {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version,
    description: `app ${version}`,
    invocationImages: [
      {
        imageType: 'oci',
        image: `${host}/org/app@${image.digest}`,
        contentDigest: image.digest,
        size: image.size,
      },
    ],
  };
}

/**
 * Registry (auth none|basic|token), image, bundle.json, and a published local repository named
 * `<host>/org/app`. Returns {reg, dir, repo, env (developer), user (a user home), bundle, name,
 * ref, reg opts (the --insecure-registry args), client}.
 */
export async function registryFlow(t, { auth = 'none', init = true } = {}) {
  const reg = await startRegistry(t, { auth });
  const creds = reg.credentials === undefined ? () => undefined : () => reg.credentials;
  const client = openRegistry({ registry: reg.host, insecure: true, credentials: creds });
  const image = await pushImage(client, 'org/app', 'invocation');
  const dir = await tempDir(t, 'cnabsec-registry-cli-');
  const auths =
    reg.credentials === undefined
      ? {}
      : {
          CNABSEC_REGISTRY_HOST: reg.host,
          CNABSEC_REGISTRY_USER: reg.credentials.username,
          CNABSEC_REGISTRY_PASSWORD: reg.credentials.password,
        };
  const env = { CNABSEC_HOME: path.join(dir, 'home'), CNABSEC_PASSPHRASE: 'pw', CI: 'true', ...auths };
  const user = { CNABSEC_HOME: path.join(dir, 'user'), CI: 'true', ...auths };
  const bundle = path.join(dir, 'bundle.json');
  await writeFile(bundle, canonicalize(bundleDoc(reg.host, image)));
  const name = `${reg.host}/org/app`;
  const repo = path.join(dir, 'repo');
  if (init) {
    cliOk(['init', repo, '--name', name], { env });
    cliOk(['publish', repo], { env });
  }
  return {
    reg,
    client,
    image,
    dir,
    repo,
    env,
    user,
    bundle,
    name,
    ref: `${name}:v1`,
    insecure: ['--insecure-registry', reg.host],
    metadataUrl: pathToFileURL(path.join(repo, 'metadata')).href,
  };
}

/** The user pins the repository's root (trust add, the published metadata over file://). */
export function trustIt(f) {
  cliOk(
    ['trust', 'add', f.name, '--root', path.join(f.repo, 'metadata', 'root.json'), '--url', f.metadataUrl],
    {
      env: f.user,
    },
  );
}
