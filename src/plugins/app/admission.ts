import fp from 'fastify-plugin'
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { ModelNotAllowed, RateLimited, RequestNotFound, StoreUnavailable } from '../../errors/gateway-errors.js'
import { budgetOf, type Budget, type Operation } from '../../gateway/operation.js'
import { gatewayPolicy } from '../../identity/gateway-policy.js'
import { createClientResolver, type Client } from '../../identity/resolve-client.js'
import { isModelAllowed, type Tier } from '../../identity/policy-file.js'
import { fallbackRateStore } from '../../limits/fallback-rate-store.js'
import { logContextOf } from '../../logger.js'

declare module 'fastify' {
  interface FastifyRequest {
    client: Client
    tier: Tier
    /** The owner of the request this one concerns, looked up while its budget is charged. */
    ownerLookup: { requestId: string, owner: Promise<string | undefined> } | undefined
  }
  interface FastifyInstance {
    /**
     * Identifies the client, checks its tier may use the model and charges the operation to its
     * rate budget. Throws when it may not.
     */
    admit: (request: FastifyRequest, reply: FastifyReply, operation: Operation, target?: AdmissionTarget) => Promise<void>
    /** Only the client that submitted a request may touch it; anyone else is told it does not exist. */
    assertOwner: (request: FastifyRequest, requestId: string) => Promise<void>
  }
}

export interface AdmissionTarget {
  appId?: string
  /** For status, stream, result and cancel: the request whose owner must be this client. */
  requestId?: string
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>

const RATE_NAMESPACE = 'falgw-rate:'
/** Clients whose rate counters one node keeps in memory before the least recent is dropped. */
const LOCAL_RATE_KEYS = 200_000

/**
 * Who the client is and whether it may do this now. The typed routes and the proxy call `admit`
 * once per request, before the body is read and before anything reaches fal, so the limits are
 * the same on every route. Invalid requests spend budget too, which is what a paid key wants.
 */
export default fp<{ config: Config }>(async function admission (fastify, { config }) {
  const policy = gatewayPolicy(config)
  const resolveClient = createClientResolver(policy)
  const failOpen = config.redis?.failMode === 'open'

  const redis = fastify.redis
  await fastify.register(rateLimit, {
    global: false,
    ...(redis === undefined
      ? {}
      : failOpen
        ? { store: fallbackRateStore(redis, RATE_NAMESPACE, LOCAL_RATE_KEYS, () => { fastify.log.warn('redis unreachable: rate limits counted on this node (REDIS_FAIL_MODE=open)') }) }
        : { redis, nameSpace: RATE_NAMESPACE })
  })

  const limiters = Object.fromEntries((['submit', 'poll', 'upload'] as const).map(budget => [
    budget,
    fastify.createRateLimit({
      // The plugin's default LRU of 5,000 keys lets a flood of clients evict real counters;
      // `cache` is honoured here though the plugin's types only list it for route options.
      cache: LOCAL_RATE_KEYS,
      keyGenerator: (request: FastifyRequest) => `${budget}:${request.client.id}`,
      max: (request: FastifyRequest) => request.tier[budget].max,
      timeWindow: (request: FastifyRequest) => request.tier[budget].windowMs
    } as RateLimitOptions)
  ])) as Record<Budget, Limiter>

  async function chargeBudget (request: FastifyRequest, reply: FastifyReply, budget: Budget): Promise<void> {
    let verdict: Awaited<ReturnType<Limiter>>
    try {
      verdict = await limiters[budget](request)
    } catch (error) {
      throw new StoreUnavailable({ cause: error })
    }
    if (verdict.isAllowed) return
    reply.header('x-ratelimit-limit', verdict.max)
    reply.header('x-ratelimit-remaining', verdict.remaining)
    reply.header('x-ratelimit-reset', verdict.ttlInSeconds)
    if (verdict.isExceeded) throw new RateLimited(verdict.ttlInSeconds, budget)
  }

  fastify.decorateRequest('client', null as unknown as Client)
  fastify.decorateRequest('tier', null as unknown as Tier)
  fastify.decorateRequest('ownerLookup', undefined)
  fastify.decorate('admit', async function admit (request: FastifyRequest, reply: FastifyReply, operation: Operation, { appId, requestId }: AdmissionTarget = {}) {
    const client = await resolveClient({
      authorization: request.headers.authorization,
      ip: request.ip,
      peerAddress: request.socket.remoteAddress
    })
    request.client = client
    request.tier = policy.tiers[client.tier] as Tier
    logContextOf(request.log).clientId = client.id
    if (appId !== undefined && !isModelAllowed(request.tier, appId)) throw new ModelNotAllowed(appId)
    if (requestId !== undefined) {
      // Started now so that, with Redis, both round trips overlap; awaited by assertOwner.
      const owner = fastify.limitStore.ownerOf(requestId.toLowerCase())
      owner.catch(() => {})
      request.ownerLookup = { requestId: requestId.toLowerCase(), owner }
    }
    await chargeBudget(request, reply, budgetOf(operation))
  })

  fastify.decorate('assertOwner', async function assertOwner (request: FastifyRequest, requestId: string) {
    logContextOf(request.log).falRequestId = requestId
    const id = requestId.toLowerCase()
    const lookup = request.ownerLookup
    const owner = await (lookup?.requestId === id ? lookup.owner : fastify.limitStore.ownerOf(id))
    if (owner !== request.client.id) throw new RequestNotFound()
  })
}, { name: 'admission', dependencies: ['error-handler', 'redis', 'limit-store'] })
