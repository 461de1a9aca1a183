// The XML of the AWS Query protocol's answers: elements in the order given, text escaped, lists as
// `<member>` items ("Query protocol … lists are serialized as <member> elements", Smithy awsQuery spec).

/** A value of an answer: text, a number, nested elements, or a list of nested elements. */
export type XmlValue = string | number | XmlElements | readonly XmlElements[] | undefined;
export interface XmlElements {
  readonly [name: string]: XmlValue;
}

const ENTITIES: Readonly<Record<string, string>> = Object.freeze({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' });

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** `{A: 'x', B: {C: 1}, D: [{E: 'y'}]}` → `<A>x</A><B><C>1</C></B><D><member><E>y</E></member></D>`; undefined is left out. */
export function toXml(elements: XmlElements): string {
  let out = '';
  for (const [name, value] of Object.entries(elements)) {
    if (value === undefined) continue;
    let inner: string;
    if (typeof value === 'string') inner = xmlEscape(value);
    else if (typeof value === 'number') inner = String(value);
    else if (Array.isArray(value)) inner = (value as readonly XmlElements[]).map((item) => `<member>${toXml(item)}</member>`).join('');
    else inner = toXml(value as XmlElements);
    out += `<${name}>${inner}</${name}>`;
  }
  return out;
}
