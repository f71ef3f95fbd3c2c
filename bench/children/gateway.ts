import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * The gateway exactly as production starts it: the compiled `server.js` (`npm start`), not the
 * TypeScript sources through tsx, whose transform wraps every closure the hot path creates in a
 * naming helper production never runs. BENCH_GATEWAY_DIST is the `dist` folder of the checkout
 * measured (this one, or BENCH_BASELINE's). Plus one thing a benchmark child needs: exit when
 * the parent is gone.
 */
const dist = process.env.BENCH_GATEWAY_DIST
if (dist === undefined) throw new Error('BENCH_GATEWAY_DIST is required')
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
await import(pathToFileURL(join(dist, 'server.js')).href)
