/**
 * Test support: raw HTTP requests with node:http (fetch cannot set `Host`), for probing the admin
 * server with the headers a browser, a DNS-rebinding page or a careless client would send.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http"

export interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** The parsed body's `error`, if it is JSON with one. */
  readonly error: string | undefined
}

/** Sends one request to 127.0.0.1:`port` and reads the whole answer. */
export const send = (
  port: number,
  options: {
    readonly method?: string
    readonly path: string
    readonly headers?: Record<string, string>
    readonly body?: string
  }
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        agent: false
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8")
          let error: string | undefined
          try {
            const parsed = JSON.parse(body) as { error?: unknown }
            error = typeof parsed.error === "string" ? parsed.error : undefined
          } catch {
            error = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, error })
        })
      }
    )
    req.on("error", reject)
    req.end(options.body)
  })

/**
 * Starts a POST that announces or streams a large body and resolves with the answer's status as
 * soon as it arrives, without finishing the body: the server must answer without reading it all.
 */
export const sendUnfinished = (
  port: number,
  options: { readonly path: string; readonly headers: Record<string, string>; readonly bytes: number }
): Promise<number> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: options.path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
        agent: false
      },
      (res) => {
        resolve(res.statusCode ?? 0)
        res.resume()
        req.destroy()
      }
    )
    // After the answer the server closes the connection; a later write error no longer matters.
    req.on("error", reject)
    req.write(Buffer.alloc(options.bytes, "a"))
  })
