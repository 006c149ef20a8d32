// The dashboard's script (served as /dashboard.js; see DashboardPage.ts). Polls the admin API of
// the server that served it every few seconds and renders with the DOM only (textContent, never
// HTML from data). The admin token, when the server needs one, is entered by the operator and kept
// in this tab's sessionStorage: never in the URL, never sent anywhere but this origin.
;(() => {
  const pollMs = 5000
  const tokenKey = "sluice-admin-token"
  /** @type {(id: string) => HTMLElement} */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))
  /** @type {(id: string) => HTMLTableSectionElement} */
  const tbody = (id) => /** @type {HTMLTableElement} */ ($(id)).tBodies[0]
  const tokenInput = () => /** @type {HTMLInputElement} */ ($("token-input"))

  /** Dead letters whose details are open, and their details once read (by outbox id). */
  const expanded = new Map()
  /** The route whose purge waits for confirmation. */
  let confirmingPurge
  /** False once GET /api/routes answered 404 (a server without pause/resume). */
  let pauseSupported = true
  let timer

  class Unauthorized extends Error {}
  class ApiError extends Error {
    /** @param {string} message @param {number} status */
    constructor(message, status) {
      super(message)
      this.status = status
    }
  }

  const api = async (path, init = {}) => {
    const headers = { accept: "application/json" }
    const token = sessionStorage.getItem(tokenKey)
    if (token) headers.authorization = `Bearer ${token}`
    if (init.body !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(path, { ...init, headers, credentials: "omit", cache: "no-store" })
    if (response.status === 401) throw new Unauthorized("the admin token is missing or wrong")
    const body = await response.json().catch(() => ({}))
    if (!response.ok) {
      throw new ApiError(body.error ?? `${response.status} ${response.statusText}`, response.status)
    }
    return body
  }
  const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) })

  const el = (tag, attributes = {}, ...children) => {
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
  const td = (text, cls) => el("td", { class: cls }, text === null || text === undefined ? "–" : String(text))

  const ago = (seconds) => {
    if (seconds === null || seconds === undefined) return "–"
    if (seconds < 120) return `${seconds} s`
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`
    return `${Math.round(seconds / 3600)} h`
  }
  const since = (iso) => (iso ? ago(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))) : "–")
  const rate = (value) => (value === undefined ? "–" : value.toFixed(value >= 10 ? 0 : 2))

  const say = (text, cls = "") => {
    const message = $("message")
    message.textContent = text
    message.className = cls
  }

  // A sparkline of deliveries and failures (retries + dead letters) per second, as SVG.
  const svgNs = "http://www.w3.org/2000/svg"
  const sparkline = (points) => {
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
  const recent = (points) => {
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

  const renderRoutes = (backlog, rates, paused) => {
    const byRoute = new Map(rates.routes.map((r) => [r.route, r.points]))
    const pausedBy = new Map((paused ?? []).map((r) => [r.route, r]))
    const names = [...new Set([...backlog.routes.map((r) => r.route), ...byRoute.keys(), ...pausedBy.keys()])].sort()
    const rows = names.map((route) => {
      const b = backlog.routes.find((r) => r.route === route) ?? {}
      const points = byRoute.get(route) ?? []
      const last = recent(points)
      const state = pausedBy.get(route)
      const pauseCell = el(
        "td",
        { class: "pause-column", hidden: !pauseSupported },
        state === undefined
          ? "–"
          : el(
              "span",
              { class: "actions" },
              state.paused
                ? el(
                    "span",
                    { class: "warn" },
                    `paused ${since(state.paused_at)} ago${state.reason ? `: ${state.reason}` : ""}`
                  )
                : "running",
              state.rate_limit_per_s ? el("span", { class: "muted" }, `≤ ${state.rate_limit_per_s}/s`) : undefined,
              el(
                "button",
                {
                  type: "button",
                  "data-action": state.paused ? "resume" : "pause",
                  onclick: () =>
                    act(`${state.paused ? "resume" : "pause"} ${route}`, () =>
                      state.paused
                        ? post(`/api/routes/${encodeURIComponent(route)}/resume`, {})
                        : post(`/api/routes/${encodeURIComponent(route)}/pause`, {
                            reason: "paused from the dashboard"
                          })
                    )
                },
                state.paused ? "Resume" : "Pause"
              )
            )
      )
      return el(
        "tr",
        { "data-route": route },
        td(route, "mono"),
        td(b.pending ?? 0, "num"),
        td(b.leased ?? 0, "num"),
        td(b.dead ?? 0, b.dead > 0 ? "num bad" : "num"),
        td(ago(b.oldest_pending_age_s ?? null), "num"),
        td(rate(last?.delivered_per_s), "num"),
        td(rate(last?.retried_per_s), "num"),
        td(rate(last?.dead_lettered_per_s), "num"),
        el("td", {}, sparkline(points)),
        pauseCell
      )
    })
    tbody("routes").replaceChildren(...rows)
    for (const th of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll("th.pause-column")))
      th.hidden = !pauseSupported
    $("spark-head").textContent = `Last ${Math.round(rates.window_s / 60)} min`
  }

  const renderRouteActions = (deadLetters, backlog) => {
    const routes = [...new Set(deadLetters.map((d) => d.route))].sort()
    const parts = routes.map((route) => {
      // The backlog counts every dead letter of the route, the list only the first page.
      const listed = deadLetters.filter((d) => d.route === route).length
      const count = Math.max(listed, backlog.routes.find((r) => r.route === route)?.dead ?? 0)
      const buttons = el(
        "div",
        { class: "actions", "data-route-actions": route },
        el("span", {}, "Route ", el("span", { class: "mono" }, route), ":"),
        el(
          "button",
          { type: "button", onclick: () => act(`replay ${route}`, () => post("/api/dead-letters/replay", { route })) },
          "Replay all"
        ),
        el(
          "button",
          {
            type: "button",
            class: "danger",
            onclick: () => {
              confirmingPurge = route
              render()
            }
          },
          "Purge…"
        )
      )
      if (confirmingPurge !== route) return buttons
      return el(
        "div",
        { class: "confirm", role: "alertdialog", "data-confirm-purge": route },
        el("p", {}, `Delete the ${count} dead letter(s) of route ${route} for good? Their events stay in the log.`),
        el(
          "div",
          { class: "actions" },
          el(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: () => {
                confirmingPurge = undefined
                act(`purge ${route}`, () => post("/api/dead-letters/purge", { route, confirm: true }))
              }
            },
            "Confirm purge"
          ),
          el(
            "button",
            {
              type: "button",
              onclick: () => {
                confirmingPurge = undefined
                render()
              }
            },
            "Cancel"
          )
        )
      )
    })
    $("route-actions").replaceChildren(...parts)
  }

  const detailRow = (id) => {
    const detail = expanded.get(id)
    const cell = el("td", { colspan: "7", class: "detail" })
    if (detail === undefined || detail === "loading") cell.append(el("span", { class: "muted" }, "loading…"))
    else if (detail.error) cell.append(el("span", { class: "bad" }, detail.error))
    else {
      cell.append(
        el("strong", {}, "Event"),
        el("pre", { class: "mono", "data-event": detail.event?.event?.event_id }, JSON.stringify(detail.event, null, 2))
      )
      if (detail.raw) {
        cell.append(
          el("strong", {}, `Raw payload (${detail.raw.content_type}, from ${detail.raw.source})`),
          el("pre", { class: "mono", "data-raw": detail.raw.raw_id }, detail.raw.body)
        )
      } else cell.append(el("p", { class: "muted" }, "No raw payload (the event was appended directly)."))
    }
    return el("tr", { "data-detail-of": id }, cell)
  }

  const toggle = async (letter) => {
    const id = letter.outbox_id
    if (expanded.has(id)) {
      expanded.delete(id)
      return render()
    }
    expanded.set(id, "loading")
    render()
    try {
      const event = await api(`/api/events/${encodeURIComponent(letter.event_id)}`)
      const raw = event.raw_id ? await api(`/api/raw/${encodeURIComponent(event.raw_id)}`) : undefined
      if (expanded.has(id)) expanded.set(id, { event, raw })
    } catch (error) {
      if (expanded.has(id)) expanded.set(id, { error: error.message })
    }
    render()
  }

  const renderDeadLetters = (deadLetters) => {
    const rows = deadLetters.flatMap((d) => {
      const open = expanded.has(d.outbox_id)
      const row = el(
        "tr",
        { "data-outbox-id": d.outbox_id, "data-event-id": d.event_id },
        td(d.outbox_id, "mono"),
        td(d.route, "mono"),
        td(d.event_id, "mono"),
        td(d.attempts, "num"),
        td(d.last_error, "bad"),
        td(since(d.created_at)),
        el(
          "td",
          {},
          el(
            "span",
            { class: "actions" },
            el(
              "button",
              { type: "button", "aria-expanded": String(open), onclick: () => toggle(d) },
              open ? "Hide" : "Show"
            ),
            el(
              "button",
              {
                type: "button",
                "data-action": "replay",
                onclick: () => act(`replay ${d.outbox_id}`, () => post(`/api/dead-letters/${d.outbox_id}/replay`, {}))
              },
              "Replay"
            )
          )
        )
      )
      return open ? [row, detailRow(d.outbox_id)] : [row]
    })
    tbody("dead-letters").replaceChildren(...rows)
    $("dead-letters").hidden = rows.length === 0
    $("dead-letters-empty").hidden = rows.length > 0
    // Forget details of rows that are gone (replayed, purged).
    for (const id of expanded.keys()) if (!deadLetters.some((d) => d.outbox_id === id)) expanded.delete(id)
  }

  const renderSources = (sources) => {
    const rows = sources.map((s) =>
      el(
        "tr",
        { "data-source": s.source },
        td(s.source, "mono"),
        td(s.last_tick_at === null ? "never" : `${since(s.last_tick_at)} ago`),
        td(s.last_outcome ?? "–", s.last_outcome === "failed" ? "bad" : s.last_outcome === "partial" ? "warn" : "ok"),
        td(s.consecutive_failures, s.consecutive_failures > 0 ? "num bad" : "num"),
        td(s.ticks, "num"),
        td(s.events_ingested_total, "num"),
        td(s.fetch_failures_total, "num"),
        td(s.last_error, s.last_error === null ? "muted" : "bad mono")
      )
    )
    tbody("sources").replaceChildren(...rows)
  }

  let last

  const render = () => {
    if (last === undefined) return
    renderRoutes(last.backlog, last.rates, last.paused)
    renderRouteActions(last.deadLetters, last.backlog)
    renderDeadLetters(last.deadLetters)
    renderSources(last.sources)
  }

  // Answers 404 on a server without pause/resume: the column is then hidden for good.
  const pausedRoutes = async () => {
    if (!pauseSupported) return undefined
    try {
      return await api("/api/routes")
    } catch (error) {
      if (error.status === 404 || error.status === 405) {
        pauseSupported = false
        return undefined
      }
      throw error
    }
  }

  const refresh = async () => {
    clearTimeout(timer)
    try {
      const [backlog, rates, sources, page, paused] = await Promise.all([
        api("/api/backlog"),
        api("/api/rates"),
        api("/api/sources"),
        api("/api/dead-letters?limit=100"),
        pausedRoutes()
      ])
      last = { backlog, rates, sources: sources.sources, deadLetters: page.dead_letters, paused }
      $("token-panel").hidden = true
      $("forget-token").hidden = !sessionStorage.getItem(tokenKey)
      render()
      const more = page.next_after === null ? "" : " (first 100 dead letters shown)"
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}${more}`
      document.body.dataset.state = "ready"
    } catch (error) {
      if (error instanceof Unauthorized) {
        // Nothing read with an earlier token stays on the page.
        last = undefined
        for (const id of ["routes", "dead-letters", "sources"]) tbody(id).replaceChildren()
        $("route-actions").replaceChildren()
        $("forget-token").hidden = true
        $("token-panel").hidden = false
        $("updated").textContent = "needs the admin token"
        document.body.dataset.state = "needs-token"
        return // polling resumes once a token is entered
      }
      $("updated").textContent = `update failed: ${error.message}`
    }
    // A hidden tab does not poll; it refreshes when shown again.
    // (Refreshes may overlap: an action's, a poll's: keep one timer.)
    clearTimeout(timer)
    if (!document.hidden) timer = setTimeout(refresh, pollMs)
  }

  // Runs an action, says what it did, and refreshes at once.
  const act = async (what, run) => {
    say(`${what}…`)
    try {
      const result = await run()
      const detail =
        result.replayed !== undefined
          ? `: ${result.replayed} replayed`
          : result.purged !== undefined
            ? `: ${result.purged} purged`
            : ""
      say(`${what}: done${detail}`, "ok")
    } catch (error) {
      if (error instanceof Unauthorized) $("token-panel").hidden = false
      say(`${what} failed: ${error.message}`, "bad")
    }
    await refresh()
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault()
    const value = tokenInput().value.trim()
    if (value === "") return
    sessionStorage.setItem(tokenKey, value)
    tokenInput().value = ""
    refresh()
  })
  $("forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(tokenKey)
    last = undefined
    refresh()
  })
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh()
  })
  refresh()
})()
