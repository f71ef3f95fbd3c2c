import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import { ConfigError } from './config.js'

export interface EnvWithFile {
  /** The environment with the file's entries beneath it. */
  environment: Record<string, string | undefined>
  /** The file read, when there was one, and the names it set that the environment did not. */
  file?: { path: string, names: string[] }
}

/**
 * The settings of a `.env` file (in the working directory by default) under the environment:
 * a variable set in the environment wins over the file, and one set to the empty string counts
 * as unset, as everywhere in the settings. A missing file is no error; an unreadable one is.
 * Node's own parser (`util.parseEnv`), and process.env is left as it is: the entries pass the
 * result to `loadConfig`.
 */
export function withEnvFile (environment: Record<string, string | undefined>, path = '.env'): EnvWithFile {
  const fullPath = resolve(path)
  let text: string
  try {
    text = readFileSync(fullPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { environment }
    throw new ConfigError(`cannot read ${fullPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  const fromFile = Object.entries(parseEnv(text)).filter(([name]) => environment[name] === undefined || environment[name] === '')
  return {
    environment: { ...environment, ...Object.fromEntries(fromFile) },
    file: { path: fullPath, names: fromFile.map(([name]) => name) }
  }
}
