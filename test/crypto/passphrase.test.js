// Passphrase scheme (issue 12 item 6, ADR 0015): prompts name the role and the key's place
// among the role's keys, a wrong passphrase typed at a terminal is asked again (3 tries), one
// from the environment never is, and CNABSEC_PASSPHRASE_<KEYID8> comes before the role's and
// the generic variable. The terminal is a fake prompt function injected into the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  KeyStore,
  MAX_PASSPHRASE_TRIES,
  newPassphraseSource,
  passphraseFromEnv,
  passphraseSource,
} from '../../dist/crypto/index.js';
import { FsMetadataStore, LocalRepository, publish } from '../../dist/tuf/index.js';
import { fixedPassphrases, tempDir } from '../helpers/tmp.js';

const PASS = 'right passphrase';

/** A fake terminal: answers `answers` in turn and records every question asked. */
function terminal(answers) {
  const asked = [];
  const prompt = async (question) => {
    asked.push(question);
    if (asked.length > answers.length) throw new Error(`unexpected question ${question}`);
    return answers[asked.length - 1];
  };
  return { asked, prompt };
}

async function storeWithKey(t, label = 'root') {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const key = await store.generate('ed25519', label, fixedPassphrases(PASS));
  return { home, store, key };
}

test('env precedence: CNABSEC_PASSPHRASE_<KEYID8> (upper or lower case), then <ROLE>, then generic', () => {
  const keyid = 'ab12cd34' + '0'.repeat(56);
  const all = {
    CNABSEC_PASSPHRASE_AB12CD34: 'upper',
    CNABSEC_PASSPHRASE_ab12cd34: 'lower',
    CNABSEC_PASSPHRASE_ROOT: 'role',
    CNABSEC_PASSPHRASE: 'generic',
  };
  assert.equal(passphraseFromEnv('root', all, keyid), 'upper');
  const noUpper = { ...all };
  delete noUpper.CNABSEC_PASSPHRASE_AB12CD34;
  assert.equal(passphraseFromEnv('root', noUpper, keyid), 'lower');
  const roleOnly = { ...noUpper };
  delete roleOnly.CNABSEC_PASSPHRASE_ab12cd34;
  assert.equal(passphraseFromEnv('root', roleOnly, keyid), 'role');
  assert.equal(passphraseFromEnv('targets', roleOnly, keyid), 'generic');
  assert.equal(passphraseFromEnv('root', { CNABSEC_PASSPHRASE: 'generic' }, keyid), 'generic');
  // another key of the same role does not take this key's variable
  assert.equal(passphraseFromEnv('root', all, 'ffffffff' + '0'.repeat(56)), 'role');
  assert.equal(passphraseFromEnv('root', {}, keyid), undefined);
});

test('prompt names the role, the key i/n and the key id; the new-key prompt asks twice', async () => {
  const tty = terminal(['a', 'b', 'b']);
  const src = passphraseSource({ env: {}, prompt: tty.prompt });
  const keyid = 'ab12cd34' + 'e'.repeat(56);
  assert.equal(await src('root', keyid, false, { index: 2, count: 3 }), 'a');
  assert.equal(await src('targets', undefined, true), 'b');
  assert.deepEqual(tty.asked, [
    'Passphrase for root key 2/3 (ab12cd34): ',
    'Passphrase for the new targets key: ',
    'Repeat passphrase: ',
  ]);
});

test('no prompt with CI=true or noPrompt even with a terminal: PASSPHRASE_REQUIRED naming the variables', async () => {
  const keyid = 'ab12cd34' + 'e'.repeat(56);
  for (const options of [{ env: { CI: 'true' } }, { env: {}, noPrompt: true }]) {
    const tty = terminal([]);
    const src = passphraseSource({ ...options, prompt: tty.prompt });
    await assert.rejects(src('root', keyid, false, { index: 1, count: 2 }), (e) => {
      assert.equal(e.code, 'PASSPHRASE_REQUIRED');
      assert.match(e.message, /root key 1\/2 \(ab12cd34\)/);
      assert.match(e.hint, /CNABSEC_PASSPHRASE_AB12CD34, CNABSEC_PASSPHRASE_ROOT or CNABSEC_PASSPHRASE$/);
      return true;
    });
    assert.deepEqual(tty.asked, []);
  }
});

test('a wrong passphrase at the terminal is asked again, then the right one unlocks', async (t) => {
  const { store, key } = await storeWithKey(t);
  const tty = terminal(['wrong', PASS]);
  const signer = await store.signer(key.keyid, passphraseSource({ env: {}, prompt: tty.prompt }), 'root', {
    index: 1,
    count: 1,
  });
  assert.equal(signer.keyid, key.keyid);
  const k8 = key.keyid.slice(0, 8);
  assert.deepEqual(tty.asked, [
    `Passphrase for root key 1/1 (${k8}): `,
    `Wrong passphrase, attempt 2 of 3. Passphrase for root key 1/1 (${k8}): `,
  ]);
});

test('three wrong passphrases at the terminal: WRONG_PASSPHRASE naming the key id, no fourth ask', async (t) => {
  const { store, key } = await storeWithKey(t);
  const tty = terminal(['one', 'two', 'three', PASS]);
  await assert.rejects(
    store.signer(key.keyid, passphraseSource({ env: {}, prompt: tty.prompt }), 'root', {
      index: 2,
      count: 3,
    }),
    (e) => {
      assert.equal(e.code, 'WRONG_PASSPHRASE');
      assert.ok(e.message.includes(key.keyid), e.message);
      assert.match(e.message, /root key 2\/3 .*\(3 tries\)/);
      assert.match(e.hint, new RegExp(`CNABSEC_PASSPHRASE_${key.keyid.slice(0, 8).toUpperCase()}`));
      return true;
    },
  );
  assert.equal(tty.asked.length, MAX_PASSPHRASE_TRIES);
  assert.match(tty.asked[2], /^Wrong passphrase, attempt 3 of 3\. /);
});

test('a wrong passphrase from the environment is not retried, not even with a terminal', async (t) => {
  const { store, key } = await storeWithKey(t);
  const tty = terminal([PASS]);
  const src = passphraseSource({ env: { CNABSEC_PASSPHRASE_ROOT: 'wrong' }, prompt: tty.prompt });
  let calls = 0;
  const counting = (...args) => {
    calls++;
    return src(...args);
  };
  await assert.rejects(store.signer(key.keyid, counting, 'root'), (e) => {
    assert.equal(e.code, 'WRONG_PASSPHRASE');
    assert.doesNotMatch(e.message, /tries/);
    assert.match(e.hint, /CNABSEC_PASSPHRASE_ROOT/);
    return true;
  });
  assert.deepEqual(tty.asked, [], 'the terminal is not asked');
  assert.equal(calls, 2, 'asked once, then the source refused to ask again');
});

test('the per-key variable unlocks one key of a role whose other key has the role passphrase', async (t) => {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const a = await store.generate('ed25519', 'root', fixedPassphrases('alice'));
  const b = await store.generate('ed25519', 'root', fixedPassphrases('bob'));
  const env = {
    CNABSEC_PASSPHRASE_ROOT: 'alice',
    [`CNABSEC_PASSPHRASE_${b.keyid.slice(0, 8).toUpperCase()}`]: 'bob',
  };
  const src = passphraseSource({ env, noPrompt: true });
  assert.equal((await store.signer(a.keyid, src, 'root')).keyid, a.keyid);
  assert.equal((await store.signer(b.keyid, src, 'root')).keyid, b.keyid);
});

test('publish asks each root key with its place among the root keys', async (t) => {
  const home = await tempDir(t);
  const store = new KeyStore(home);
  const pp = fixedPassphrases(PASS);
  const roles = {};
  const rootKeys = [];
  for (let i = 0; i < 3; i++) rootKeys.push((await store.generate('ed25519', 'root', pp)).publicKey);
  roles.root = { keys: rootKeys, threshold: 3 };
  for (const role of ['targets', 'snapshot', 'timestamp'])
    roles[role] = { keys: [(await store.generate('ed25519', role, pp)).publicKey], threshold: 1 };
  const repo = await LocalRepository.create(new FsMetadataStore(`${home}/repo`), {
    name: 'example.com/org/prompts',
    roles,
  });
  const asked = [];
  const tty = async (q) => {
    asked.push(q);
    return PASS;
  };
  const src = passphraseSource({ env: {}, prompt: tty });
  await publish(repo, {
    signers: async (role, keyid, position) => store.signer(keyid, src, role, position),
  });
  const rootAsks = asked.filter((q) => q.startsWith('Passphrase for root key'));
  assert.deepEqual(
    rootAsks.map((q) => q.replace(/\([0-9a-f]{8}\)/, '(id)')),
    [
      'Passphrase for root key 1/3 (id): ',
      'Passphrase for root key 2/3 (id): ',
      'Passphrase for root key 3/3 (id): ',
    ],
  );
  assert.ok(
    asked.some((q) => /^Passphrase for timestamp key 1\/1 \([0-9a-f]{8}\): $/.test(q)),
    asked.join('\n'),
  );
});

test('new passphrase: CNABSEC_NEW_PASSPHRASE, else asked twice at the terminal, else PASSPHRASE_REQUIRED', async () => {
  const keyid = 'ab12cd34' + 'e'.repeat(56);
  assert.equal(
    await newPassphraseSource({ env: { CNABSEC_NEW_PASSPHRASE: 'n', CNABSEC_PASSPHRASE: 'o' } })(
      'root',
      keyid,
    ),
    'n',
  );
  const tty = terminal(['n2', 'n2']);
  assert.equal(await newPassphraseSource({ env: {}, prompt: tty.prompt })('root', keyid), 'n2');
  assert.deepEqual(tty.asked, ['New passphrase for root key (ab12cd34): ', 'Repeat new passphrase: ']);
  const differ = terminal(['x', 'y']);
  await assert.rejects(newPassphraseSource({ env: {}, prompt: differ.prompt })('root', keyid), {
    code: 'WRONG_PASSPHRASE',
  });
  await assert.rejects(
    newPassphraseSource({ env: { CNABSEC_PASSPHRASE: 'o' }, noPrompt: true })('root', keyid),
    (e) => {
      assert.equal(e.code, 'PASSPHRASE_REQUIRED');
      assert.match(e.hint, /CNABSEC_NEW_PASSPHRASE/);
      return true;
    },
  );
});
