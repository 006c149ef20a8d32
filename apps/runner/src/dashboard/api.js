// The dashboard's calls to the admin API of the server that served it, with the token the
// operator entered (this tab's sessionStorage), on this origin only.

export const tokenKey = "sluice-admin-token"

export class Unauthorized extends Error {}
export class ApiError extends Error {
  /** @param {string} message @param {number} status */
  constructor(message, status) {
    super(message)
    this.status = status
  }
}

export const api = async (path, init = {}) => {
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
export const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) })
