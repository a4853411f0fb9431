import { useCallback } from 'react'
import type { FeedbackType, MatchingClient, MatchingError } from './api'
import { JobMatchCard } from './components/JobMatchCard'
import { StatusLine } from './components/StatusLine'
import { errorText, plural } from './format'
import { useRows } from './useRows'

// get_talent_matches scores every open job by rules when the worker has stored
// none for this profile: no rows means no job is open
const EMPTY_TEXT = 'No job is open right now, so there is nothing to match yet'
const LIMIT = 50

interface TalentViewProps {
  client: MatchingClient
  talentId: string
  headline: string | null
}

/** The talent's ranked jobs (`get_talent_matches`). */
export function TalentView({ client, talentId, headline }: TalentViewProps) {
  const [load, reload] = useRows(talentId, () =>
    client.getTalentMatches({ p_talent_id: talentId, p_limit: LIMIT }),
  )
  const rows = load.error === null ? load.rows : null

  const record = useCallback(
    async (jobId: string, type: FeedbackType): Promise<MatchingError | null> => {
      const res = await client.recordMatchFeedback({ p_talent_id: talentId, p_job_id: jobId, p_feedback_type: type })
      return res.error
    },
    [client, talentId],
  )

  return (
    <section className="view" data-testid="talent-view" data-talent-id={talentId} aria-labelledby="talent-view-title">
      <div className="view-head">
        <div>
          <h2 id="talent-view-title" className="view-title">
            Jobs for you
          </h2>
          {headline !== null && headline !== '' ? <p className="muted">{headline}</p> : null}
        </div>
        <button type="button" className="btn btn-neutral" onClick={reload} disabled={load.loading}>
          Refresh
        </button>
      </div>

      {load.loading ? (
        <StatusLine state="loading" text={rows === null ? 'Loading your matches…' : 'Updating…'} />
      ) : load.error !== null ? (
        <StatusLine state="error" text={errorText(load.error)} onRetry={reload} />
      ) : rows === null || rows.length === 0 ? (
        <StatusLine state="empty" text={EMPTY_TEXT} />
      ) : (
        <StatusLine
          state="ready"
          text={`${plural(rows.length, 'open job')}, best match first${
            rows.some((r) => r.source === 'fallback') ? ' · estimated scores are replaced as the worker gets to them' : ''
          }`}
        />
      )}

      {rows !== null && rows.length > 0 ? (
        <div className={`cards${load.loading ? ' is-loading' : ''}`}>
          {rows.map((m, i) => (
            <JobMatchCard key={m.job_id} match={m} rank={i + 1} record={record} />
          ))}
        </div>
      ) : null}
    </section>
  )
}
