import { useEffect, useRef, useState } from 'react'
import type { MatchingError } from './api'

export interface RowsState<T> {
  /** the last rows received (kept while a new request is in flight) */
  rows: T[] | null
  error: MatchingError | null
  loading: boolean
}

/**
 * Runs `run` whenever `key` changes (or `reload()` is called) and keeps the
 * latest answer; answers of superseded requests are dropped. A load that
 * starts clears the last error, so a retry shows as loading, not as the old
 * error.
 */
export function useRows<T>(
  key: string,
  run: () => Promise<{ data: T[] | null; error: MatchingError | null }>,
): [RowsState<T>, () => void] {
  const [state, setState] = useState<RowsState<T>>({ rows: null, error: null, loading: true })
  const [nonce, setNonce] = useState(0)
  const runRef = useRef(run)
  runRef.current = run

  useEffect(() => {
    let live = true
    setState((s) => ({ rows: s.rows, error: null, loading: true }))
    runRef.current().then(
      (res) => {
        if (!live) return
        if (res.error !== null) setState({ rows: null, error: res.error, loading: false })
        else setState({ rows: res.data ?? [], error: null, loading: false })
      },
      (e: unknown) => {
        // the client resolves errors instead of rejecting; this is a bug's last resort
        if (!live) return
        const message = e instanceof Error ? e.message : String(e)
        setState({
          rows: null,
          error: { code: 'unexpected', message, details: null, hint: null, status: 0, retryAfterSeconds: null },
          loading: false,
        })
      },
    )
    return () => {
      live = false
    }
  }, [key, nonce])

  const reload = () => {
    // in the same render as the new request's key: no frame with the old error
    setState((s) => ({ rows: s.rows, error: null, loading: true }))
    setNonce((n) => n + 1)
  }
  return [state, reload]
}
