import { PassThrough, type Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'
import { ManualDeparture, type Departure } from '../upstream/departure.js'
import type { StreamTarget } from '../upstream/fal-target.js'

export interface StatusStreamHubOptions {
  /** fal's status stream of a job (its own connection pool); `signal` closes it. */
  open: (target: StreamTarget, signal: Departure) => Promise<Readable>
  /**
   * The job's last event when its outcome is already known (then fal is not asked), and the
   * wait for it otherwise: the stream ends with that event as soon as it is, whatever fal says.
   */
  outcome?: {
    known: (target: StreamTarget) => Promise<string | undefined>
    wait: (target: StreamTarget, signal: AbortSignal) => Promise<string>
  }
  /** A listener this far behind (bytes it has not read) is cut off rather than held in memory. */
  maxListenerLagBytes?: number
}

/** Data events a late listener is sent first, at most: a logs stream's history, bounded. */
const MAX_REPLAY_BYTES = 256 * 1024
const DEFAULT_MAX_LAG_BYTES = 1024 * 1024

interface Channel {
  listeners: Set<PassThrough>
  /** Listeners waiting for fal's stream to open. */
  joining: number
  /** The data events so far (with logs) or the last one (without): what a newcomer is sent first. */
  replay: string[]
  replayBytes: number
  /** Closes fal's stream. */
  upstream: ManualDeparture
  outcomeWait: AbortController
  opened: Promise<void>
  /** How it closed: ended (the job completed) or cut. */
  closed?: 'end' | 'cut'
}

/**
 * One upstream status stream per job (and `logs` choice) on this node, shared by all its
 * listeners, whichever route they came by: a thousand tabs watching a hundred jobs hold a hundred
 * connections to fal, not a thousand. A listener joining late is sent the events so far; fal's
 * end (the job completed) or a recorded outcome ends every listener; a cut stream is a cut for
 * all (their readables are destroyed, not ended: a cut proves nothing); the last listener to
 * leave closes fal's stream.
 */
export function createStatusStreamHub ({ open, outcome, maxListenerLagBytes = DEFAULT_MAX_LAG_BYTES }: StatusStreamHubOptions) {
  const channels = new Map<string, Channel>()

  function close (key: string, channel: Channel, how: 'end' | 'cut', last?: string): void {
    if (channel.closed !== undefined) return
    channel.closed = how
    if (channels.get(key) === channel) channels.delete(key)
    channel.upstream.depart(undefined)
    channel.outcomeWait.abort()
    // Anyone still joining is sent the whole story, its end included.
    if (last !== undefined) channel.replay.push(last)
    for (const listener of channel.listeners) {
      if (how === 'cut') listener.destroy()
      else listener.end(last)
    }
    channel.listeners.clear()
  }

  /** Nobody listens or is about to: fal's stream goes. */
  function closeIfIdle (key: string, channel: Channel): void {
    if (channel.listeners.size === 0 && channel.joining === 0) close(key, channel, 'cut')
  }

  function remember (channel: Channel, event: string, logs: boolean): void {
    if (!logs) channel.replay.length = channel.replayBytes = 0
    channel.replay.push(event)
    channel.replayBytes += event.length
    while (channel.replayBytes > MAX_REPLAY_BYTES && channel.replay.length > 1) channel.replayBytes -= (channel.replay.shift() as string).length
  }

  function broadcast (channel: Channel, text: string): void {
    for (const listener of channel.listeners) {
      // A reader that stopped reading must not make the node hold everything for it.
      if (listener.writableLength > maxListenerLagBytes) listener.destroy()
      else listener.write(text)
    }
  }

  /** Reads fal's stream event by event (a newcomer must start on an event's boundary). */
  function relay (key: string, channel: Channel, upstream: Readable, logs: boolean): void {
    const decoder = new StringDecoder('utf8')
    let pending = ''
    upstream.on('data', (chunk: Buffer) => {
      pending += decoder.write(chunk).replace(/\r\n/g, '\n')
      let boundary = pending.indexOf('\n\n')
      while (boundary >= 0) {
        const event = pending.slice(0, boundary + 2)
        pending = pending.slice(boundary + 2)
        if (/^data:/m.test(event)) remember(channel, event, logs)
        broadcast(channel, event)
        boundary = pending.indexOf('\n\n')
      }
    })
    upstream.once('end', () => { close(key, channel, 'end', pending === '' ? undefined : pending) })
    upstream.once('error', () => { close(key, channel, 'cut') })
    upstream.once('close', () => { close(key, channel, 'cut') })
  }

  function start (key: string, target: StreamTarget): Channel {
    const channel: Channel = {
      listeners: new Set(),
      joining: 0,
      replay: [],
      replayBytes: 0,
      upstream: new ManualDeparture(),
      outcomeWait: new AbortController(),
      opened: Promise.resolve()
    }
    channels.set(key, channel)
    channel.opened = (async () => {
      const upstream = await open(target, channel.upstream)
      if (channel.closed !== undefined) {
        upstream.destroy()
        return
      }
      relay(key, channel, upstream, target.logs)
      outcome?.wait(target, channel.outcomeWait.signal).then(event => { close(key, channel, 'end', event) }, () => {})
    })()
    channel.opened.catch(() => {
      channel.closed = 'cut'
      if (channels.get(key) === channel) channels.delete(key)
    })
    return channel
  }

  /** A listener told the end at once. */
  function ended (events: string[]): Readable {
    const listener = new PassThrough()
    for (const event of events) listener.write(event)
    listener.end()
    return listener
  }

  return {
    /**
     * A listener's events, from fal's shared stream of `target`; rejects as opening fal's stream
     * failed. `lifetime` ends this listener alone (its readable is destroyed).
     */
    async listen (target: StreamTarget, lifetime: Departure): Promise<Readable> {
      // A lifetime already over would never end its listener: it neither opens fal's stream nor joins one.
      if (lifetime.aborted) throw lifetime.reason
      const key = `${target.appId}\n${target.requestId.toLowerCase()}\n${target.logs ? 1 : 0}`
      let channel = channels.get(key)
      if (channel === undefined) {
        const last = await outcome?.known(target)
        // Told already: answered without fal.
        if (last !== undefined) return ended([last])
        channel = channels.get(key) ?? start(key, target)
      }
      const joining = channel
      joining.joining++
      let waiting = true
      const stopWaiting = (): void => {
        if (!waiting) return
        waiting = false
        joining.joining--
      }
      // Leaving while fal's stream is still opening: when nobody else waits for it, the opening stops.
      const leaveEarly = (): void => {
        stopWaiting()
        if (joining.closed === undefined) closeIfIdle(key, joining)
      }
      lifetime.addEventListener('abort', leaveEarly, { once: true })
      try {
        await joining.opened
      } finally {
        lifetime.removeEventListener('abort', leaveEarly)
        stopWaiting()
      }
      if (lifetime.aborted) {
        if (channel.closed === undefined) closeIfIdle(key, channel)
        throw lifetime.reason
      }
      if (channel.closed === 'end') return ended(channel.replay)
      const listener = new PassThrough()
      if (channel.closed === 'cut') {
        listener.destroy()
        return listener
      }
      for (const event of channel.replay) listener.write(event)
      channel.listeners.add(listener)
      const joined = channel
      const leave = (): void => { listener.destroy() }
      lifetime.addEventListener('abort', leave, { once: true })
      listener.once('close', () => {
        lifetime.removeEventListener('abort', leave)
        joined.listeners.delete(listener)
        if (joined.closed === undefined) closeIfIdle(key, joined)
      })
      return listener
    },
    /** Upstream streams open or opening on this node (one per job and `logs` choice being watched). */
    get upstreamStreams (): number {
      return channels.size
    }
  }
}

export type StatusStreamHub = ReturnType<typeof createStatusStreamHub>
