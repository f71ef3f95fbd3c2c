/**
 * The Dockerfile's base image: `pinned`, the official image its `ARG NODE_IMAGE` names by default,
 * and `standIn`, the local image the test builds on instead (`--build-arg NODE_IMAGE`), since no
 * registry is reachable and a digest names bytes no local build can reproduce. prepare.sh derives
 * the same stand-in name: localhost/stand-in/ and the pinned image's last name component and tag.
 */
export interface BaseImage {
  pinned: string
  standIn: string
  /** The image reference of every FROM, as written (stage names aside). */
  fromLines: string[]
}

export function baseImageOf (dockerfile: string): BaseImage {
  const pinned = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]
  if (pinned === undefined) throw new Error('the Dockerfile has no ARG NODE_IMAGE=<base image>')
  const name = pinned.split('@')[0] as string
  const fromLines = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map(match => match[1] as string)
  return { pinned, standIn: `localhost/stand-in/${name.slice(name.lastIndexOf('/') + 1)}`, fromLines }
}
