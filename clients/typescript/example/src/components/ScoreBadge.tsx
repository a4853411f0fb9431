interface ScoreBadgeProps {
  score: number
  /** digits shown: 1 for talents (scores have two decimals), 0 for companies (whole numbers) */
  decimals: 0 | 1
  highlyRecommended: boolean
}

function tone(score: number): string {
  if (score >= 80) return 'excellent'
  if (score >= 65) return 'good'
  if (score >= 50) return 'fair'
  return 'low'
}

/** The match score (0-100) and, from the server's column, the "Highly recommended" badge. */
export function ScoreBadge({ score, decimals, highlyRecommended }: ScoreBadgeProps) {
  const value = Number(score)
  const shown = Number.isFinite(value) ? value.toFixed(decimals) : '–'
  return (
    <div className="score-block">
      <div className={`score-badge score-${tone(value)}`} title={`Match score ${String(score)} out of 100`}>
        <span className="score-value" data-testid="score" data-value={String(score)}>
          {shown}
        </span>
        <span className="score-unit">/ 100</span>
      </div>
      {highlyRecommended ? (
        <span className="pill pill-highlight" data-testid="highly-recommended">
          ★ Highly recommended
        </span>
      ) : null}
    </div>
  )
}
