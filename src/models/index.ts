import { illusionDiffusion } from './illusion-diffusion.js'
import { layerDiffusion } from './layer-diffusion.js'
import type { FalModel } from './model.js'

/**
 * The models this gateway serves, and so its allowlist: an app id not listed here is refused on
 * every route. Adding a model is adding its file and one line here.
 */
export const models: readonly FalModel[] = [illusionDiffusion, layerDiffusion]

const byId = new Map(models.map(model => [model.id, model]))

export function findModel (appId: string): FalModel | undefined {
  return byId.get(appId)
}

export type { FalModel } from './model.js'
