import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createRedisClient, waitForRedis } from '../../src/redis/redis-client.js'
import { createRedisSpendStore } from '../../src/spend/redis-spend-store.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { SUITE_OPTIONS, spendStoreSuite } from './spend-store-suite.js'

// A one-node Redis Cluster holding every slot: Redis refuses any script whose keys fall in
// different slots (CROSSSLOT), so the whole suite passing here shows every script is cluster-safe.
const dir = mkdtempSync(join(tmpdir(), 'falgw-cluster-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
const server = await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')])
t.teardown(() => server.stop())

const admin = createRedisClient(server.url)
t.teardown(() => admin.disconnect())
await waitForRedis(admin)
await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
for (let i = 0; !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) {
  if (i > 200) throw new Error('the one-node cluster never became ready')
  await sleep(25)
}

t.test('the cluster node refuses a script over two slots (the check below can fail)', async t => {
  await t.rejects(admin.eval('return 1', 2, 'a{one}', 'b{two}'), /CROSSSLOT/)
})

spendStoreSuite(t, async (count) => {
  const prefix = `test:{spend-${randomUUID()}}:`
  return await Promise.all(Array.from({ length: count }, async () => {
    const client = createRedisClient(server.url)
    t.teardown(() => client.disconnect())
    await waitForRedis(client)
    return createRedisSpendStore({ ...SUITE_OPTIONS, client, prefix })
  }))
})
