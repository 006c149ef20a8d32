import { rate } from "./dom.js"

// A sparkline of deliveries and failures (retries + dead letters) per second, as SVG.
const svgNs = "http://www.w3.org/2000/svg"
export const sparkline = (points) => {
  const width = 160
  const height = 28
  const svg = document.createElementNS(svgNs, "svg")
  svg.setAttribute("class", "spark")
  svg.setAttribute("width", String(width))
  svg.setAttribute("height", String(height))
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`)
  const failed = points.map((p) => p.retried_per_s + p.dead_lettered_per_s)
  const max = Math.max(0.001, ...points.map((p) => p.delivered_per_s), ...failed)
  const line = (values, cls) => {
    if (values.length === 0) return
    const step = values.length > 1 ? width / (values.length - 1) : 0
    const coordinates = values.map(
      (v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`
    )
    const polyline = document.createElementNS(svgNs, "polyline")
    polyline.setAttribute(
      "points",
      values.length === 1 ? `0,${coordinates[0].split(",")[1]} ${coordinates[0]}` : coordinates.join(" ")
    )
    polyline.setAttribute("fill", "none")
    polyline.setAttribute("stroke-width", "1.5")
    polyline.setAttribute("class", cls)
    svg.append(polyline)
  }
  line(
    points.map((p) => p.delivered_per_s),
    "delivered"
  )
  line(failed, "failed")
  const title = document.createElementNS(svgNs, "title")
  title.textContent = `${points.length} samples, max ${rate(max)}/s`
  svg.append(title)
  return svg
}

// Rates over the last minute or so (the newest points back to 60 s), not the newest point alone:
// it may span a second only.
export const recent = (points) => {
  const used = []
  for (let i = points.length - 1; i >= 0 && used.reduce((sum, p) => sum + p.span_s, 0) < 60; i--) used.push(points[i])
  const span = used.reduce((sum, p) => sum + p.span_s, 0)
  if (span === 0) return undefined
  const average = (key) => used.reduce((sum, p) => sum + p[key] * p.span_s, 0) / span
  return {
    delivered_per_s: average("delivered_per_s"),
    retried_per_s: average("retried_per_s"),
    dead_lettered_per_s: average("dead_lettered_per_s")
  }
}
