// Bad input to the CLI (issue: "Missing repository, wrong passphrase, corrupt or truncated JSON,
// unknown role, threshold not met, expired root at signing time, unknown target, key file with
// wrong permissions: one line with the code and a hint, exit code non-zero, nothing written").
//
// Literal case titles begin with the command path ('publish: ...'), the convention that
// test/cli/command-coverage.test.js reads. Every case runs the real CLI in a child process
// against a real repository (a copy of one shared set-up, so keys are generated once) and checks: exit status 1 (a user error, not 70),
// no stack trace, stderr is exactly `cnabsec: error [CODE]: ...` naming what was wrong plus a
// `hint:` line, nothing on stdout, and the repository and key store are byte-for-byte unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalize } from '@tufjs/canonical-json';
import { KeyStore, generateKeyPair, sslibKeyFiles } from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, publish } from '../../dist/tuf/index.js';
import { cliOk, runCli, snapshotTree } from '../helpers/cli.js';
import { expectUserError, treeChanges } from '../helpers/bad-input.js';
import { fixedPassphrases } from '../helpers/tmp.js';

const PASS = 'correct horse battery staple';
const NAME = 'example.com/org/bundle';
const DAY_MS = 86_400_000;

const BUNDLE = {
  schemaVersion: 'v1.0.0',
  name: 'helloworld',
  version: '0.1.0',
  description: 'A bundle for the bad-input tests',
  invocationImages: [{ imageType: 'docker', image: 'cnab/helloworld:0.1.0' }],
  parameters: { port: { definition: 'port', destination: { env: 'PORT' } } },
  definitions: { port: { type: 'integer', default: 8080 } },
};

/** Shared state built once in `before`. */
const ctx = {};
let caseNo = 0;

function envFor(home, extra = {}) {
  return { CNABSEC_HOME: home, CNABSEC_PASSPHRASE: PASS, CI: 'true', ...extra };
}

function keyFile(home, keyid) {
  return path.join(home, 'keys', `${keyid}.key`);
}

/** A fresh copy of the shared repository (published v1, staged v2) and key store. */
async function fresh() {
  const dir = path.join(ctx.work, `case-${++caseNo}`);
  await mkdir(dir);
  const repo = path.join(dir, 'repo');
  const home = path.join(dir, 'home');
  await cp(ctx.repo0, repo, { recursive: true });
  await cp(ctx.home0, home, { recursive: true });
  return { dir, repo, home };
}

/** Sign `bytes` with a key of a key store, as a detached signature file {keyid, sig}. */
async function detachedSignature(home, keyid, bytes, file) {
  const signer = await new KeyStore(home).signer(keyid, fixedPassphrases(PASS));
  const sig = Buffer.from(await signer.sign(bytes)).toString('hex');
  await writeFile(file, JSON.stringify({ keyid, sig }));
  return file;
}

before(async () => {
  ctx.work = await mkdtemp(path.join(tmpdir(), 'cnabsec-bad-input-'));
  const w = (...p) => path.join(ctx.work, ...p);

  // Bundle files: canonical, pretty-printed (not canonical), missing required fields, truncated.
  const canonical = canonicalize(BUNDLE);
  ctx.bundle = w('bundle.json');
  await writeFile(ctx.bundle, canonical);
  ctx.pretty = w('pretty-bundle.json');
  await writeFile(ctx.pretty, JSON.stringify(BUNDLE, null, 2) + '\n');
  ctx.notBundle = w('not-a-bundle.json');
  await writeFile(ctx.notBundle, canonicalize({ name: 'helloworld', version: '0.1.0' }));
  ctx.truncatedBundle = w('truncated-bundle.json');
  await writeFile(ctx.truncatedBundle, Buffer.from(canonical).subarray(0, 40));
  ctx.bundleSha256 = createHash('sha256').update(canonical).digest('hex');

  // Expired root, never published: staged with the library two days ago with a one-day root
  // expiry (as `init` would have staged it then; a 1 s expiry made init itself flaky on a busy
  // machine, expiring before init finished).
  ctx.expA = { home: w('exp-a-home'), repo: w('exp-a-repo') };
  {
    const store = new KeyStore(ctx.expA.home);
    const pp = fixedPassphrases(PASS);
    const roles = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      roles[role] = { keys: [(await store.generate('ed25519', role, pp)).publicKey], threshold: 1 };
    await LocalRepository.create(new FsMetadataStore(ctx.expA.repo), {
      name: 'example.com/org/expired-a',
      roles,
      expiry: { root: 86_400 },
      now: new Date(Date.now() - 2 * DAY_MS),
    });
  }

  // Expired root, published: made with the library two days ago with a one-day root expiry.
  ctx.expB = { home: w('exp-b-home'), repo: w('exp-b-repo') };
  {
    const store = new KeyStore(ctx.expB.home);
    const pp = fixedPassphrases(PASS);
    const roles = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      roles[role] = { keys: [(await store.generate('ed25519', role, pp)).publicKey], threshold: 1 };
    const past = new Date(Date.now() - 2 * DAY_MS);
    const repo = await LocalRepository.create(new FsMetadataStore(ctx.expB.repo), {
      name: 'example.com/org/expired-b',
      roles,
      expiry: { root: 86_400 },
      now: past,
    });
    await publish(repo, {
      now: past,
      signers: async (_role, keyid) => ((await store.has(keyid)) ? store.signer(keyid, pp) : undefined),
    });
  }

  // Frozen repositories, published two days ago: in each, one role had a one-day expiry (the
  // others ten days), so a client sees exactly that role expired (a freeze attack).
  ctx.frozen = {};
  {
    const store = new KeyStore(w('frozen-home'));
    const pp = fixedPassphrases(PASS);
    const key = await store.generate('ed25519', 'all', pp);
    const roles = {};
    for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
      roles[role] = { keys: [key.publicKey], threshold: 1 };
    const past = new Date(Date.now() - 2 * DAY_MS);
    for (const expired of ['root', 'targets', 'snapshot', 'timestamp']) {
      const expiry = {
        root: 864_000,
        targets: 864_000,
        snapshot: 864_000,
        timestamp: 864_000,
        [expired]: 86_400,
      };
      const dir = w(`frozen-${expired}`);
      const name = `example.com/org/frozen-${expired}`;
      const repo = await LocalRepository.create(new FsMetadataStore(dir), { name, roles, expiry, now: past });
      await publish(repo, { now: past, signers: async () => store.signer(key.keyid, pp) });
      const file = { root: '1.root.json', timestamp: 'timestamp.json' }[expired] ?? `1.${expired}.json`;
      const md = JSON.parse(await readFile(path.join(dir, 'metadata', file), 'utf8'));
      ctx.frozen[expired] = { dir, name, expires: md.signed.expires };
    }
  }

  // The shared repository: 2-of-3 root, published with bundle v1, v2 staged; trusted by the
  // client in the same home, whose cache is up to date.
  ctx.home0 = w('home0');
  ctx.repo0 = w('repo0');
  const env = envFor(ctx.home0);
  cliOk(['init', ctx.repo0, '--name', NAME, '--root-keys', '3', '--root-threshold', '2'], { env });
  cliOk(['bundle', 'add', ctx.repo0, 'v1', '--thin', ctx.bundle], { env });
  cliOk(['publish', ctx.repo0], { env });
  const metadataUrl = pathToFileURL(path.join(ctx.repo0, 'metadata')).href;
  cliOk(
    ['trust', 'add', NAME, '--root', path.join(ctx.repo0, 'metadata', '1.root.json'), '--url', metadataUrl],
    { env },
  );
  cliOk(['lookup', `${NAME}:v1`], { env });
  cliOk(['bundle', 'add', ctx.repo0, 'v2', '--thin', ctx.bundle], { env });
  const status = JSON.parse(cliOk(['status', ctx.repo0, '--json'], { env }));
  const ids = Object.fromEntries(status.roles.map((r) => [r.role, r.keyids]));
  ctx.rootIds = ids.root;
  ctx.targetsId = ids.targets[0];
  assert.equal(ctx.rootIds.length, 3);
});

after(async () => {
  if (ctx.work !== undefined) await rm(ctx.work, { recursive: true, force: true });
});

// Each case: `prepare` (given a fresh copy {dir, repo, home}) returns the command and what it
// must name; the default env has the key store of the copy and the right passphrase.
const CASES = [
  // ---- missing repository ------------------------------------------------------------------
  ...[
    ['status'],
    ['publish'],
    ['refresh'],
    ['bundle', 'list'],
    ['bundle', 'add', null, 'v3', '--thin', 'BUNDLE'],
    ['bundle', 'remove', null, 'v1'],
    ['resign', null, 'targets'],
    ['payload', null, 'targets'],
  ].map((cmd) => ({
    title: `missing repository: ${cmd.filter((a) => a !== null).join(' ')}`,
    code: 'REPO_NOT_FOUND',
    prepare: ({ dir }) => {
      const missing = path.join(dir, 'no-such-repo');
      const args = [...cmd];
      const at = args.indexOf(null);
      if (at === -1) args.push(missing);
      else args[at] = missing;
      return { args: args.map((a) => (a === 'BUNDLE' ? ctx.bundle : a)), names: [missing], watch: [dir] };
    },
  })),

  // ---- passphrases ---------------------------------------------------------------------------
  {
    title: 'publish: wrong passphrase',
    code: 'WRONG_PASSPHRASE',
    prepare: ({ repo, home }) => ({
      args: ['publish', repo],
      env: envFor(home, { CNABSEC_PASSPHRASE: 'not the passphrase' }),
      names: [ctx.targetsId],
      hint: /CNABSEC_PASSPHRASE_TARGETS/,
    }),
  },
  {
    title: 'sign: wrong passphrase',
    code: 'WRONG_PASSPHRASE',
    prepare: ({ repo, home }) => ({
      args: ['sign', repo, 'targets', '--key', ctx.targetsId.slice(0, 12)],
      env: envFor(home, { CNABSEC_PASSPHRASE_TARGETS: 'not the passphrase' }),
      names: [ctx.targetsId],
    }),
  },
  {
    title: 'sign: --no-prompt without a passphrase',
    code: 'PASSPHRASE_REQUIRED',
    prepare: ({ repo, home }) => ({
      args: ['sign', repo, 'targets', '--key', ctx.targetsId, '--no-prompt'],
      env: envFor(home, { CNABSEC_PASSPHRASE: undefined, CI: undefined }),
      names: ['targets', ctx.targetsId.slice(0, 8)],
      hint: /CNABSEC_PASSPHRASE_TARGETS/,
    }),
  },
  {
    title: 'key generate: --no-prompt without a passphrase',
    code: 'PASSPHRASE_REQUIRED',
    prepare: ({ home }) => ({
      args: ['key', 'generate', '--label', 'releases', '--no-prompt'],
      env: envFor(home, { CNABSEC_PASSPHRASE: undefined, CI: undefined }),
      names: ['releases'],
    }),
  },
  {
    // Root keys have a passphrase, targets keys none: init must fail before writing any key.
    title: 'init: --no-prompt without a passphrase for one role writes no key',
    code: 'PASSPHRASE_REQUIRED',
    prepare: ({ dir, home }) => ({
      args: ['init', path.join(dir, 'new-repo'), '--name', 'example.com/org/new', '--no-prompt'],
      env: envFor(home, { CNABSEC_PASSPHRASE: undefined, CNABSEC_PASSPHRASE_ROOT: PASS }),
      names: ['targets'],
    }),
  },

  // ---- corrupt or truncated JSON -----------------------------------------------------------
  ...[
    ['metadata/1.targets.json', '{"signed": {"_type": "targets", "version": '],
    ['metadata/1.root.json', '{"signed": {"_type": "root"}, "signatures": []}'],
    ['metadata/timestamp.json', 'null'],
    ['metadata/1.snapshot.json', ''],
  ].flatMap(([file, content]) =>
    [['status'], ['publish'], ['bundle', 'add', null, 'v3', '--thin', 'BUNDLE']].map((cmd) => ({
      title: `corrupt published ${file} (${JSON.stringify(content.slice(0, 12))}): ${cmd.filter((a) => a !== null).join(' ')}`,
      code: 'REPO_CORRUPT',
      prepare: async ({ repo, home }) => {
        await writeFile(path.join(repo, ...file.split('/')), content);
        const args = [...cmd];
        const at = args.indexOf(null);
        if (at === -1) args.push(repo);
        else args[at] = repo;
        return {
          args: args.map((a) => (a === 'BUNDLE' ? ctx.bundle : a)),
          env: envFor(home),
          names: [file],
        };
      },
    })),
  ),
  {
    title: 'publish: truncated staged file',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      const file = path.join(repo, 'staged', 'targets.json');
      await truncate(file, Math.floor((await readFile(file)).length / 2));
      return { args: ['publish', repo], names: ['staged/targets.json'] };
    },
  },
  {
    title: 'sign: truncated staged file',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      const file = path.join(repo, 'staged', 'targets.json');
      await truncate(file, 10);
      return { args: ['sign', repo, 'targets', '--key', ctx.targetsId], names: ['staged/targets.json'] };
    },
  },
  {
    title: 'status: corrupt cnabsec.json (truncated)',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      const file = path.join(repo, 'cnabsec.json');
      await truncate(file, 20);
      return { args: ['status', repo], names: ['cnabsec.json'] };
    },
  },
  {
    title: 'publish: corrupt cnabsec.json (not a configuration)',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      await writeFile(path.join(repo, 'cnabsec.json'), '[1, 2, 3]\n');
      return { args: ['publish', repo], names: ['cnabsec.json'] };
    },
  },
  {
    title: 'status: missing published metadata file',
    code: 'REPOSITORY_INCOMPLETE',
    prepare: async ({ repo }) => {
      await unlink(path.join(repo, 'metadata', '1.snapshot.json'));
      return { args: ['status', repo], names: ['metadata/1.snapshot.json'] };
    },
  },
  {
    title: 'bundle add: cnabsec.json without an expiry policy',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      const file = path.join(repo, 'cnabsec.json');
      const config = JSON.parse(await readFile(file, 'utf8'));
      delete config.expiry;
      await writeFile(file, JSON.stringify(config));
      return { args: ['bundle', 'add', repo, 'v3', '--thin', ctx.bundle], names: ['cnabsec.json'] };
    },
  },
  {
    title: 'status: staged file whose name is not a role',
    code: 'REPO_CORRUPT',
    prepare: async ({ repo }) => {
      await writeFile(path.join(repo, 'staged', '%E0%A4%A.json'), '{}');
      return { args: ['status', repo], names: ['%E0%A4%A.json'] };
    },
  },
  {
    title: 'publish: truncated key file',
    code: 'KEY_FILE_CORRUPT',
    prepare: async ({ repo, home }) => {
      const file = keyFile(home, ctx.targetsId);
      await truncate(file, 100);
      return { args: ['publish', repo], names: [file] };
    },
  },
  {
    title: 'trust add: truncated root',
    code: 'REPO_CORRUPT',
    prepare: async ({ dir, repo }) => {
      const root = path.join(dir, 'root.json');
      await writeFile(root, (await readFile(path.join(repo, 'metadata', '1.root.json'))).subarray(0, 200));
      return {
        args: ['trust', 'add', 'example.com/org/new', '--root', root, '--url', 'https://example.com/md'],
        names: [root],
      };
    },
  },
  {
    title: 'trust add: missing root file',
    code: 'INVALID_ARGUMENT',
    prepare: ({ dir }) => {
      const root = path.join(dir, 'no-root.json');
      return {
        args: ['trust', 'add', 'example.com/org/new', '--root', root, '--url', 'https://example.com/md'],
        names: [root],
      };
    },
  },
  {
    title: 'trust add: a metadata URL scheme the client cannot fetch',
    code: 'INVALID_ARGUMENT',
    prepare: ({ repo }) => ({
      args: [
        'trust',
        'add',
        'example.com/org/new',
        '--root',
        path.join(repo, 'metadata', '1.root.json'),
        '--url',
        'ftp://example.com/md',
      ],
      names: ['ftp://example.com/md'],
    }),
  },
  {
    title: 'bundle add: missing bundle.json',
    code: 'BUNDLE_NOT_FOUND',
    prepare: ({ dir, repo }) => {
      const file = path.join(dir, 'no-bundle.json');
      return { args: ['bundle', 'add', repo, 'v3', '--thin', file], names: [file] };
    },
  },
  {
    title: 'add-signature: signature file holding JSON null',
    code: 'BAD_SIGNATURE',
    prepare: async ({ dir, repo }) => {
      const sig = path.join(dir, 'sig.json');
      await writeFile(sig, 'null');
      return { args: ['add-signature', repo, 'targets', sig], names: [] };
    },
  },
  {
    title: 'bundle add: truncated bundle.json',
    code: 'BUNDLE_INVALID_JSON',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', ctx.truncatedBundle],
      names: [ctx.truncatedBundle],
    }),
  },
  {
    title: 'bundle add: non-canonical bundle.json',
    code: 'BUNDLE_NOT_CANONICAL',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', ctx.pretty],
      names: [ctx.pretty],
      hint: /bundle canonicalize/,
    }),
  },
  {
    title: 'bundle add: bundle.json missing required fields',
    code: 'BUNDLE_INVALID',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v3', '--thin', ctx.notBundle],
      names: [ctx.notBundle, 'schemaVersion', 'invocationImages'],
    }),
  },
  {
    title: 'add-signature: signature file that is not JSON',
    code: 'BAD_SIGNATURE',
    prepare: async ({ dir, repo }) => {
      const sig = path.join(dir, 'sig.json');
      await writeFile(sig, '{"keyid": "ab');
      return { args: ['add-signature', repo, 'targets', sig], names: [sig] };
    },
  },

  // ---- unknown role ------------------------------------------------------------------------
  ...[['sign', 'KEY'], ['payload'], ['resign'], ['add-signature', 'SIG']].map(([cmd, extra]) => ({
    title: `unknown role: ${cmd}`,
    code: 'ROLE_UNKNOWN',
    prepare: async ({ dir, repo }) => {
      const args = [cmd, repo, 'no-such-role'];
      if (extra === 'KEY') args.push('--key', ctx.targetsId);
      if (extra === 'SIG') {
        const sig = path.join(dir, 'sig.json');
        await writeFile(sig, JSON.stringify({ keyid: ctx.targetsId, sig: '00'.repeat(64) }));
        args.push(sig);
      }
      return { args, names: ['no-such-role'], hint: /root, targets, snapshot, timestamp/ };
    },
  })),

  // ---- thresholds ----------------------------------------------------------------------------
  {
    // A root change in a 2-of-3 root repository where the key store holds 1 of the 3 root keys.
    title: 'publish: threshold not met, root change with 1 of 3 root keys',
    code: 'THRESHOLD_NOT_MET',
    prepare: async ({ repo, home }) => {
      cliOk(['resign', repo, 'root'], { env: envFor(home) });
      await unlink(keyFile(home, ctx.rootIds[1]));
      await unlink(keyFile(home, ctx.rootIds[2]));
      return { args: ['publish', repo], names: ['root', ctx.rootIds[1], ctx.rootIds[2]] };
    },
  },
  {
    title: 'init: threshold above the number of keys, no key written',
    code: 'THRESHOLD_NOT_MET',
    prepare: ({ dir }) => ({
      args: [
        'init',
        path.join(dir, 'new-repo'),
        '--name',
        'example.com/org/new',
        '--targets-keys',
        '1',
        '--targets-threshold',
        '2',
      ],
      names: ['targets'],
    }),
  },

  // ---- expiry --------------------------------------------------------------------------------
  {
    title: 'publish: expired root at signing time (published root expired)',
    code: 'ROLE_EXPIRED',
    prepare: async ({ dir }) => {
      const repo = path.join(dir, 'repo-b');
      const home = path.join(dir, 'home-b');
      await cp(ctx.expB.repo, repo, { recursive: true });
      await cp(ctx.expB.home, home, { recursive: true });
      cliOk(['bundle', 'add', repo, 'v1', '--thin', ctx.bundle], { env: envFor(home) });
      return {
        args: ['publish', repo],
        env: envFor(home),
        names: ['root v1'],
        watch: [repo, home],
        hint: /resign/,
      };
    },
  },
  {
    title:
      'publish: expired root at signing time (staged two days ago with a one-day expiry, never published)',
    code: 'ROLE_EXPIRED',
    prepare: async ({ dir }) => {
      const repo = path.join(dir, 'repo-a');
      const home = path.join(dir, 'home-a');
      await cp(ctx.expA.repo, repo, { recursive: true });
      await cp(ctx.expA.home, home, { recursive: true });
      cliOk(['bundle', 'add', repo, 'v1', '--thin', ctx.bundle], { env: envFor(home) });
      return { args: ['publish', repo], env: envFor(home), names: ['root v1'], watch: [repo, home] };
    },
  },

  // ---- unknown target, untrusted repository -------------------------------------------------
  {
    title: 'bundle remove: unknown target',
    code: 'TARGET_NOT_FOUND',
    prepare: ({ repo }) => ({ args: ['bundle', 'remove', repo, 'v9'], names: [`${NAME}:v9`] }),
  },
  {
    title: 'lookup: unknown target',
    code: 'TARGET_NOT_FOUND',
    prepare: ({ home }) => ({
      args: ['lookup', `${NAME}:v9`],
      names: [`${NAME}:v9`],
      watch: [home, ctx.repo0],
    }),
  },
  {
    title: 'lookup: untrusted repository',
    code: 'TRUST_NOT_FOUND',
    prepare: () => ({
      args: ['lookup', 'example.com/other/bundle:v1'],
      names: ['example.com/other/bundle:v1'],
      hint: /trust add/,
    }),
  },

  // ---- keys ----------------------------------------------------------------------------------
  {
    title: 'publish: key file with mode 0644',
    code: 'KEY_FILE_PERMISSIONS',
    prepare: async ({ repo, home }) => {
      const file = keyFile(home, ctx.targetsId);
      await chmod(file, 0o644);
      return { args: ['publish', repo], names: [file], hint: new RegExp(`chmod 600 ${file}`) };
    },
  },
  {
    title: 'sign: key file with mode 0640',
    code: 'KEY_FILE_PERMISSIONS',
    prepare: async ({ repo, home }) => {
      const file = keyFile(home, ctx.targetsId);
      await chmod(file, 0o640);
      return { args: ['sign', repo, 'targets', '--key', ctx.targetsId], names: [file], hint: /chmod 600/ };
    },
  },
  {
    title: 'add-signature: signature over other bytes',
    code: 'BAD_SIGNATURE',
    prepare: async ({ dir, repo, home }) => ({
      args: [
        'add-signature',
        repo,
        'targets',
        await detachedSignature(home, ctx.targetsId, Buffer.from('other bytes'), path.join(dir, 'sig.json')),
      ],
      names: [ctx.targetsId, 'targets'],
      hint: /payload/,
    }),
  },
  {
    title: 'add-signature: by a key not authorized for the role',
    code: 'KEY_NOT_AUTHORIZED',
    prepare: async ({ dir, repo, home }) => {
      const payload = path.join(dir, 'payload.bin');
      cliOk(['payload', repo, 'targets', '-o', payload], { env: envFor(home) });
      const sig = await detachedSignature(home, ctx.rootIds[0], await readFile(payload), path.join(dir, 's'));
      return { args: ['add-signature', repo, 'targets', sig], names: [ctx.rootIds[0], 'targets'] };
    },
  },
  {
    title: 'sign: with a key not authorized for the role',
    code: 'KEY_NOT_AUTHORIZED',
    prepare: ({ repo }) => ({
      args: ['sign', repo, 'targets', '--key', ctx.rootIds[0]],
      names: [ctx.rootIds[0], 'targets'],
    }),
  },

  // ---- arguments -----------------------------------------------------------------------------
  {
    title: 'bundle add: invalid tag',
    code: 'INVALID_TAG',
    prepare: ({ repo }) => ({
      args: ['bundle', 'add', repo, 'v1/../x', '--thin', ctx.bundle],
      names: ['v1/../x'],
    }),
  },
  // invalid durations and other typed option values: usage errors, test/cli/typed-options.test.js
  // ---- a broken disk: only "does not exist" means absent ------------------------------------
  ...[
    ['cnabsec.json', ['status']],
    ['cnabsec.json', ['publish']],
    ['cnabsec.json', ['bundle', 'add', null, 'v3', '--thin', 'BUNDLE']],
    ['metadata/timestamp.json', ['status']], // was: exit 0, "timestamp not published"
    ['metadata/timestamp.json', ['publish']],
    ['metadata/1.snapshot.json', ['status']],
    ['metadata/1.root.json', ['status']],
    ['staged/targets.json', ['publish']],
  ].map(([file, cmd]) => ({
    title: `${file} replaced by a directory: ${cmd.filter((a) => a !== null).join(' ')}`,
    code: 'STORE_IO',
    prepare: async ({ repo }) => {
      const abs = path.join(repo, ...file.split('/'));
      await rm(abs);
      await mkdir(abs);
      const args = [...cmd];
      const at = args.indexOf(null);
      if (at === -1) args.push(repo);
      else args[at] = repo;
      return { args: args.map((a) => (a === 'BUNDLE' ? ctx.bundle : a)), names: [abs, 'EISDIR'] };
    },
  })),
  {
    title: 'status: staged/ replaced by a regular file',
    code: 'STORE_IO',
    prepare: async ({ repo }) => {
      const abs = path.join(repo, 'staged');
      await rm(abs, { recursive: true });
      await writeFile(abs, 'not a directory');
      return { args: ['status', repo], names: [abs, 'ENOTDIR'] };
    },
  },
  ...[
    ['publish', 'REPO'],
    ['key', 'list'],
    ['key', 'generate', '--label', 'x'],
  ].map((cmd) => ({
    title: `$CNABSEC_HOME/keys a regular file: ${cmd.filter((a) => a !== 'REPO').join(' ')}`,
    code: 'KEY_STORE_IO',
    prepare: async ({ repo, home }) => {
      const keys = path.join(home, 'keys');
      await rm(keys, { recursive: true });
      await writeFile(keys, 'not a directory');
      return { args: cmd.map((a) => (a === 'REPO' ? repo : a)), names: [keys] };
    },
  })),
  ...[['publish'], ['sign', 'targets', '--key', 'TARGETS']].map((cmd) => ({
    title: `$CNABSEC_HOME/keys a symlink to a world-writable directory: ${cmd[0]}`,
    code: 'KEY_STORE_UNSAFE',
    prepare: async ({ dir, repo, home }) => {
      const keys = path.join(home, 'keys');
      const shared = path.join(dir, 'shared-keys');
      await rename(keys, shared);
      await chmod(shared, 0o777);
      await symlink(shared, keys);
      const args = [cmd[0], repo, ...cmd.slice(1).map((a) => (a === 'TARGETS' ? ctx.targetsId : a))];
      return { args, names: [keys, shared, '777'], hint: /chmod 700/ };
    },
  })),
  ...[
    ['kdf.N', 3],
    ['kdf.N', 2 ** 30],
    ['kdf.N', 2 ** 20],
    ['kdf.N', 'x'],
    ['kdf.r', null],
    ['kdf.p', 64],
    ['cipher.tag', 'AA=='],
    ['cipher.tag', 'AAAAAAAAAAA='], // truncated auth tag (8 bytes)
    ['cipher.iv', ''],
  ].map(([field, value]) => ({
    title: `key file with ${field} = ${JSON.stringify(value)}: sign`,
    code: 'KEY_FILE_INVALID',
    prepare: async ({ repo, home }) => {
      const file = keyFile(home, ctx.targetsId);
      const json = JSON.parse(await readFile(file, 'utf8'));
      const [obj, key] = field.split('.');
      json[obj][key] = value;
      await writeFile(file, JSON.stringify(json), { mode: 0o600 });
      return { args: ['sign', repo, 'targets', '--key', ctx.targetsId], names: [file, field] };
    },
  })),
  {
    title: 'intoto run: in-toto key encrypted with 10 000 000 PBKDF2 iterations',
    code: 'KEY_FILE_INVALID',
    prepare: async ({ dir }) => {
      const parts = sslibKeyFiles(generateKeyPair('ed25519').privateKey, PASS).private.split('@@@@');
      parts[1] = '10000000';
      const file = path.join(dir, 'functionary');
      await writeFile(file, parts.join('@@@@'), { mode: 0o600 });
      return {
        args: ['intoto', 'run', '-n', 'build', '-k', file, '--', 'true'],
        names: [file, 'iterations'],
      };
    },
  },
  {
    title: 'lookup: $CNABSEC_HOME/trust a regular file',
    code: 'TRUST_STORE_IO',
    prepare: async ({ home }) => {
      const trust = path.join(home, 'trust');
      await rm(trust, { recursive: true });
      await writeFile(trust, 'not a directory');
      return { args: ['lookup', `${NAME}:v1`], names: [trust, 'ENOTDIR'] };
    },
  },

  // ---- freeze: the client names the role that expired and when -------------------------------
  ...['root', 'targets', 'snapshot', 'timestamp'].map((role) => ({
    title: `freeze: ${role} expired, seen by the client (lookup)`,
    code: 'TUF_EXPIRED_METADATA',
    prepare: ({ home }) => {
      const f = ctx.frozen[role];
      const root = path.join(f.dir, 'metadata', '1.root.json');
      const url = pathToFileURL(path.join(f.dir, 'metadata')).href;
      cliOk(['trust', 'add', f.name, '--root', root, '--url', url], { env: envFor(home) });
      return { args: ['lookup', `${f.name}:v1`], names: [`${role} v1`, f.expires], watch: [] };
    },
  })),

  {
    title: 'init: over an existing repository',
    code: 'REPO_EXISTS',
    prepare: ({ repo }) => ({ args: ['init', repo, '--name', NAME], names: [repo] }),
  },
];

for (const c of CASES) {
  test(`bad input: ${c.title} → ${c.code}`, async () => {
    const copy = await fresh();
    const p = await c.prepare(copy);
    await expectUserError({
      code: c.code,
      env: envFor(copy.home),
      watch: [copy.dir],
      ...p,
    });
  });
}

test('--json: the error object goes to stdout as {error: {code, message, hint}}', async () => {
  const copy = await fresh();
  const missing = path.join(copy.dir, 'no-such-repo');
  for (const [args, env, expected] of [
    [['publish', missing, '--json'], envFor(copy.home), { code: 'REPO_NOT_FOUND' }],
    [
      ['publish', copy.repo, '--json'],
      envFor(copy.home, { CNABSEC_PASSPHRASE: 'wrong' }),
      { code: 'WRONG_PASSPHRASE' },
    ],
  ]) {
    const before = await snapshotTree(copy.dir);
    const r = runCli(args, { env });
    const out = `cnabsec ${args.join(' ')}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
    assert.equal(r.status, 1, out);
    assert.equal(r.stderr, '', out);
    const body = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(body), ['error'], out);
    assert.equal(body.error.name, undefined, 'no JS class name');
    assert.equal(body.error.code, expected.code);
    assert.equal(typeof body.error.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.equal(typeof body.error.hint, 'string');
    assert.ok(body.error.hint.length > 0);
    assert.deepEqual(treeChanges(before, await snapshotTree(copy.dir)), [], `nothing written\n${out}`);
  }
});

test('threshold signing: 2-of-3 targets with `sign --key` and an external detached signature', async () => {
  const copy = await fresh();
  const home = path.join(copy.dir, 'home-t');
  const repo = path.join(copy.dir, 'repo-t');
  const name = 'example.com/org/threshold';
  const env = envFor(home);

  // A key made outside cnabsec; imported only to be named at init, then removed from the key
  // store, so that its signature can only come from add-signature.
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = path.join(copy.dir, 'external.pem');
  await writeFile(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const external = cliOk(['key', 'import', pem, '--label', 'external'], { env }).trim();
  assert.match(external, /^[0-9a-f]{64}$/);

  const init = JSON.parse(
    cliOk(
      [
        'init',
        repo,
        '--name',
        name,
        '--targets-keys',
        '3',
        '--targets-threshold',
        '2',
        '--targets-key',
        external,
        '--json',
      ],
      { env },
    ),
  );
  const targetsIds = init.roles.find((r) => r.role === 'targets').keyids;
  assert.equal(targetsIds.length, 3);
  assert.ok(targetsIds.includes(external));
  const [k1, k2] = targetsIds.filter((k) => k !== external);
  await unlink(keyFile(home, external));

  cliOk(['bundle', 'add', repo, 'v1', '--thin', ctx.bundle], { env });
  cliOk(['sign', repo, 'targets', '--key', k1], { env });
  const payload = path.join(copy.dir, 'targets.payload');
  cliOk(['payload', repo, 'targets', '-o', payload], { env });
  const sig = nodeSign(null, await readFile(payload), privateKey).toString('hex');
  const sigFile = path.join(copy.dir, 'external.sig.json');
  await writeFile(sigFile, JSON.stringify({ keyid: external, sig }));
  cliOk(['add-signature', repo, 'targets', sigFile], { env });

  const status = JSON.parse(cliOk(['status', repo, '--json'], { env }));
  const targets = status.roles.find((r) => r.role === 'targets');
  assert.deepEqual(targets.signatures[0].valid.sort(), [k1, external].sort());
  assert.equal(targets.signatures[0].met, true);

  cliOk(['publish', repo], { env });
  const published = JSON.parse(await readFile(path.join(repo, 'metadata', '1.targets.json'), 'utf8'));
  const signedBy = published.signatures.map((s) => s.keyid).sort();
  assert.deepEqual(signedBy, [k1, external].sort(), 'the threshold was met without the third key');
  assert.ok(!signedBy.includes(k2));

  cliOk(
    [
      'trust',
      'add',
      name,
      '--root',
      path.join(repo, 'metadata', '1.root.json'),
      '--url',
      pathToFileURL(path.join(repo, 'metadata')).href,
    ],
    { env },
  );
  const found = JSON.parse(cliOk(['lookup', `${name}:v1`, '--json'], { env }));
  assert.equal(found.name, `${name}:v1`);
  assert.equal(found.hashes.sha256, ctx.bundleSha256);
  assert.equal(found.length, Buffer.byteLength(canonicalize(BUNDLE)));
});
