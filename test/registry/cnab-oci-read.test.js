// ociToBundle / checkBundleIndex: a bundle index in cnab-to-oci's layout is read back with
// each piece checked; every difference from that layout is refused, naming what differs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleToOci } from '../../dist/registry/cnab-oci.js';
import { checkBundleIndex, ociToBundle } from '../../dist/registry/cnab-oci-read.js';

const fixture = (name) => readFileSync(new URL(`../fixtures/registry/${name}`, import.meta.url));
const sha = (bytes) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const REPO = '127.0.0.1:5000/org/helloworld';
const A64 = 'sha256:' + 'a'.repeat(64);
const B64 = 'sha256:' + 'b'.repeat(64);

/** A content store answering ociToBundle's requests by digest, recording them. */
function store(...pieces) {
  const byDigest = new Map(pieces.map((p) => [sha(p), Buffer.from(p)]));
  const asked = [];
  const fetchChild = async (req) => {
    asked.push(req);
    const b = byDigest.get(req.digest);
    if (b === undefined) throw new Error(`not stored: ${req.digest}`);
    return new Uint8Array(b);
  };
  return { fetchChild, asked, byDigest };
}

function layout(name = '101.02-bundle-digested.json', options = {}) {
  return bundleToOci(fixture(name), options);
}

async function read(index, mediaType, ...pieces) {
  return ociToBundle(Buffer.from(index), mediaType, store(...pieces).fetchChild, { repository: REPO });
}

test('round trip: the canonical bundle, the index digest and the relocation map of pull.go', async () => {
  const l = layout();
  const s = store(l.configManifest, l.configBlob);
  const got = await ociToBundle(l.index, l.indexMediaType, s.fetchChild, { repository: REPO });
  assert.deepEqual(Buffer.from(got.bundle), Buffer.from(l.configBlob));
  assert.equal(got.bundleDigest, l.configDigest);
  assert.equal(got.digest, l.indexDigest);
  assert.deepEqual(got.relocationMap, {
    'example/helloworld:1.2.3': `${REPO}@${A64}`,
    'example/helloworld:0.1.2': `${REPO}@${B64}`,
  });
  assert.deepEqual(
    s.asked.map((r) => [r.kind, r.digest]),
    [
      ['manifest', l.configManifestDigest],
      ['blob', l.configDigest],
    ],
  );
});

test('every variant reads back: Docker manifest list, OCI config type, Docker schema2 config manifest', async () => {
  for (const [configVariant, indexVariant] of [
    ['cnab', 'docker'],
    ['oci', 'oci'],
    ['docker', 'docker'],
  ]) {
    const l = layout(undefined, { configVariant, indexVariant });
    const got = await read(l.index, l.indexMediaType, l.configManifest, l.configBlob);
    assert.equal(got.configVariant, configVariant);
    assert.equal(got.indexVariant, indexVariant);
    assert.equal(got.digest, l.indexDigest);
  }
});

test('relocation map keys use the familiar name on Docker Hub (reference.FamiliarString)', async () => {
  const l = layout();
  const got = await ociToBundle(l.index, l.indexMediaType, store(l.configManifest, l.configBlob).fetchChild, {
    repository: 'docker.io/library/hello',
  });
  assert.equal(got.relocationMap['example/helloworld:1.2.3'], `hello@${A64}`);
});

/** Edit the parsed index, re-encode it (no HTML characters in this fixture, so JSON.stringify = Go). */
function edited(edit, l = layout()) {
  const ix = JSON.parse(Buffer.from(l.index).toString());
  edit(ix);
  return JSON.stringify(ix);
}

const refusedWith = (re) => (e) =>
  e.code === 'REGISTRY_LAYOUT_MISMATCH' && re.test(e.message) && !e.message.includes('\n');

test('layout differences in the index are refused, naming what differs', async () => {
  const l = layout();
  const cases = [
    [
      'missing config entry',
      (ix) => ix.manifests.shift(),
      /manifests\[0\]: is a "invocation" entry where cnab-to-oci puts the config entry/,
    ],
    [
      'two invocation images',
      (ix) => ix.manifests.splice(2, 0, { ...ix.manifests[1] }),
      /manifests\[2\]: is a "invocation" entry where cnab-to-oci puts the component entry/,
    ],
    [
      'unknown media type',
      (ix) => (ix.manifests[2].mediaType = 'application/vnd.oci.image.layer.v1.tar'),
      /manifests\[2\]: unknown media type application\/vnd\.oci\.image\.layer\.v1\.tar for a component entry/,
    ],
    [
      'annotation missing',
      (ix) => delete ix.annotations['org.opencontainers.image.title'],
      /annotations: annotation org\.opencontainers\.image\.title missing/,
    ],
    [
      'annotation changed',
      (ix) => (ix.annotations['org.opencontainers.image.version'] = '9.9.9'),
      /org\.opencontainers\.image\.version is "9\.9\.9", bundle\.json gives "1\.0\.0"/,
    ],
    [
      'annotation added',
      (ix) => (ix.annotations['com.example.x'] = 'y'),
      /unexpected annotation com\.example\.x/,
    ],
    [
      'authors added',
      (ix) => (ix.annotations['org.opencontainers.image.authors'] = '[]'),
      /org\.opencontainers\.image\.authors is set but bundle\.json has no value for it/,
    ],
    [
      'artifact type',
      (ix) => (ix.annotations['org.opencontainers.artifactType'] = 'x'),
      /org\.opencontainers\.artifactType is "x", not application\/vnd\.cnab\.manifest\.v1/,
    ],
    [
      'entry type annotation missing',
      (ix) => delete ix.manifests[1].annotations,
      /manifests\[1\]: annotation io\.cnab\.manifest\.type missing/,
    ],
    [
      'component name missing',
      (ix) => delete ix.manifests[2].annotations['io.cnab.component.name'],
      /manifests\[2\]: annotation io\.cnab\.component\.name missing/,
    ],
    [
      'component not in bundle',
      (ix) => (ix.manifests[2].annotations['io.cnab.component.name'] = 'other'),
      /component other is not in bundle\.json images/,
    ],
    [
      'component missing',
      (ix) => ix.manifests.pop(),
      /bundle\.json image my-microservice has no component entry/,
    ],
    [
      'platform field',
      (ix) => (ix.manifests[1].platform = { os: 'linux' }),
      /manifests\[1\]: unexpected field "platform"/,
    ],
    [
      'mediaType field on an OCI index',
      (ix) => (ix.mediaType = OCI_INDEX),
      /bundle index: unexpected field "mediaType"/,
    ],
    ['schemaVersion', (ix) => (ix.schemaVersion = 1), /schemaVersion is 1, not 2/],
    [
      'image size',
      (ix) => (ix.manifests[1].size = 1),
      /manifests\[1\]: application\/vnd\.docker\.distribution\.manifest\.v2\+json of 1 bytes, bundle\.json gives .* of 1337 bytes/,
    ],
    [
      'image digest',
      (ix) => (ix.manifests[1].digest = 'sha256:' + 'c'.repeat(64)),
      /does not describe its bundle\.json: invocation image example\/helloworld:1\.2\.3: contentDigest sha256:a+ differs/,
    ],
  ];
  for (const [name, edit, re] of cases) {
    await assert.rejects(
      read(edited(edit, l), OCI_INDEX, l.configManifest, l.configBlob),
      refusedWith(re),
      name,
    );
  }
});

test('component order, whitespace and the served media type are checked too', async () => {
  const b = JSON.parse(fixture('101.02-bundle-digested.json').toString());
  b.images.zzz = { ...b.images['my-microservice'], image: 'example/zzz:1' };
  const l = bundleToOci(b);
  const swapped = edited((ix) => ix.manifests.push(ix.manifests.splice(2, 1)[0]), l);
  await assert.rejects(
    read(swapped, OCI_INDEX, l.configManifest, l.configBlob),
    refusedWith(/manifests\[3\]: component my-microservice is out of order or repeated/),
  );
  const pretty = JSON.stringify(JSON.parse(Buffer.from(l.index).toString()), null, 2);
  await assert.rejects(
    read(pretty, OCI_INDEX, l.configManifest, l.configBlob),
    refusedWith(/bundle index: differs at byte 1: got/),
  );
  await assert.rejects(
    read(l.index, 'application/vnd.oci.image.manifest.v1+json', l.configManifest, l.configBlob),
    refusedWith(
      /media type application\/vnd\.oci\.image\.manifest\.v1\+json is not an OCI index or a Docker manifest list/,
    ),
  );
  // the OCI bytes served as a Docker manifest list lack the mediaType field
  await assert.rejects(
    read(l.index, DOCKER_LIST, l.configManifest, l.configBlob),
    refusedWith(/mediaType field is undefined, not application/),
  );
  assert.throws(
    () => checkBundleIndex(Buffer.from('[1]'), OCI_INDEX),
    refusedWith(/bundle index: not a JSON object/),
  );
});

test('config manifest differences and a non-canonical config blob are refused', async () => {
  const l = layout();
  // rebuild the index around another config manifest (as a foreign pusher would)
  const withConfig = (manifest) => [
    // index, media type, config manifest
    edited(
      (ix) => Object.assign(ix.manifests[0], { digest: sha(manifest), size: Buffer.byteLength(manifest) }),
      l,
    ),
    OCI_INDEX,
    manifest,
  ];
  const cm = JSON.parse(Buffer.from(l.configManifest).toString());
  const emptyLayers = JSON.stringify({ ...cm, layers: [] });
  await assert.rejects(
    read(...withConfig(emptyLayers), l.configBlob),
    refusedWith(/bundle config manifest: layers is \[\]; cnab-to-oci writes null/),
  );
  const otherType = JSON.stringify({ ...cm, config: { ...cm.config, mediaType: 'application/json' } });
  await assert.rejects(
    read(...withConfig(otherType), l.configBlob),
    refusedWith(/unknown config media type application\/json/),
  );
  // a pretty-printed bundle.json as the config blob, with a manifest and index consistent with it
  const pretty = Buffer.from(JSON.stringify(JSON.parse(Buffer.from(l.configBlob).toString()), null, 1));
  const prettyManifest = JSON.stringify({
    ...cm,
    config: { ...cm.config, digest: sha(pretty), size: pretty.length },
  });
  await assert.rejects(
    read(...withConfig(prettyManifest), pretty),
    refusedWith(/bundle config blob: is not a canonical bundle\.json: .*not in canonical JSON form/),
  );
  // a config manifest whose key order differs from Go's struct order
  const reordered = JSON.stringify({ config: cm.config, schemaVersion: 2, layers: null });
  await assert.rejects(
    read(...withConfig(reordered), l.configBlob),
    refusedWith(/bundle config manifest: differs at byte 2/),
  );
});

test('a fetched piece that does not match its descriptor is refused (digest or size)', async () => {
  const l = layout();
  const s = store(l.configManifest, l.configBlob);
  s.byDigest.set(l.configDigest, Buffer.concat([Buffer.from(l.configBlob), Buffer.from(' ')]));
  await assert.rejects(
    ociToBundle(l.index, OCI_INDEX, s.fetchChild, { repository: REPO }),
    (e) =>
      e.code === 'REGISTRY_DIGEST_MISMATCH' &&
      e.message.startsWith(`bundle config blob ${l.configDigest}: got ${l.configBlob.length + 1} bytes`),
  );
});
