export type StatusState = 'loading' | 'ready' | 'empty' | 'error'

interface StatusLineProps {
  state: StatusState
  text: string
  onRetry?: () => void
}

/**
 * The page-level status/error line. The `data-testid="status"` element holds
 * the text only (its `data-state` says loading/ready/empty/error); the spinner
 * and the retry button sit beside it.
 */
export function StatusLine({ state, text, onRetry }: StatusLineProps) {
  return (
    <div className={`status status-${state}`}>
      {state === 'loading' ? <span className="spinner" aria-hidden="true" /> : null}
      <span
        className="status-text"
        data-testid="status"
        data-state={state}
        role={state === 'error' ? 'alert' : 'status'}
        aria-live="polite"
      >
        {text}
      </span>
      {state === 'error' && onRetry !== undefined ? (
        <button type="button" className="btn btn-link" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}
