/**
 * The gateway exactly as production starts it (`src/server.ts` reads its settings from the
 * environment), plus one thing a benchmark child needs: exit when the parent is gone.
 */
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
await import('../../src/server.js')
