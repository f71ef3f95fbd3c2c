import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config, RateLimit } from '../../config.js'
import { RateLimited } from '../../errors/gateway-errors.js'
import { budgetOf, type Budget, type Operation } from '../../gateway/operation.js'

export interface Client {
  /** Stable id limits and ownership are keyed by, e.g. `ip:203.0.113.7`. */
  id: string
}

declare module 'fastify' {
  interface FastifyRequest {
    client: Client
  }
  interface FastifyInstance {
    /** Identifies the client and charges the operation to its budget; throws when over. */
    admit: (request: FastifyRequest, reply: FastifyReply, operation: Operation) => Promise<void>
  }
}

type Limiter = ReturnType<import('fastify').FastifyInstance['createRateLimit']>

/**
 * Who the client is and whether it may do this now. Both the typed routes and the proxy call
 * `admit` once per request, before anything reaches fal, so limits are the same on every route.
 * Counting happens at the start of a request: invalid requests spend budget too, which is what
 * a paid key wants.
 */
export default fp<{ config: Config }>(async function admission (fastify, { config }) {
  await fastify.register(rateLimit, { global: false })

  const budgets: Record<Budget, RateLimit> = config.rateLimits
  const limiters = Object.fromEntries(Object.entries(budgets).map(([budget, limit]) => [
    budget,
    fastify.createRateLimit({
      max: limit.max,
      timeWindow: limit.windowMs,
      keyGenerator: (request: FastifyRequest) => `${budget}:${request.client.id}`
    })
  ])) as Record<Budget, Limiter>

  fastify.decorateRequest('client', null as unknown as Client)
  fastify.decorate('admit', async function admit (request: FastifyRequest, reply: FastifyReply, operation: Operation) {
    request.client = { id: `ip:${request.ip}` }
    const budget = budgetOf(operation)
    const verdict = await limiters[budget](request)
    if (verdict.isAllowed) return
    reply.header('x-ratelimit-limit', verdict.max)
    reply.header('x-ratelimit-remaining', verdict.remaining)
    reply.header('x-ratelimit-reset', verdict.ttlInSeconds)
    if (verdict.isExceeded) throw RateLimited(budget, verdict.ttlInSeconds)
  })
}, { name: 'admission', dependencies: ['error-handler'] })
