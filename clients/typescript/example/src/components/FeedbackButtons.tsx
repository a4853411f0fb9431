import { useState } from 'react'
import type { FeedbackType, MatchingError } from '../api'
import { errorText } from '../format'

export interface FeedbackOption {
  type: FeedbackType
  label: string
  pressedLabel: string
  tone: 'primary' | 'neutral' | 'danger'
}

interface FeedbackButtonsProps {
  options: readonly FeedbackOption[]
  /** feedback already recorded (the row's `feedback` column) */
  recorded: readonly string[] | null | undefined
  /** records one feedback type; resolves to the error, or null on success */
  record: (type: FeedbackType) => Promise<MatchingError | null>
  /** told about every success, so the card can restyle itself */
  onRecorded?: (type: FeedbackType) => void
}

/**
 * Feedback buttons with `aria-pressed` for the types already recorded (from the
 * row or from this session); an error is shown under them (`card-error`).
 */
export function FeedbackButtons({ options, recorded, record, onRecorded }: FeedbackButtonsProps) {
  const [local, setLocal] = useState<ReadonlySet<string>>(new Set())
  const [pending, setPending] = useState<FeedbackType | null>(null)
  const [error, setError] = useState<string | null>(null)
  const pressed = new Set<string>([...(recorded ?? []), ...local])

  async function press(type: FeedbackType) {
    if (pending !== null || pressed.has(type)) return // recorded once is enough (idempotent)
    setPending(type)
    setError(null)
    const err = await record(type)
    setPending(null)
    if (err !== null) {
      setError(errorText(err))
      return
    }
    setLocal((prev) => new Set([...prev, type]))
    onRecorded?.(type)
  }

  return (
    <div className="feedback">
      <div className="feedback-buttons" role="group" aria-label="Feedback">
        {options.map((o) => {
          const isPressed = pressed.has(o.type)
          const isPending = pending === o.type
          return (
            <button
              key={o.type}
              type="button"
              className={`btn btn-${o.tone}${isPressed ? ' is-pressed' : ''}`}
              data-testid={`feedback-${o.type}`}
              aria-pressed={isPressed}
              aria-busy={isPending}
              disabled={pending !== null && !isPending}
              title={isPressed ? 'Recorded' : undefined}
              onClick={() => void press(o.type)}
            >
              {isPending ? '…' : isPressed ? `✓ ${o.pressedLabel}` : o.label}
            </button>
          )
        })}
      </div>
      {error !== null ? (
        <p className="card-error" role="alert" data-testid="card-error">
          {error}
        </p>
      ) : null}
    </div>
  )
}
