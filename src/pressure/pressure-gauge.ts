import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** The histogram's own resolution: its mean never drops below it, so it is taken off. */
const RESOLUTION_MS = 10

export interface PressureLimits {
  /** Mean event-loop delay over a sample above which the node is overloaded (0 = not checked). */
  maxEventLoopDelayMs: number
  maxHeapUsedBytes: number
  /** How long the node must have been overloaded, and said so on /readyz, before it sheds. */
  graceMs: number
  sampleIntervalMs: number
}

export interface PressureGauge {
  /** Over a limit at the last sample: /readyz answers 503. */
  readonly overloaded: boolean
  /** Overloaded for at least the grace period: new requests get 503 OVERLOADED. Implies `overloaded`. */
  readonly shedding: boolean
  /** Starts measuring (at listen, so start-up work never counts as load). */
  start: () => void
  stop: () => void
}

/**
 * Samples the event-loop delay and the heap every `sampleIntervalMs`. Both states change only at
 * a sample, so a request reads two booleans; and shedding never starts before the node has been
 * reporting itself not ready for `graceMs`, so a balancer that follows /readyz stops sending first.
 */
export function createPressureGauge (limits: PressureLimits): PressureGauge {
  let histogram: ELDHistogram | undefined
  let timer: NodeJS.Timeout | undefined
  let overloadedSince: number | undefined

  const gauge = {
    overloaded: false,
    shedding: false,
    start () {
      if (timer !== undefined) return
      histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
      histogram.enable()
      timer = setInterval(sample, limits.sampleIntervalMs)
      timer.unref()
    },
    stop () {
      clearInterval(timer)
      histogram?.disable()
      timer = undefined
    }
  }

  function sample (): void {
    const now = performance.now()
    gauge.overloaded = eventLoopLagging() || heapFull()
    if (!gauge.overloaded) overloadedSince = undefined
    else overloadedSince ??= now
    gauge.shedding = overloadedSince !== undefined && now - overloadedSince >= limits.graceMs
  }

  function eventLoopLagging (): boolean {
    if (limits.maxEventLoopDelayMs === 0 || histogram === undefined) return false
    // No sample at all means the loop was blocked for the whole interval.
    const mean = histogram.count === 0 ? Infinity : histogram.mean / 1e6 - RESOLUTION_MS
    histogram.reset()
    return mean > limits.maxEventLoopDelayMs
  }

  function heapFull (): boolean {
    return getHeapStatistics().used_heap_size > limits.maxHeapUsedBytes
  }

  return gauge
}
