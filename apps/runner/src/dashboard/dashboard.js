// The dashboard's script: a module served as /dashboard.js, beside api.js, dom.js and sparkline.js
// (see DashboardPage.ts). Polls the admin API of the server that served it every few seconds and
// renders with the DOM only (textContent, never HTML from data). The admin token, when the server
// needs one, is entered by the operator and kept in this tab's sessionStorage: never in the URL,
// never sent anywhere but this origin.
import { api, post, tokenKey, Unauthorized } from "./api.js"
import { $, ago, el, rate, say, since, tbody, td } from "./dom.js"
import { recent, sparkline } from "./sparkline.js"

const pollMs = 5000
const tokenInput = () => /** @type {HTMLInputElement} */ ($("token-input"))

/** Dead letters whose details are open, and their details once read (by outbox id). */
const expanded = new Map()
/** The route whose purge waits for confirmation. */
let confirmingPurge
/** False once GET /api/routes answered 404 (a server without pause/resume). */
let pauseSupported = true
let timer

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
