// The few node:http APIs the tests use. The package does not depend on
// @types/node: its Node globals (setTimeout returning a Timeout, process, ...)
// would leak into the type check of the browser code in src/ and example/.
declare module 'node:http' {
  export interface IncomingMessage {
    method?: string
    url?: string
    headers: Record<string, string | string[] | undefined>
    on(event: 'data', listener: (chunk: Uint8Array) => void): this
    on(event: 'end', listener: () => void): this
  }
  export interface ServerResponse {
    writeHead(status: number, headers?: Record<string, string>): this
    end(body?: string): void
  }
  export interface AddressInfo {
    address: string
    family: string
    port: number
  }
  export interface Server {
    listen(port: number, host: string, listening: () => void): this
    address(): AddressInfo | string | null
    close(done?: (err?: Error) => void): this
    closeAllConnections(): void
  }
  export function createServer(
    listener: (req: IncomingMessage, res: ServerResponse) => void,
  ): Server
}
