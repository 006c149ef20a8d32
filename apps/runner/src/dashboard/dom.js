// The dashboard's DOM helpers: elements built with textContent and attributes only (never HTML
// from data), and the formats of its cells.

/** @type {(id: string) => HTMLElement} */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))
/** @type {(id: string) => HTMLTableSectionElement} */
export const tbody = (id) => /** @type {HTMLTableElement} */ ($(id)).tBodies[0]
export const el = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (key === "class") node.className = value
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, value === true ? "" : value)
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child)
  return node
}
export const td = (text, cls) => el("td", { class: cls }, text === null || text === undefined ? "–" : String(text))

export const ago = (seconds) => {
  if (seconds === null || seconds === undefined) return "–"
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  return `${Math.round(seconds / 3600)} h`
}
export const since = (iso) => (iso ? ago(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))) : "–")
export const rate = (value) => (value === undefined ? "–" : value.toFixed(value >= 10 ? 0 : 2))

export const say = (text, cls = "") => {
  const message = $("message")
  message.textContent = text
  message.className = cls
}
