type Attributes = Record<string, string | boolean | undefined>
type Child = Node | string | undefined

/** Creates an element: string attributes are set, `true` ones are set empty, others skipped. */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string') element.setAttribute(name, value)
    else if (value === true) element.setAttribute(name, '')
  }
  for (const child of children) {
    if (child !== undefined) element.append(child)
  }
  return element
}
