/** cnabsec/crypto: keys, key ids, signers, encrypted key files, the key store, passphrases. */
export * from './errors.js';
export * from './keys.js';
export * from './signer.js';
export * from './keyfile.js';
export * from './keystore.js';
export * from './passphrase.js';
export * from './sslib.js';
export * from './unlock.js';
export * from './key-import.js';
