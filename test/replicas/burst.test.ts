import t from 'tap'
import { startCluster } from './cluster.js'
import { BURST_ENV as env, burst, checkBurst } from './submit-burst.js'

t.test('two replicas sharing Redis: 1,000 concurrent submits from one client, exactly the limit reaches fal', async t => {
  const { emulator, gateways } = await startCluster(t, { replicas: 2, env })
  const started = Date.now()
  const answers = await burst(t, gateways)
  t.comment(`burst answered in ${Date.now() - started} ms`)
  t.equal(checkBurst(t, answers, emulator.callsOf('submit').length, 'Redis, 2 replicas'), 0, 'no request admitted over the limit')
})

t.test('one replica with the in-memory store: 1,000 concurrent submits, exactly the limit reaches fal', async t => {
  const { emulator, gateways } = await startCluster(t, { replicas: 1, redis: false, env })
  const answers = await burst(t, gateways)
  t.equal(checkBurst(t, answers, emulator.callsOf('submit').length, 'memory, 1 replica'), 0, 'no request admitted over the limit')
})
