import { generateClientKey, hashClientKey } from '../src/identity/client-keys.js'

/**
 * `npm run hash-key` prints a new client key and the sha256 to put in the policy file;
 * `npm run hash-key -- <existing key>` prints the sha256 of a key you already have.
 * Only the hash goes in the policy file; hand the key to the client.
 */
const existing = process.argv[2]
if (existing !== undefined) {
  process.stdout.write(`${hashClientKey(existing)}\n`)
} else {
  const { key, sha256 } = generateClientKey()
  process.stdout.write(`key:    ${key}\nsha256: ${sha256}\n`)
}
