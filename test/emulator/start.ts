import { createFalClient, type FalClient } from '@fal-ai/client'
import type { Test } from 'tap'
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/emulator.js'
import { falHostFetch } from '../helpers/fal-host-fetch.js'

export const KEY = 'emulator-test-id:emulator-test-secret'

/** A listening emulator with short timings, closed in teardown, and the official client aimed at it. */
export async function startEmulator (t: Test, options: Partial<EmulatorOptions> = {}): Promise<{ emulator: Emulator, baseUrl: string, fal: FalClient }> {
  const emulator = createEmulator({ falKey: KEY, queueMs: 150, processingMs: 210, ...options })
  t.teardown(() => emulator.close())
  const baseUrl = await emulator.listen()
  const fal = createFalClient({ credentials: KEY, fetch: falHostFetch(baseUrl) })
  return { emulator, baseUrl, fal }
}
