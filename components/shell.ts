// Shared by the generated scripts (cloud-init, remote steps). Pure.

/**
 * POSIX single quotes, each ' written as '"'"'. Unlike shell-quote's forms (which escape $ and
 * even : or =), the text reads exactly as written, so generated scripts stay readable in
 * `pulumi preview --diff`; every POSIX shell takes it back verbatim.
 */
export function singleQuote(text: string): string {
  return `'${text.replace(/'/g, `'"'"'`)}'`;
}
