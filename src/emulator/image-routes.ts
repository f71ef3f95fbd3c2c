import type { FastifyInstance } from 'fastify'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import { parseImageFileName } from './image-files.js'
import { renderPng } from './png.js'

/** Result images, public like fal's CDN: rendered from the file name, cached by size. */
export function imageRoutes (app: FastifyInstance, hooks: FalHooksContext): void {
  app.get<{ Params: { name: string } }>('/files/:name', falHooks(hooks, 'file', false), async (request, reply) => {
    const spec = parseImageFileName(request.params.name)
    if (spec === undefined) return reply.code(404).send({ detail: 'File not found' })
    return reply
      .type('image/png')
      .header('cache-control', 'public, max-age=3600, immutable')
      .send(renderPng(spec))
  })
}
