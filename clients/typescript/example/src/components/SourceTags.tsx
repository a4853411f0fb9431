interface SourceTagsProps {
  source: string
  stale: boolean
  modelVersion: string | null
}

export const ESTIMATED_TOOLTIP = 'computed by the rule-based scorer; a personalised score is on its way'

/** "estimated" for fallback scores, "updating…" for stale ones. */
export function SourceTags({ source, stale, modelVersion }: SourceTagsProps) {
  const estimated = source === 'fallback'
  if (!estimated && !stale) {
    return modelVersion !== null && modelVersion !== '' ? (
      <span className="tag tag-quiet" title={`Scored by model ${modelVersion}`}>
        personalised
      </span>
    ) : null
  }
  return (
    <span className="tags">
      {estimated ? (
        <span className="tag tag-estimated" data-testid="source-estimated" title={ESTIMATED_TOOLTIP}>
          estimated
        </span>
      ) : null}
      {stale ? (
        <span
          className="tag tag-stale"
          data-testid="stale"
          title="The profile or the job changed since this score was computed; a fresh score is on its way"
        >
          updating…
        </span>
      ) : null}
    </span>
  )
}
