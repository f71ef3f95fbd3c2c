/**
 * A failure to listen that an operator fixes with a setting, as one line naming that setting
 * (`setting` is the one that chose the port: PORT, METRICS_PORT, EMULATOR_PORT); `undefined` for
 * any other failure, which is a bug and keeps its stack.
 */
export function listenProblem (error: unknown, setting: string, port: number, host: string): string | undefined {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use: set ${setting} to a free port, or stop what holds it`
    case 'EACCES':
      return `not allowed to listen on port ${port}: set ${setting} to a port above 1023`
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${host}, not an address of this machine: set HOST`
    default:
      return undefined
  }
}
