import type { TopReason } from '../api'

interface ReasonsProps {
  reasons: readonly TopReason[] | null | undefined
}

function sign(contribution: number): 'positive' | 'negative' | 'neutral' {
  if (contribution > 0) return 'positive'
  if (contribution < 0) return 'negative'
  return 'neutral'
}

/** The top three reasons, colored by the sign of their contribution. */
export function Reasons({ reasons }: ReasonsProps) {
  const top = (reasons ?? []).filter((r) => typeof r.sentence === 'string' && r.sentence !== '').slice(0, 3)
  if (top.length === 0) return null
  return (
    <ul className="reasons" aria-label="Why this match">
      {top.map((r, i) => {
        const s = sign(Number(r.contribution))
        return (
          <li key={`${r.feature}-${i}`} className={`reason reason-${s}`} data-testid="reason" data-sign={s}>
            {r.sentence}
          </li>
        )
      })}
    </ul>
  )
}
