// The json-contract cases of the registry commands (push, pull <ref>): a real docker-registry
// started in the first case's prep (closed with the test's cleanups), a tiny invocation image
// in it, and a bundle.json referencing it by digest.
import { writeFile } from 'node:fs/promises';
import { canonicalize } from '@tufjs/canonical-json';
import { openRegistry } from '../../dist/registry/index.js';
import { startRegistry } from './registry.js';
import { bundleDoc, pushImage } from './registry-flow.js';

export function registryCases(ctx, w) {
  const ins = () => ['--insecure-registry', ctx.thinRegistry.host];
  const ref = (tag) => `${ctx.thinRegistry.host}/org/app:${tag}`;
  return [
    {
      command: 'push',
      prep: async () => {
        ctx.thinRegistry = await startRegistry({ after: (fn) => ctx.cleanups.push(fn) });
        const c = openRegistry({
          registry: ctx.thinRegistry.host,
          insecure: true,
          credentials: () => undefined,
        });
        const image = await pushImage(c, 'org/app', 'invocation');
        await writeFile(w('registry-bundle.json'), canonicalize(bundleDoc(ctx.thinRegistry.host, image)));
        await writeFile(
          w('undigested.json'),
          canonicalize({
            ...bundleDoc(ctx.thinRegistry.host, image),
            invocationImages: [{ imageType: 'oci', image: 'example.com/org/inv:1' }],
          }),
        );
      },
      ok: () => ['push', w('registry-bundle.json'), ref('v1'), ...ins()],
      err: () => ['push', w('undigested.json'), ref('v1'), ...ins()],
    },
    {
      command: 'pull',
      ok: () => ['pull', ref('v1'), '-o', w('registry-pulled.json'), ...ins()],
      err: () => ['pull', ref('nope'), '-o', w('registry-nope.json'), ...ins()],
    },
  ];
}
