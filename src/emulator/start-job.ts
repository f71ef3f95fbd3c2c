import { randomInt } from 'node:crypto'
import type { FastifyReply } from 'fastify'
import { imageSizeOf } from './image-files.js'
import type { Job, JobStore } from './jobs.js'
import type { EmulatedModel } from './models.js'
import { isInput, notAnObject } from './validation.js'

/**
 * fal's answer to a body for one of its endpoints, shared by the queue's submit and the run host:
 * fal's 422 for an invalid input (the reply is sent, undefined returned), else a new job.
 */
export function startJob (jobs: JobStore, model: EmulatedModel, body: unknown, reply: FastifyReply, webhookUrl?: string): Job | undefined {
  const errors = isInput(body) ? model.validate(body) : notAnObject()
  if (errors.length > 0 || !isInput(body)) {
    reply.code(422).send({ detail: errors })
    return undefined
  }
  const seed = Number.isSafeInteger(body.seed) ? body.seed as number : randomInt(2 ** 31)
  const images = Number.isSafeInteger(body.num_images) ? body.num_images as number : 1
  return jobs.add({ model, seed, ...imageSizeOf(body), alpha: model.transparent, images, webhookUrl })
}
