/**
 * JSON config files may carry comments (the README's examples do): `//` to the end of the line and
 * `/* ... *\/`, outside strings. They are blanked (newlines kept) so JSON.parse's positions in
 * error messages still point at the right line and column.
 */

/** `text` with its comments replaced by spaces; an unterminated `/*` is left for JSON.parse to refuse. */
export const stripComments = (text: string): string => {
  let out = ""
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '"') {
      // A string, escapes included: copied as is.
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i)
      const stop = end === -1 ? text.length : end
      out += " ".repeat(stop - i)
      i = stop
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2)
      if (end === -1) return out + text.slice(i)
      out += text.slice(i, end + 2).replace(/[^\n]/g, " ")
      i = end + 2
    } else {
      out += c
      i += 1
    }
  }
  return out
}
