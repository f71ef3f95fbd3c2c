import type { FastifyInstance } from 'fastify'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import { parseImageFileName, parseStandInName, STAND_IN_TYPES, standInBytes } from './image-files.js'
import { renderPng } from './png.js'

/** Result files, public like fal's CDN: images rendered from the file name, cached by size; stand-ins for the rest. */
export function imageRoutes (app: FastifyInstance, hooks: FalHooksContext): void {
  app.get<{ Params: { name: string } }>('/files/:name', falHooks(hooks, 'file', false), async (request, reply) => {
    reply.header('cache-control', 'public, max-age=3600, immutable')
    const spec = parseImageFileName(request.params.name)
    if (spec !== undefined) return reply.type('image/png').send(renderPng(spec))
    const kind = parseStandInName(request.params.name)
    if (kind !== undefined) return reply.type(STAND_IN_TYPES[kind] as string).send(standInBytes(kind))
    return reply.code(404).send({ detail: 'File not found' })
  })
}
