import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url))

export interface ComposeService {
  build?: string
  image?: string
  environment?: Record<string, string | number | boolean>
  deploy?: { replicas?: number }
  stop_grace_period?: string
  depends_on?: Record<string, { condition: string }>
  networks?: string[] | Record<string, { ipv4_address?: string }>
  command?: string[]
}

export interface ComposeFile {
  services: Record<string, ComposeService>
  networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string, ip_range?: string }> } }>
}

export async function readComposeFile (): Promise<ComposeFile> {
  return parse(await readFile(`${DEPLOY_DIR}compose.yaml`, 'utf8')) as ComposeFile
}

/** The gateway service's environment as written, every value a string. */
export function gatewayEnvironment (compose: ComposeFile): Record<string, string> {
  return Object.fromEntries(Object.entries(compose.services.gateway?.environment ?? {}).map(([name, value]) => [name, String(value)]))
}

/** Compose's `${NAME:?message}`, `${NAME:-default}` and `${NAME}` in `value`, resolved from `variables`. */
export function interpolate (value: string, variables: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_match, name: string, kind?: string, rest?: string) => {
    const set = variables[name]
    if (set !== undefined && set !== '') return set
    if (kind === '?') throw new Error(`${name} is required: ${rest ?? ''}`)
    return kind === '-' ? (rest ?? '') : ''
  })
}

/** The gateway's environment as compose would start it, with `variables` set in the shell. */
export function resolvedGatewayEnvironment (compose: ComposeFile, variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(gatewayEnvironment(compose)).map(([name, value]) => [name, interpolate(value, variables)]))
}
