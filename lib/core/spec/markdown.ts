/** Markdown helpers shared by the generated pages (the spec, the kill-switch page, the README blocks). */

/** Escapes text for a Markdown table cell. */
export function cell(text: string | number | undefined): string {
  return String(text ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

export function table(head: string[], rows: (string | number | undefined)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
    '\n',
  );
}
