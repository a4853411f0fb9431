import { useState } from 'react'
import type { FeedbackType, GetTalentMatchesRow, MatchingError } from '../api'
import { enumLabel, joinParts, relativeTime, salaryRange } from '../format'
import { FeedbackButtons, type FeedbackOption } from './FeedbackButtons'
import { Reasons } from './Reasons'
import { ScoreBadge } from './ScoreBadge'
import { SkillChips } from './SkillChips'
import { SourceTags } from './SourceTags'
import { SubScoreBars } from './SubScoreBars'

const TALENT_FEEDBACK: readonly FeedbackOption[] = [
  { type: 'applied', label: 'Apply', pressedLabel: 'Applied', tone: 'primary' },
  { type: 'interested', label: 'Interested', pressedLabel: 'Interested', tone: 'neutral' },
  { type: 'dismissed', label: 'Dismiss', pressedLabel: 'Dismissed', tone: 'danger' },
]

interface JobMatchCardProps {
  match: GetTalentMatchesRow
  rank: number
  record: (jobId: string, type: FeedbackType) => Promise<MatchingError | null>
}

/** One job in the talent's ranked list. */
export function JobMatchCard({ match, rank, record }: JobMatchCardProps) {
  const [dismissed, setDismissed] = useState(false)
  const isDismissed = dismissed || (match.feedback ?? []).includes('dismissed')
  const location = joinParts([match.city, match.country_code], ', ')
  const where = joinParts([location, enumLabel(match.remote_policy)])
  const salary = salaryRange(match.salary_min, match.salary_max, match.salary_currency)
  const scored = relativeTime(match.computed_at)

  return (
    <article
      className={`card${isDismissed ? ' card-dismissed' : ''}`}
      data-testid="match-card"
      data-job-id={match.job_id}
    >
      <header className="card-head">
        <div className="card-title-block">
          <span className="rank">#{rank}</span>
          <div>
            <h3 className="card-title">{match.title ?? 'Untitled job'}</h3>
            <p className="card-subtitle">
              {joinParts([
                match.company_name,
                enumLabel(match.company_industry),
                enumLabel(match.company_size),
              ])}
            </p>
          </div>
        </div>
        <ScoreBadge score={match.score} decimals={1} highlyRecommended={match.highly_recommended} />
      </header>

      <div className="facts">
        {where !== '' ? <span className="fact">{where}</span> : null}
        {match.experience_level !== null ? (
          <span className="fact">{enumLabel(match.experience_level)}</span>
        ) : null}
        {salary !== null ? <span className="fact">{salary}</span> : null}
        <SourceTags source={match.source} stale={match.stale} modelVersion={match.model_version} />
      </div>

      <SkillChips skills={match.skills} max={8} />

      <div className="card-body">
        <SubScoreBars subScores={match.sub_scores} />
        <Reasons reasons={match.top_reasons} />
      </div>

      <footer className="card-foot">
        <FeedbackButtons
          options={TALENT_FEEDBACK}
          recorded={match.feedback}
          record={(type) => record(match.job_id, type)}
          onRecorded={(type) => {
            if (type === 'dismissed') setDismissed(true)
          }}
        />
        {scored !== null ? <span className="muted small">Scored {scored}</span> : null}
      </footer>
    </article>
  )
}
