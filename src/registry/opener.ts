/**
 * One RegistryClient per registry host, opened on demand with the same settings: which hosts
 * speak plain HTTP (`--insecure-registry host:port`, never implied), where credentials come
 * from, and the request time limit. A bundle names images on several registries (fixup, copy,
 * doc 103 relocation), so the registry workflows take an opener rather than one client.
 */
import { openRegistry, type RegistryClient, type RegistryOptions } from './client.js';
import { RegistryError } from './errors.js';
import { isRegistryHost } from './reference.js';

export type RegistryOpener = (registry: string) => RegistryClient;

export interface OpenerOptions extends Omit<RegistryOptions, 'registry' | 'insecure'> {
  /** `host[:port]` of the registries reached over plain HTTP. */
  insecure?: readonly string[];
}

/** Check `host[:port]` of `--insecure-registry`; the text, lowercased. */
export function checkInsecureHost(text: string): string {
  const host = text.trim().toLowerCase();
  if (!isRegistryHost(host) || host.length === 0) {
    throw new RegistryError(
      'REGISTRY_BAD_REFERENCE',
      `--insecure-registry ${JSON.stringify(text)} is not a host[:port]`,
      {
        hint: 'name the registry as host:port, e.g. --insecure-registry 127.0.0.1:5000',
        details: { host: text },
      },
    );
  }
  return host;
}

/** An opener caching one client per host (tokens and connections are reused). */
export function registryOpener(options: OpenerOptions = {}): RegistryOpener {
  const insecure = new Set((options.insecure ?? []).map(checkInsecureHost));
  const clients = new Map<string, RegistryClient>();
  const rest: Omit<OpenerOptions, 'insecure'> = { ...options };
  delete (rest as OpenerOptions).insecure;
  return (given) => {
    const registry = given.toLowerCase(); // one client (and token cache) per host however spelled
    const known = clients.get(registry);
    if (known !== undefined) return known;
    const client = openRegistry({ ...rest, registry, insecure: insecure.has(registry) });
    clients.set(registry, client);
    return client;
  };
}
