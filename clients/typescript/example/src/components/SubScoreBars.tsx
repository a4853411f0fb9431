import type { ScoreCategory, SubScores } from '../api'
import { ALL_CATEGORIES, CATEGORY_LABELS } from '../format'

interface SubScoreBarsProps {
  subScores: SubScores | null | undefined
}

/** One bar per category present (0-100, 50 neutral, marked by a tick). */
export function SubScoreBars({ subScores }: SubScoreBarsProps) {
  const present = ALL_CATEGORIES.filter(
    (c): c is ScoreCategory => typeof subScores?.[c] === 'number' && Number.isFinite(subScores[c]),
  )
  if (present.length === 0) return null
  return (
    <dl className="subscores">
      {present.map((category) => {
        const value = subScores?.[category] ?? 0
        const width = Math.min(100, Math.max(0, value))
        const side = value > 50 ? 'above' : value < 50 ? 'below' : 'neutral'
        return (
          <div className="subscore" key={category}>
            <dt className="subscore-label">{CATEGORY_LABELS[category]}</dt>
            <dd className="subscore-track-cell">
              <div
                className="subscore-track"
                role="meter"
                aria-label={CATEGORY_LABELS[category]}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={value}
                data-testid={`sub-score-${category}`}
                data-value={String(value)}
                title={`${CATEGORY_LABELS[category]}: ${String(value)} / 100 (50 is neutral)`}
              >
                <div className={`subscore-fill subscore-${side}`} style={{ width: `${width}%` }} />
                <div className="subscore-tick" aria-hidden="true" />
              </div>
            </dd>
            <dd className="subscore-value">{String(Math.round(value * 10) / 10)}</dd>
          </div>
        )
      })}
    </dl>
  )
}
