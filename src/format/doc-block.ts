/**
 * Generated blocks of the docs: the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in
 * a Markdown file, made by code and kept in step by a test (UPDATE_GOLDEN=1 rewrites it). Pure.
 */

/** A Markdown table cell: its pipes escaped. */
export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/**
 * `doc` with its `name` block replaced by `body`, under a note saying what generates it; `file`
 * names the document in the error when the markers are missing.
 */
export function withGeneratedBlock(doc: string, name: string, file: string, generator: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: the ${begin} ... ${end} markers are missing`);
  const note = `<!-- Generated ${generator}: do not edit. -->`;
  return `${doc.slice(0, a)}${begin}\n${note}\n\n${body}\n${doc.slice(b)}`;
}
