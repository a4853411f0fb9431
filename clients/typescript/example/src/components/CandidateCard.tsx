import { useState } from 'react'
import type { FeedbackType, GetJobMatchesRow, MatchingError } from '../api'
import { enumLabel, joinParts, plural, relativeTime, salaryRange } from '../format'
import { FeedbackButtons, type FeedbackOption } from './FeedbackButtons'
import { Reasons } from './Reasons'
import { ScoreBadge } from './ScoreBadge'
import { SkillChips } from './SkillChips'
import { SourceTags } from './SourceTags'
import { SubScoreBars } from './SubScoreBars'

const COMPANY_FEEDBACK: readonly FeedbackOption[] = [
  { type: 'contacted', label: 'Contact', pressedLabel: 'Contacted', tone: 'primary' },
  { type: 'shortlisted', label: 'Shortlist', pressedLabel: 'Shortlisted', tone: 'neutral' },
  { type: 'rejected', label: 'Reject', pressedLabel: 'Rejected', tone: 'danger' },
]

interface CandidateCardProps {
  match: GetJobMatchesRow
  rank: number
  record: (talentId: string, type: FeedbackType) => Promise<MatchingError | null>
}

function years(value: number | null): string | null {
  if (value === null || !Number.isFinite(Number(value))) return null
  const n = Math.round(Number(value) * 10) / 10
  return `${plural(n, 'year')} experience`
}

/** One talent in the company's ranked list for a job. */
export function CandidateCard({ match, rank, record }: CandidateCardProps) {
  const [rejected, setRejected] = useState(false)
  const feedback = match.feedback ?? []
  const isRejected = rejected || feedback.includes('rejected')
  const location = joinParts([match.city, match.country_code], ', ')
  const remotePreference = enumLabel(match.remote_preference)
  const remote = remotePreference !== null ? `prefers ${remotePreference.toLowerCase()}` : null
  const salary = salaryRange(match.salary_min, match.salary_max, match.salary_currency)
  const scored = relativeTime(match.computed_at)

  return (
    <article
      className={`card${isRejected ? ' card-dismissed' : ''}`}
      data-testid="match-card"
      data-talent-id={match.talent_id}
    >
      <header className="card-head">
        <div className="card-title-block">
          <span className="rank">#{rank}</span>
          <div>
            <h3 className="card-title">{match.headline ?? 'Candidate'}</h3>
            <p className="card-subtitle">
              {joinParts([enumLabel(match.experience_level), years(match.years_experience)])}
            </p>
          </div>
        </div>
        <ScoreBadge score={match.score} decimals={0} highlyRecommended={match.highly_recommended} />
      </header>

      <div className="facts">
        {location !== '' || remote !== null ? (
          <span className="fact">{joinParts([location, remote])}</span>
        ) : null}
        {salary !== null ? <span className="fact">expects {salary}</span> : null}
        {feedback.includes('applied') ? (
          <span className="tag tag-applied" data-testid="applied">
            applied
          </span>
        ) : null}
        <SourceTags source={match.source} stale={match.stale} modelVersion={match.model_version} />
      </div>

      <SkillChips skills={match.skills} max={10} />

      <div className="card-body">
        <SubScoreBars subScores={match.sub_scores} />
        <Reasons reasons={match.top_reasons} />
      </div>

      <footer className="card-foot">
        <FeedbackButtons
          options={COMPANY_FEEDBACK}
          recorded={feedback}
          record={(type) => record(match.talent_id, type)}
          onRecorded={(type) => {
            if (type === 'rejected') setRejected(true)
          }}
        />
        {scored !== null ? <span className="muted small">Scored {scored}</span> : null}
      </footer>
    </article>
  )
}
