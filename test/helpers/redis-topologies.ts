import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.js'

/**
 * Redis as operators run it, started by a test from Debian's `redis-server` / `redis-sentinel`
 * on free loopback ports: a Sentinel group (one master, two replicas, three sentinels) and a
 * three-master Cluster. Nothing is persisted; everything is killed at teardown or process exit.
 */

const SYSTEM_REDIS_PORT = 6379
const READY_TIMEOUT_MS = 30_000

interface Node {
  port: number
  child: ChildProcess | undefined
}

function spawnRedis (binary: string, args: string[]): ChildProcess {
  const child = spawn(binary, args, { stdio: 'ignore' })
  const killOnExit = (): void => { child.kill('SIGKILL') }
  process.once('exit', killOnExit)
  child.once('exit', () => { process.off('exit', killOnExit) })
  return child
}

async function kill (node: Node): Promise<void> {
  const child = node.child
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
  node.child = undefined
}

/** One command over a fresh connection, answered as text (RESP, unparsed): enough for probes. */
export async function redisCommand (port: number, ...words: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (error?: Error): void => {
      clearTimeout(timer)
      socket.destroy()
      if (error === undefined) resolve(reply)
      else reject(error)
    }
    const timer = setTimeout(() => { done(reply === '' ? new Error('no answer') : undefined) }, 1000)
    socket.on('error', done)
    socket.on('connect', () => {
      socket.write(`*${words.length}\r\n${words.map(word => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join('')}`)
    })
    socket.on('data', chunk => {
      reply += chunk.toString()
      // Bulk and simple replies of the probes used here end with one CRLF after their payload.
      if (/^[+\-:]/.test(reply) ? reply.endsWith('\r\n') : /^\$-1\r\n$|^\$\d+\r\n[\s\S]*\r\n$|^\*/.test(reply)) done()
    })
  })
}

async function waitFor (what: string, probe: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`${what} within ${timeoutMs} ms`)
}

async function freePorts (count: number): Promise<number[]> {
  const ports: number[] = []
  while (ports.length < count) {
    const port = await freePort([SYSTEM_REDIS_PORT, ...ports])
    // Cluster nodes also listen on port + 10000 for their bus.
    if (port + 10_000 > 65_535 || ports.includes(port + 10_000)) continue
    ports.push(port)
  }
  return ports
}

export interface RedisSentinelGroup {
  /** The master's name the sentinels monitor. */
  masterName: string
  /** `host:port` of each sentinel. */
  sentinels: Array<{ host: string, port: number }>
  /** The port of the node that is master now, as the sentinels report it. */
  masterPort: () => Promise<number>
  /** SIGKILL of the current master; resolves once a sentinel reports another node promoted. */
  killMaster: () => Promise<{ oldPort: number, newPort: number }>
  stop: () => Promise<void>
}

const MASTER_NAME = 'falgw'

/** One master, two replicas and three sentinels with a quorum of two and a fast failover. */
export async function startRedisSentinelGroup (): Promise<RedisSentinelGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'falgw-sentinel-'))
  const [masterPort, ...rest] = await freePorts(6) as [number, ...number[]]
  const nodes: Node[] = [masterPort, rest[0] as number, rest[1] as number].map(port => ({ port, child: undefined }))
  const sentinels: Node[] = rest.slice(2).map(port => ({ port, child: undefined }))

  for (const [index, node] of nodes.entries()) {
    node.child = spawnRedis('redis-server', [
      '--port', String(node.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--loglevel', 'warning',
      ...(index === 0 ? [] : ['--replicaof', '127.0.0.1', String(masterPort)])
    ])
  }
  for (const node of nodes) await waitFor(`redis-server on ${node.port} answering`, async () => (await redisCommand(node.port, 'PING')).startsWith('+PONG'))
  for (const node of nodes.slice(1)) {
    await waitFor(`replica ${node.port} in sync`, async () => (await redisCommand(node.port, 'INFO', 'replication')).includes('master_link_status:up'))
  }
  for (const sentinel of sentinels) {
    const file = join(dir, `sentinel-${sentinel.port}.conf`)
    await writeFile(file, [
      `port ${sentinel.port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      ''
    ].join('\n'))
    // Debian's redis-sentinel package is only this link; redis-server runs a sentinel by itself.
    sentinel.child = spawnRedis('redis-server', [file, '--sentinel', '--loglevel', 'warning'])
  }
  const askMaster = async (port: number): Promise<number | undefined> => {
    const reply = await redisCommand(port, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)
    const found = /\r\n(\d+)\r\n$/.exec(reply)
    return found === null ? undefined : Number(found[1])
  }
  for (const sentinel of sentinels) {
    await waitFor(`sentinel ${sentinel.port} knowing the replicas and its peers`, async () => {
      const info = await redisCommand(sentinel.port, 'INFO', 'sentinel')
      return /slaves=2,sentinels=3/.test(info)
    })
  }

  const masterPortNow = async (): Promise<number> => {
    const port = await askMaster(sentinels[0]?.port as number)
    if (port === undefined) throw new Error('no master known')
    return port
  }

  return {
    masterName: MASTER_NAME,
    sentinels: sentinels.map(({ port }) => ({ host: '127.0.0.1', port })),
    masterPort: masterPortNow,
    async killMaster () {
      const oldPort = await masterPortNow()
      const master = nodes.find(node => node.port === oldPort)
      if (master === undefined) throw new Error(`master ${oldPort} is not one of ours`)
      await kill(master)
      let newPort = oldPort
      await waitFor('a replica promoted by the sentinels', async () => {
        newPort = await masterPortNow()
        if (newPort === oldPort) return false
        return (await redisCommand(newPort, 'INFO', 'replication')).includes('role:master')
      })
      return { oldPort, newPort }
    },
    async stop () {
      for (const node of [...sentinels, ...nodes]) await kill(node)
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export interface RedisClusterNodes {
  /** `host:port` of each master: the seeds a cluster client starts from. */
  nodes: Array<{ host: string, port: number }>
  stop: () => Promise<void>
}

/** Three masters, no replicas, all 16,384 slots covered, every node reporting the cluster ok. */
export async function startRedisCluster (): Promise<RedisClusterNodes> {
  const dir = await mkdtemp(join(tmpdir(), 'falgw-cluster-'))
  const nodes: Node[] = (await freePorts(3)).map(port => ({ port, child: undefined }))
  for (const node of nodes) {
    node.child = spawnRedis('redis-server', [
      '--port', String(node.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--loglevel', 'warning',
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${node.port}.conf`),
      '--cluster-node-timeout', '2000'
    ])
  }
  for (const node of nodes) await waitFor(`cluster node ${node.port} answering`, async () => (await redisCommand(node.port, 'PING')).startsWith('+PONG'))
  const create = spawn('redis-cli', ['--cluster', 'create', ...nodes.map(node => `127.0.0.1:${node.port}`), '--cluster-yes'], { stdio: 'ignore' })
  const [code] = await once(create, 'exit') as [number | null]
  if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`)
  for (const node of nodes) {
    await waitFor(`cluster node ${node.port} reporting cluster_state:ok`, async () => (await redisCommand(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'))
  }
  return {
    nodes: nodes.map(({ port }) => ({ host: '127.0.0.1', port })),
    async stop () {
      for (const node of nodes) await kill(node)
      await rm(dir, { recursive: true, force: true })
    }
  }
}
