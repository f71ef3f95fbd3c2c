import { open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { list } from 'tar'
import { buildah } from './buildah.js'

export interface ExportedLayer {
  /** The layer's uncompressed tar file. */
  file: string
  digest: string
  bytes: number
}

export interface ExportedImage {
  layers: ExportedLayer[]
  /** The image config blob, as a registry would serve it. */
  configFile: string
}

/** Writes `image` as a registry would hold it (manifest, config, layers), uncompressed, to `dir`. */
export async function exportImage (image: string, dir: string): Promise<ExportedImage> {
  await buildah('push', '--disable-compression', image, `dir:${dir}`)
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    config: { digest: string }
    layers: Array<{ digest: string, size: number }>
  }
  const blob = (digest: string): string => join(dir, digest.replace(/^sha256:/, ''))
  return {
    configFile: blob(manifest.config.digest),
    layers: manifest.layers.map(layer => ({ file: blob(layer.digest), digest: layer.digest, bytes: layer.size }))
  }
}

/** The uncompressed layer digests (diff ids) of an image in local storage. */
export async function layerDigestsOf (image: string): Promise<string[]> {
  const inspected = JSON.parse(await buildah('inspect', '--type', 'image', image)) as { OCIv1: { rootfs: { diff_ids: string[] } } }
  return inspected.OCIv1.rootfs.diff_ids
}

/** Which of `needles` occur anywhere in `file`, read in chunks that overlap by the longest needle. */
export async function needlesIn (file: string, needles: readonly string[]): Promise<string[]> {
  const patterns = needles.map(needle => Buffer.from(needle))
  const overlap = Math.max(...patterns.map(pattern => pattern.length)) - 1
  const found = new Set<string>()
  const handle = await open(file)
  try {
    const chunk = Buffer.alloc(8 * 1024 * 1024 + overlap)
    let carried = 0
    for (;;) {
      const { bytesRead } = await handle.read(chunk, carried, chunk.length - carried)
      const window = chunk.subarray(0, carried + bytesRead)
      patterns.forEach((pattern, index) => { if (window.includes(pattern)) found.add(needles[index] as string) })
      if (bytesRead === 0) break
      carried = Math.min(overlap, window.length)
      window.copy(chunk, 0, window.length - carried)
    }
  } finally {
    await handle.close()
  }
  return [...found]
}

export interface LayerEntry { path: string, bytes: number }

/** The files in a layer tar, with their sizes. */
export async function layerEntries (file: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = []
  await list({ file, onReadEntry: entry => { entries.push({ path: entry.path, bytes: entry.size }) } })
  return entries
}

/**
 * Bytes per group of paths, largest first: a path is grouped by its first `depth` segments, and
 * by one more under node_modules/@scope, so each npm package is one group.
 */
export function bytesByGroup (entries: readonly LayerEntry[], depth: number): Array<[string, number]> {
  const totals = new Map<string, number>()
  for (const { path, bytes } of entries) {
    const segments = path.replace(/^\.\//, '').split('/').filter(segment => segment.length > 0)
    let take = Math.min(depth, segments.length)
    if (segments[take - 2] === 'node_modules' && segments[take - 1]?.startsWith('@') === true) take += 1
    const group = segments.slice(0, take).join('/')
    totals.set(group, (totals.get(group) ?? 0) + bytes)
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}
