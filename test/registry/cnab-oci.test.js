// bundleToOci: the bytes cnab-to-oci pushes. The expected JSON below is written from the format
// (CNAB doc 201's example, cnab-to-oci's Go structs as described in the facts file §4), never
// produced by the code under test; the doc 201 digests (bundle sha256:e91b9dfc…, 498 bytes;
// config manifest sha256:6ec4fd69…, 188 bytes) are the spec's own numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleToOci } from '../../dist/registry/cnab-oci.js';
import { goJson, goString, goMap } from '../../dist/registry/go-json.js';

const fixture = (name) => readFileSync(new URL(`../fixtures/registry/${name}`, import.meta.url));
const text = (bytes) => Buffer.from(bytes).toString('utf8');
const sha = (bytes) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');
const A64 = 'sha256:' + 'a'.repeat(64);
const B64 = 'sha256:' + 'b'.repeat(64);
const C64 = 'sha256:' + 'c'.repeat(64);

// CNAB doc 201, "Top-level representation" example (pretty-printed there; Go writes it compact, same order)
const DOC201_INDEX = `{
  "schemaVersion": 2,
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:6ec4fd695cace0e3d4305838fdf9fcd646798d3fea42b3abb28c117f903a6a5f",
      "size": 188,
      "annotations": {
        "io.cnab.manifest.type": "config"
      }
    },
    {
      "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
      "digest": "sha256:a59a4e74d9cc89e4e75dfb2cc7ea5c108e4236ba6231b53081a9e2506d1197b6",
      "size": 942,
      "annotations": {
        "io.cnab.manifest.type": "invocation"
      }
    }
  ],
  "annotations": {
    "io.cnab.keywords": "[\\"helloworld\\",\\"cnab\\",\\"tutorial\\"]",
    "io.cnab.runtime_version": "v1.0.0",
    "org.opencontainers.artifactType": "application/vnd.cnab.manifest.v1",
    "org.opencontainers.image.authors": "[{\\"name\\":\\"Jane Doe\\",\\"email\\":\\"jane.doe@example.com\\",\\"url\\":\\"https://example.com\\"}]",
    "org.opencontainers.image.description": "A short description of your bundle",
    "org.opencontainers.image.title": "helloworld",
    "org.opencontainers.image.version": "0.1.1"
  }
}`;
const compact = (json) => JSON.stringify(JSON.parse(json));
const BLOB_201 = 'sha256:e91b9dfcbbb3b88bac94726f276b89de46e4460b55f6e6d6f876e666b150ec5b';

test('doc 201 example: canonical config blob, config manifest and index are the spec bytes', () => {
  const l = bundleToOci(fixture('201-example-bundle-no-nulls.json'));
  assert.equal(l.configDigest, BLOB_201);
  assert.equal(l.configBlob.length, 498);
  assert.equal(
    text(l.configManifest),
    `{"schemaVersion":2,"config":{"mediaType":"application/vnd.cnab.config.v1+json","digest":"${BLOB_201}","size":498},"layers":null}`,
  );
  assert.equal(
    l.configManifestDigest,
    'sha256:6ec4fd695cace0e3d4305838fdf9fcd646798d3fea42b3abb28c117f903a6a5f',
  );
  assert.equal(l.configManifestMediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(text(l.index), compact(DOC201_INDEX));
  assert.equal(l.indexMediaType, 'application/vnd.oci.image.index.v1+json');
  assert.equal(l.indexDigest, sha(Buffer.from(compact(DOC201_INDEX))));
  assert.deepEqual(
    l.children.map((c) => [c.kind, c.mediaType, c.digest, c.size]),
    [
      ['config', 'application/vnd.oci.image.manifest.v1+json', l.configManifestDigest, 188],
      [
        'invocation',
        'application/vnd.docker.distribution.manifest.v2+json',
        'sha256:a59a4e74d9cc89e4e75dfb2cc7ea5c108e4236ba6231b53081a9e2506d1197b6',
        942,
      ],
    ],
  );
});

test('the object form and the non-canonical file give the same canonical blob', () => {
  const obj = JSON.parse(text(fixture('201-example-bundle-no-nulls.json')));
  assert.equal(bundleToOci(obj).configDigest, BLOB_201);
});

test('Docker manifest-list fallback: the same JSON with mediaType written last (ociIndexWrapper)', () => {
  const l = bundleToOci(fixture('201-example-bundle-no-nulls.json'), { indexVariant: 'docker' });
  const oci = compact(DOC201_INDEX);
  assert.equal(
    text(l.index),
    oci.slice(0, -1) + ',"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json"}',
  );
  assert.equal(l.indexMediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
});

test('config manifest fallbacks: OCI image config type, then Docker schema2 indented by three spaces', () => {
  const oci = bundleToOci(fixture('201-example-bundle-no-nulls.json'), { configVariant: 'oci' });
  assert.equal(
    text(oci.configManifest),
    `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${BLOB_201}","size":498},"layers":null}`,
  );
  const docker = bundleToOci(fixture('201-example-bundle-no-nulls.json'), { configVariant: 'docker' });
  const desc = [
    '      "mediaType": "application/vnd.docker.container.image.v1+json",',
    '      "size": 498,',
    `      "digest": "${BLOB_201}"`,
  ];
  const want = [
    '{',
    '   "schemaVersion": 2,',
    '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",',
    '   "config": {',
    ...desc,
    '   },',
    '   "layers": [',
    '      {',
    ...desc.map((l) => '   ' + l),
    '      }',
    '   ]',
    '}',
  ].join('\n');
  assert.equal(text(docker.configManifest), want);
  assert.equal(docker.configManifestMediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(docker.children[0].mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(docker.children[0].size, Buffer.byteLength(want));
});

test('Go string escaping: <, >, & and U+2028 as \\u escapes, \\b \\f \\n \\r \\t short, other controls \\u00xx', () => {
  assert.equal(goString('<a href="x">&</a>'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
  assert.equal(goString('\b\f\n\r\t\u0001\u001f\u007f'), '"\\b\\f\\n\\r\\t\\u0001\\u001f\u007f"');
  assert.equal(goString('\u2028\u2029é😀\\'), '"\\u2028\\u2029é😀\\\\"');
  assert.equal(
    goJson(goMap({ b: 1, B: 2, a: [], é: null, aa: new Map() })),
    '{"B":2,"a":[],"aa":{},"b":1,"é":null}',
  );
});

/** A bundle with HTML-ish text, an email-less maintainer, empty keywords and components whose names sort by bytes. */
function trickyBundle() {
  return {
    schemaVersion: 'v1.0.0',
    name: 'a<b>&c',
    version: '1.0.0',
    description: 'line 1 \u2028 next', // no control characters: OLPC canonical JSON writes them raw, which JSON refuses
    keywords: [],
    maintainers: [{ name: 'Ann <ann>' }, { name: 'Bob', url: 'https://b.example/?a=1&b=2' }],
    invocationImages: [{ imageType: 'oci', image: 'example.com/x/inv:1', contentDigest: A64, size: 100 }],
    images: {
      web: {
        image: 'example.com/x/web:1',
        contentDigest: B64,
        size: 7,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        description: 'w',
      },
      API: {
        image: 'example.com/x/api:1',
        contentDigest: C64,
        size: 9,
        imageType: 'docker',
        description: 'a',
      },
    },
  };
}

test('annotations and components: Go map order, HTML escaping inside and outside the nested JSON', () => {
  const l = bundleToOci(trickyBundle());
  const cfg = l.children[0];
  const want =
    '{"schemaVersion":2,"manifests":[' +
    `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${cfg.digest}","size":${cfg.size},"annotations":{"io.cnab.manifest.type":"config"}},` +
    `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"${A64}","size":100,"annotations":{"io.cnab.manifest.type":"invocation"}},` +
    `{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"${C64}","size":9,"annotations":{"io.cnab.component.name":"API","io.cnab.manifest.type":"component"}},` +
    `{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${B64}","size":7,"annotations":{"io.cnab.component.name":"web","io.cnab.manifest.type":"component"}}` +
    '],"annotations":{' +
    '"io.cnab.keywords":"[]",' +
    '"io.cnab.runtime_version":"v1.0.0",' +
    '"org.opencontainers.artifactType":"application/vnd.cnab.manifest.v1",' +
    // json.Marshal of the maintainers escapes < > & as \u003c…, then the annotation string escapes that backslash
    '"org.opencontainers.image.authors":"[{\\"name\\":\\"Ann \\\\u003cann\\\\u003e\\"},{\\"name\\":\\"Bob\\",\\"url\\":\\"https://b.example/?a=1\\\\u0026b=2\\"}]",' +
    '"org.opencontainers.image.description":"line 1 \\u2028 next",' +
    '"org.opencontainers.image.title":"a\\u003cb\\u003e\\u0026c",' +
    '"org.opencontainers.image.version":"1.0.0"}}';
  assert.equal(text(l.index), want);
  assert.deepEqual(
    l.children.map((c) => [c.kind, c.name]),
    [
      ['config', undefined],
      ['invocation', undefined],
      ['component', 'API'],
      ['component', 'web'],
    ],
  );
});

test('no maintainers and no keywords: neither annotation; an empty description is still written', () => {
  const b = trickyBundle();
  delete b.maintainers;
  delete b.keywords;
  delete b.description;
  const ann = JSON.parse(text(bundleToOci(b).index)).annotations;
  assert.deepEqual(Object.keys(ann), [
    'io.cnab.runtime_version',
    'org.opencontainers.artifactType',
    'org.opencontainers.image.description',
    'org.opencontainers.image.title',
    'org.opencontainers.image.version',
  ]);
  assert.equal(ann['org.opencontainers.image.description'], '');
});

test('spec example 101.02 (digests completed): without and with a relocation map into the bundle repository', () => {
  const bundle = fixture('101.02-bundle-digested.json');
  const plain = bundleToOci(bundle);
  assert.deepEqual(
    plain.children.slice(1).map((c) => [c.kind, c.name, c.digest, c.size, c.mediaType]),
    [
      ['invocation', undefined, A64, 1337, 'application/vnd.docker.distribution.manifest.v2+json'],
      ['component', 'my-microservice', B64, 1337, 'application/vnd.docker.distribution.manifest.v2+json'],
    ],
  );
  const relocationMap = {
    'example/helloworld:1.2.3': `my.registry/org/helloworld@${A64}`,
    'example/helloworld:0.1.2': `my.registry/org/helloworld@${B64}`,
  };
  const moved = bundleToOci(bundle, {
    relocationMap,
    target: { registry: 'my.registry', repository: 'org/helloworld' },
  });
  assert.deepEqual(moved.index, plain.index); // same digests: the relocated copies are the same manifests
});

test('a relocation to another digest than contentDigest, or outside the target repository, is refused', () => {
  const bundle = fixture('101.02-bundle-digested.json');
  assert.throws(
    () =>
      bundleToOci(bundle, {
        relocationMap: { 'example/helloworld:1.2.3': `my.registry/org/helloworld@${C64}` },
      }),
    (e) =>
      e.code === 'REGISTRY_IMAGE_INVALID' &&
      /invocation image example\/helloworld:1\.2\.3: contentDigest sha256:a+ differs from relocated/.test(
        e.message,
      ),
  );
  assert.throws(
    () =>
      bundleToOci(bundle, {
        relocationMap: { 'example/helloworld:1.2.3': `other.registry/org/helloworld@${A64}` },
        target: { registry: 'my.registry', repository: 'org/helloworld' },
      }),
    (e) =>
      e.code === 'REGISTRY_IMAGE_INVALID' &&
      /is not in the same repository as my\.registry\/org\/helloworld/.test(e.message),
  );
});

const oneLine = (e) => !e.message.includes('\n');

test('images referenced by tag are refused, naming the image (invocation, component, relocated tag)', () => {
  const b = trickyBundle();
  delete b.invocationImages[0].contentDigest;
  assert.throws(
    () => bundleToOci(b),
    (e) =>
      e.code === 'REGISTRY_IMAGE_NOT_DIGESTED' &&
      oneLine(e) &&
      e.message.startsWith('invocation image example.com/x/inv:1: referenced by tag'),
  );
  const c = trickyBundle();
  delete c.images.web.contentDigest;
  assert.throws(
    () => bundleToOci(c),
    (e) =>
      e.code === 'REGISTRY_IMAGE_NOT_DIGESTED' &&
      e.message.startsWith('component image web example.com/x/web:1: referenced by tag'),
  );
  // spec example 103.01 relocates outside/helloworld:0.1.0 to a tag
  const relocationMap = JSON.parse(text(fixture('103.01-relocation-mapping.json')));
  const d = trickyBundle();
  d.invocationImages[0] = { imageType: 'docker', image: 'outside/helloworld:0.1.0', size: 5 };
  assert.throws(
    () => bundleToOci(d, { relocationMap }),
    (e) =>
      e.code === 'REGISTRY_IMAGE_NOT_DIGESTED' &&
      /outside\/helloworld:0\.1\.0: referenced by tag, not by digest \(relocated to my\.registry\/helloworld:0\.1\.0\)/.test(
        e.message,
      ),
  );
  // a digest in the image reference itself is enough (no contentDigest)
  const e2 = trickyBundle();
  e2.invocationImages[0] = { imageType: 'oci', image: `example.com/x/inv@${A64}`, size: 5 };
  assert.equal(bundleToOci(e2).children[1].digest, A64);
});

test('spec examples 101.01 and 101.02 as published (truncated digests) are refused', () => {
  for (const name of ['101.01-bundle.json', '101.02-bundle.json']) {
    assert.throws(
      () => bundleToOci(fixture(name)),
      (e) =>
        e.code === 'REGISTRY_IMAGE_INVALID' &&
        /invocation image example\/helloworld:[0-9.]+: digest sha256:a+\.\.\. is not sha256/.test(e.message),
      name,
    );
  }
});

test('two invocation images, a missing size, an unknown media type or image type are refused', () => {
  const two = trickyBundle();
  two.invocationImages.push({ ...two.invocationImages[0] });
  assert.throws(
    () => bundleToOci(two),
    (e) => e.code === 'REGISTRY_IMAGE_INVALID' && /2 invocation images; only one/.test(e.message),
  );
  const noSize = trickyBundle();
  delete noSize.images.API.size;
  assert.throws(
    () => bundleToOci(noSize),
    (e) =>
      e.code === 'REGISTRY_IMAGE_INVALID' &&
      /component image API example\.com\/x\/api:1: size is not set/.test(e.message),
  );
  const badType = trickyBundle();
  badType.images.web.mediaType = 'application/vnd.oci.image.layer.v1.tar';
  assert.throws(
    () => bundleToOci(badType),
    (e) => /unsupported media type application\/vnd\.oci\.image\.layer\.v1\.tar/.test(e.message),
  );
  const badImageType = trickyBundle();
  badImageType.invocationImages[0].imageType = 'qcow';
  assert.throws(
    () => bundleToOci(badImageType),
    (e) => /unsupported image type "qcow"/.test(e.message),
  );
});

test('an invalid bundle.json is refused by the CNAB layer (schema)', () => {
  assert.throws(
    () => bundleToOci(fixture('201-example-bundle.json')),
    (e) => e.code === 'BUNDLE_INVALID' && /\/images must be object/.test(e.message),
  );
});
