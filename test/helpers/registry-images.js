// Images for the registry copy tests (image-copy, fixup, copy): small OCI images with layers, pushed
// through the RegistryClient, and OCI indexes of them (platform manifests).
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { openRegistry } from '../../dist/registry/index.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const digestOf = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const enc = (s) => new TextEncoder().encode(s);

/** A client for a test registry (plain HTTP), with the test's credentials if any. */
export function clientFor(reg, options = {}) {
  return openRegistry({
    registry: reg.host,
    insecure: true,
    credentials: () => reg.credentials,
    ...options,
  });
}

/** An opener over test registries (each plain HTTP, with its own credentials). */
export function openerFor(regs, options = {}) {
  const clients = new Map(regs.map((r) => [r.host, clientFor(r, options)]));
  return (host) => {
    const c = clients.get(host);
    if (c === undefined) throw new Error(`no test registry ${host}`);
    return c;
  };
}

/** The bytes of an OCI image manifest for `config` (bytes) and layer descriptors. */
export function imageManifest(config, layers) {
  return enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers,
    }),
  );
}

/**
 * A hand-written registry on 127.0.0.1 answering every request with `handler(req, res)`, and an
 * anonymous plain-http client for it. Stopped by t.after.
 */
export async function fakeRegistry(t, handler) {
  const s = createServer(handler);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => s.close(resolve)));
  const host = `127.0.0.1:${s.address().port}`;
  return { host, client: clientFor({ host }) };
}

/** Push an image: a config blob, `layers` (byte arrays, default two random ones), an OCI manifest by digest. */
export async function pushImage(c, repository, { label = 'img', layers, platform } = {}) {
  const blobs = layers ?? [randomBytes(1000), randomBytes(3000)];
  const config = enc(JSON.stringify({ architecture: platform?.architecture ?? 'amd64', os: 'linux', label }));
  await c.pushBlob(repository, config);
  for (const l of blobs) await c.pushBlob(repository, l);
  const manifest = imageManifest(
    config,
    blobs.map((l) => ({ mediaType: LAYER, digest: digestOf(l), size: l.length })),
  );
  const digest = await c.putManifest(repository, digestOf(manifest), OCI_MANIFEST, manifest);
  return {
    digest,
    size: manifest.length,
    mediaType: OCI_MANIFEST,
    config: digestOf(config),
    layers: blobs.map(digestOf),
    bytes: manifest,
  };
}

/** Push an OCI index of two platform images (amd64, arm64); returns it and its children. */
export async function pushIndex(c, repository, label = 'multi') {
  const amd = await pushImage(c, repository, { label: `${label}-amd64` });
  const arm = await pushImage(c, repository, {
    label: `${label}-arm64`,
    platform: { architecture: 'arm64' },
  });
  const entry = (img, architecture) => ({
    mediaType: img.mediaType,
    digest: img.digest,
    size: img.size,
    platform: { architecture, os: 'linux' },
  });
  const index = enc(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [entry(amd, 'amd64'), entry(arm, 'arm64')],
    }),
  );
  const digest = await c.putManifest(repository, digestOf(index), OCI_INDEX, index);
  return { digest, size: index.length, mediaType: OCI_INDEX, children: [amd, arm] };
}

/** A thin bundle.json whose invocation image and `web` component are the given images. */
export function bundleFor(
  inv,
  web,
  { invImage = 'example.com/src/inv:1', webImage = 'example.com/src/web:1' } = {},
) {
  const bundle = {
    schemaVersion: 'v1.0.0',
    name: 'app',
    version: '1.0.0',
    description: 'a bundle to copy',
    invocationImages: [
      {
        imageType: 'oci',
        image: invImage,
        contentDigest: inv.digest,
        size: inv.size,
        mediaType: inv.mediaType,
      },
    ],
  };
  if (web !== undefined) {
    bundle.images = {
      web: {
        imageType: 'oci',
        image: webImage,
        contentDigest: web.digest,
        size: web.size,
        mediaType: web.mediaType,
      },
    };
  }
  return bundle;
}

/**
 * A thin bundle (invocation image + `web` index component, images pushed alongside) at
 * `reg`/`repository`:`tag`, through the library: {ref, pushed, inv, web, bundle}.
 */
export async function pushRegistryBundle(reg, repository, tag, description = 'a bundle to copy') {
  const { pushBundleWithImages } = await import('../../dist/registry/index.js');
  const opener = openerFor([reg]);
  const c = opener(reg.host);
  const inv = await pushImage(c, 'org/installer', { label: description });
  const web = await pushIndex(c, 'org/web');
  const bundle = bundleFor(inv, web);
  bundle.description = description;
  const relocationMap = {
    'example.com/src/inv:1': `${reg.host}/org/installer@${inv.digest}`,
    'example.com/src/web:1': `${reg.host}/org/web@${web.digest}`,
  };
  const ref = { registry: reg.host, repository, tag };
  const pushed = await pushBundleWithImages(opener, ref, bundle, { relocationMap });
  return { ref, pushed, inv, web, bundle };
}

/**
 * A hostile source registry on 127.0.0.1: one image (a config and a 3000-byte layer) in
 * `org/src`, its layer descriptor saying `layerSize` (default the true size), the layer GET
 * answered by `serveLayer(res, layer)` (default: the bytes as they are). Stopped by t.after.
 */
export async function fakeImageSource(t, { layerSize, serveLayer } = {}) {
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytes(3000);
  const manifest = Buffer.from(
    imageManifest(config, [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: digestOf(layer),
        size: layerSize ?? layer.length,
      },
    ]),
  );
  const { client } = await fakeRegistry(t, (req, res) => {
    if (req.url === `/v2/org/src/manifests/${digestOf(manifest)}`) {
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length }).end(manifest);
    } else if (req.url === `/v2/org/src/blobs/${digestOf(config)}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(config);
    } else if (req.url === `/v2/org/src/blobs/${digestOf(layer)}`) {
      if (serveLayer === undefined) res.writeHead(200).end(layer);
      else serveLayer(res, layer);
    } else res.writeHead(404).end();
  });
  return { client, manifest: digestOf(manifest), layer: digestOf(layer) };
}
