/**
 * `cnabsec copy <src-ref> <dst-ref>`: copy a thin bundle and its images to another registry or
 * repository (CNAB doc 103 relocation) without losing trust: the same canonical bundle.json at
 * the destination, so its TUF target (named by the bundle's own repository) still verifies
 * there. The work is `copyBundle` (src/registry/copy.ts); this parses, calls and prints.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Command } from '../args.js';
import { CliError } from '../errors.js';
import { withCommon, type KeyOptions } from '../common.js';
import { printJson, printLine, runAction } from '../output.js';
import { writeOutputFile } from '../output-file.js';
import { openerOf, withRegistryOptions, type RegistryCliOptions } from '../registry-common.js';
import { copyBundle, parseReference, type CopiedBundle, type CopyCounts } from '../../registry/index.js';

interface CopyOptions extends KeyOptions, RegistryCliOptions {
  relocationMapping?: string;
  allowFallbacks?: boolean;
}

function countsJson(c: CopyCounts): Record<string, number> {
  return {
    manifests: c.manifests,
    manifestsPresent: c.manifestsPresent,
    blobs: c.blobs,
    mounted: c.mounted,
    blobsPresent: c.blobsPresent,
    foreign: c.foreign,
    bytes: c.bytes,
  };
}

/** The --json document (docs/cli-json.md `cnabsec copy`); OCI digests are `…Digest`, the bundle.json `length`/`hashes`. */
function copyJson(r: CopiedBundle, mappingFile: string | undefined): Record<string, unknown> {
  return {
    source: r.source,
    destination: r.destination,
    tag: r.tag ?? null,
    bundleDigest: r.digest,
    sourceBundleDigest: r.sourceDigest,
    bundleJson: { length: r.bundleSize, hashes: { sha256: r.bundleDigest.slice('sha256:'.length) } },
    relocationMapping: r.relocationMapping,
    path: mappingFile ?? null,
    images: r.images.map((i) => ({
      component: i.name,
      image: i.image,
      imageDigest: i.digest,
      relocated: i.relocated,
      copied: countsJson(i.counts),
    })),
    copied: countsJson(r.counts),
  };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function printCopy(r: CopiedBundle, mappingFile: string | undefined): void {
  const c = r.counts;
  printLine(`copied ${r.source} to ${r.destination}`);
  printLine(`bundle digest ${r.digest}${r.digest === r.sourceDigest ? ' (the same as the source)' : ''}`);
  printLine(
    `bundle.json ${r.bundleDigest} (${r.bundleSize} bytes, unchanged: its TUF target still verifies)`,
  );
  printLine(
    `images: ${r.images.length}; ${plural(c.manifests, 'manifest')} and ${plural(c.blobs, 'blob')} (${c.bytes} bytes) copied, ` +
      `${plural(c.mounted, 'blob')} mounted, ${c.manifestsPresent + c.blobsPresent} already there` +
      (c.foreign > 0 ? `, ${plural(c.foreign, 'foreign layer')} left to their urls` : ''),
  );
  for (const i of r.images) printLine(`  ${i.name.padEnd(12)} ${i.image} -> ${i.relocated}`);
  if (mappingFile !== undefined) printLine(`relocation mapping (doc 103) written to ${mappingFile}`);
}

/** The mapping file is written after the copy: refuse a directory that is not there before copying. */
async function checkOutputDir(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const st = await stat(dir).catch(() => undefined);
  if (st?.isDirectory() !== true) {
    throw new CliError('OUTPUT_WRITE_FAILED', `cannot write ${file}: its directory ${dir} does not exist`, {
      hint: 'give an output file in an existing directory you can write to',
      details: { path: file },
    });
  }
}

async function copy(src: string, dst: string, opts: CopyOptions): Promise<void> {
  const from = parseReference(src);
  const to = parseReference(dst);
  if (opts.relocationMapping !== undefined) await checkOutputDir(opts.relocationMapping);
  const result = await copyBundle(openerOf(opts), from, to, {
    ...(opts.allowFallbacks === true ? { allowFallbacks: true } : {}),
  });
  if (opts.relocationMapping !== undefined)
    await writeOutputFile(opts.relocationMapping, `${JSON.stringify(result.relocationMapping, null, 2)}\n`);
  if (opts.json) printJson(copyJson(result, opts.relocationMapping));
  else printCopy(result, opts.relocationMapping);
}

export function register(program: Command): void {
  withRegistryOptions(withCommon(program.command('copy <src-ref> <dst-ref>')))
    .description(
      'copy a thin bundle and its images to another registry or repository (doc 103 relocation), keeping it verifiable',
    )
    .option(
      '--relocation-mapping <out.json>',
      'write the doc 103 relocation mapping (bundle.json image -> its copy) to this file',
    )
    .option(
      '--allow-fallbacks',
      "retry a refused push with cnab-to-oci's fallbacks (other config media types, a Docker manifest list)",
    )
    .example('cnabsec copy example.com/org/app:v1 mirror.local:5000/org/app:v1')
    .example(
      'cnabsec copy example.com/org/app:v1 mirror.local:5000/org/app --insecure-registry mirror.local:5000 --relocation-mapping mapping.json',
    )
    .example('cnabsec copy example.com/org/app@sha256:<index digest> mirror.local:5000/org/app:v1 --json')
    .action(runAction(copy));
}
