import { createEmulator } from '../../src/emulator/emulator.js'

/**
 * The fal emulator with no artificial delay and no request logging, as its own process: the
 * benchmark's floor and the upstream of every forwarder. Reports its URL over IPC.
 */
const falKey = process.env.FAL_KEY
if (falKey === undefined || falKey === '') throw new Error('FAL_KEY is required')

const emulator = createEmulator({ falKey, queueMs: 0, processingMs: 0, logger: false })
const url = await emulator.listen(0, '127.0.0.1')
process.send?.({ url })

const stop = () => { emulator.close().finally(() => process.exit(0)) }
process.once('SIGTERM', stop)
// The parent is gone (even killed): nothing else would end this process.
process.once('disconnect', stop)
