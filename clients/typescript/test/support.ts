// A tiny stand-in for PostgREST: a local HTTP server that records each request
// and answers with the status and JSON body a test gives it.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { createClient } from '@supabase/supabase-js'
import { MatchingClient } from '../src/index.js'

export interface Recorded {
  method: string
  path: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface Reply {
  status: number
  body?: unknown
  /** sent as is instead of JSON (e.g. a proxy's HTML error page) */
  raw?: string
}

export interface FakePostgrest {
  url: string
  requests: Recorded[]
  reply(next: Reply): void
  close(): Promise<void>
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
      let offset = 0
      for (const c of chunks) {
        bytes.set(c, offset)
        offset += c.length
      }
      resolve(new TextDecoder().decode(bytes))
    })
  })
}

export async function startFakePostgrest(): Promise<FakePostgrest> {
  const requests: Recorded[] = []
  let next: Reply = { status: 200, body: [] }
  const server: Server = createServer((req, res) => {
    void readBody(req).then((text) => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? undefined : JSON.parse(text),
      })
      const payload = next.raw ?? (next.body === undefined ? '' : JSON.stringify(next.body))
      const type = next.raw === undefined ? 'application/json; charset=utf-8' : 'text/html'
      res.writeHead(next.status, { 'Content-Type': type })
      res.end(payload)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    reply(r) {
      next = r
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// supabase-js builds its realtime client eagerly and wants a WebSocket
// constructor, which Node has only from version 22; these tests open no channel.
class NoWebSocket {
  constructor() {
    throw new Error('the tests open no realtime channel')
  }
}

export function matchingClient(url: string): MatchingClient {
  const supabase = createClient(url, 'test-anon-key', {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket as unknown as typeof WebSocket },
  })
  return new MatchingClient(supabase)
}
