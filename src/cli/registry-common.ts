/** Plumbing of the commands that talk to OCI registries (push, pull, copy, verify --registry, trust export). */
import type { Command } from './args.js';
import { registryOpener, type RegistryOpener } from '../registry/index.js';
import { registryHost, repeatable } from './options.js';
import { httpTimeoutMs } from '../tuf/client/network.js';

export interface RegistryCliOptions {
  insecureRegistry?: string[];
  registryConfig?: string;
}

/** Add `--insecure-registry <host:port>` (repeatable) and `--registry-config <config.json>`. */
export function withRegistryOptions(cmd: Command): Command {
  return cmd
    .option(
      '--insecure-registry <host:port>',
      'reach this registry over plain HTTP (repeatable; only for registries on a trusted network)',
      repeatable(registryHost),
    )
    .option(
      '--registry-config <config.json>',
      'docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json; CNABSEC_REGISTRY_USER/PASSWORD first for the hosts in CNABSEC_REGISTRY_HOST)',
    );
}

/** The opener of every registry a command reaches, with the command's settings. */
export function openerOf(opts: RegistryCliOptions): RegistryOpener {
  return registryOpener({
    insecure: opts.insecureRegistry ?? [],
    ...(opts.registryConfig === undefined ? {} : { registryConfig: opts.registryConfig }),
    timeoutMs: httpTimeoutMs(),
  });
}
