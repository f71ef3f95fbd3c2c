import { readFile } from 'node:fs/promises'
import t from 'tap'

// policy.example.json itself is loaded and validated by test/identity/policy-file.test.ts.
t.test('the policy file docs/identity.md shows is policy.example.json', async t => {
  const identity = await readFile(new URL('../../docs/identity.md', import.meta.url), 'utf8')
  const section = /^## The policy file\n([\s\S]*?)(?=^## )/m.exec(identity)?.[1] ?? ''
  const shown = /```json\n([\s\S]*?)```/.exec(section)?.[1]
  t.ok(shown, 'the section shows a policy file')
  const example = await readFile(new URL('../../policy.example.json', import.meta.url), 'utf8')
  t.same(JSON.parse(shown ?? 'null'), JSON.parse(example))
})
