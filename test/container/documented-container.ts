import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'

/** What the Container section of docs/deployment.md tells a user to run, read from the document itself. */
export interface DocumentedContainer {
  /** `docker build -t <tag> <context>` */
  build: { tag: string, context: string }
  /** `docker run … -e NAME[=value] … -p host:container … <image>`; a bare `-e NAME` takes NAME from the caller's environment. */
  run: { env: Array<{ name: string, value?: string }>, containerPort: number, image: string }
  /** The Kubernetes pod spec fragment. */
  pod: PodSpec
}

export interface PodSpec {
  terminationGracePeriodSeconds: number
  containers: Array<{
    ports: Array<{ containerPort: number }>
    env: Array<{ name: string }>
    securityContext?: { runAsNonRoot?: boolean }
    livenessProbe: { httpGet: { path: string, port: number } }
    readinessProbe: { httpGet: { path: string, port: number } }
    lifecycle?: { preStop?: { exec?: { command: string[] } } }
  }>
}

export async function readDocumentedContainer (path: string): Promise<DocumentedContainer> {
  const document = await readFile(path, 'utf8')
  const section = /^## Container\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(document)?.[1]
  if (section === undefined) throw new Error(`${path} has no "## Container" section`)
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, language, body]) => ({ language, body: body as string }))
  const commands = blocks.filter(block => block.language === 'sh').flatMap(block => block.body.split('\n'))

  const buildWords = words(commands.find(line => line.startsWith('docker build ')))
  const runWords = words(commands.find(line => line.startsWith('docker run ')))
  const podYaml = blocks.find(block => block.language === 'yaml')
  if (podYaml === undefined) throw new Error(`${path}'s Container section has no pod spec example`)

  const env: DocumentedContainer['run']['env'] = []
  let containerPort: number | undefined
  for (let index = 2; index < runWords.length - 1; index++) {
    const word = runWords[index] as string
    const value = runWords[index + 1] as string
    if (word === '-e') {
      const [name = '', ...rest] = value.split('=')
      env.push(rest.length === 0 ? { name } : { name, value: rest.join('=') })
      index++
    } else if (word === '-p') {
      containerPort = Number(value.split(':').at(-1))
      index++
    }
  }
  if (containerPort === undefined) throw new Error(`${path}'s docker run publishes no port`)

  return {
    build: { tag: valueAfter(buildWords, '-t'), context: buildWords.at(-1) as string },
    run: { env, containerPort, image: runWords.at(-1) as string },
    pod: parse(podYaml.body) as PodSpec
  }
}

/** A command line's words, up to its comment. */
function words (line: string | undefined): string[] {
  if (line === undefined) throw new Error('the Container section lacks a docker build or docker run command')
  return line.replace(/\s+#.*$/, '').trim().split(/\s+/)
}

function valueAfter (list: string[], flag: string): string {
  const index = list.indexOf(flag)
  if (index === -1 || index === list.length - 1) throw new Error(`no ${flag} in "${list.join(' ')}"`)
  return list[index + 1] as string
}
