import fp from 'fastify-plugin'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { AdminUnauthorized } from '../../errors/gateway-errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook of every `/admin/*` route: 401 unless `Authorization: Bearer <ADMIN_TOKEN>`. */
    requireAdmin: (request: FastifyRequest) => Promise<void>
  }
}

// Digests have a fixed length, so timingSafeEqual never throws on a guess of another length.
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** The operator's routes, behind ADMIN_TOKEN; with no token configured nobody gets in. */
export default fp<{ config: Config }>(async function adminAuth (fastify, { config }) {
  const expected = config.adminToken === undefined ? undefined : digest(`Bearer ${config.adminToken}`)
  fastify.decorate('requireAdmin', async function requireAdmin (request: FastifyRequest) {
    const given = request.headers.authorization
    if (expected === undefined || given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new AdminUnauthorized()
    }
  })
}, { name: 'admin-auth' })
