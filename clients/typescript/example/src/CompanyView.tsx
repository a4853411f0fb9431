import { useCallback, useEffect, useMemo, useState } from 'react'
import { COMPANY_SCORE_CATEGORY_VALUES, JOB_SORT_KEY_VALUES } from './api'
import type {
  CompanyScoreCategory,
  FeedbackType,
  GetJobMatchesArgs,
  JobSortKey,
  JobStatus,
  MatchingClient,
  MatchingError,
  SubScoreMinimums,
} from './api'
import { CandidateCard } from './components/CandidateCard'
import { StatusLine } from './components/StatusLine'
import { CATEGORY_LABELS, enumLabel, errorText, joinParts, plural } from './format'
import { useRows } from './useRows'

type SortKey = JobSortKey
type CompanyCategory = CompanyScoreCategory
/** What companies may sort and filter by (`p_sort`, `p_min_sub_scores`): not culture. */
const COMPANY_CATEGORIES: readonly CompanyCategory[] = COMPANY_SCORE_CATEGORY_VALUES
const SORT_KEYS: readonly SortKey[] = JOB_SORT_KEY_VALUES
const LIMIT = 50
const DEBOUNCE_MS = 400

interface CompanyViewProps {
  client: MatchingClient
  jobId: string
  title: string
  companyName: string
  status: JobStatus
}

/**
 * Why get_job_matches answered no rows without filters. Whatever the job's status, a job
 * without stored matches gets rule-based scores for talents open to work (any such talent
 * is a candidate), so an empty list means no talent is open to work. Only open jobs get
 * stored matches from the worker; drafts and closed jobs are scored by the rules.
 */
function emptyText(status: JobStatus): string {
  const none = 'No talent is open to work right now, so there are no candidates'
  switch (status) {
    case 'draft':
      return `${none}. The worker matches open jobs only: until this draft is published, its candidates get rule-based scores.`
    case 'closed':
      return `${none}. The worker matches open jobs only: this closed job's candidates get rule-based scores.`
    case 'open':
      return `${none}.`
  }
}

/** What the ready line says of rule-based (estimated) rows, if any are shown. */
function estimatedNote(status: JobStatus, rows: readonly { source: string }[]): string | null {
  if (!rows.some((r) => r.source === 'fallback')) return null
  return status === 'open'
    ? 'estimated scores are replaced as the worker gets to them'
    : 'estimated scores: the worker matches open jobs only'
}

type SubInputs = Record<CompanyCategory, string>
const NO_SUB_INPUTS: SubInputs = { skills: '', experience: '', location: '', salary: '', semantic: '' }

/** A 0..100 number from an input's text, or null when empty or unparsable. */
function percent(text: string): number | null {
  if (text.trim() === '') return null
  const n = Number(text)
  if (!Number.isFinite(n)) return null
  return Math.min(100, Math.max(0, n))
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), ms)
    return () => window.clearTimeout(t)
  }, [value, ms])
  return settled
}

function sortLabel(key: SortKey): string {
  return key === 'score' ? 'Overall score' : CATEGORY_LABELS[key]
}

/** Ranked talents for one job (`get_job_matches`), with sort and filters. */
export function CompanyView({ client, jobId, title, companyName, status }: CompanyViewProps) {
  const [sort, setSort] = useState<SortKey>('score')
  const [minScoreText, setMinScoreText] = useState('0')
  const [subInputs, setSubInputs] = useState<SubInputs>(NO_SUB_INPUTS)

  // The query the inputs describe; typing is debounced, the sort applies at once.
  const minScore = percent(minScoreText) ?? 0
  const minSub = useMemo(() => {
    const out: SubScoreMinimums = {}
    for (const c of COMPANY_CATEGORIES) {
      const v = percent(subInputs[c])
      if (v !== null) out[c] = v
    }
    return out
  }, [subInputs])
  const typedKey = JSON.stringify({ minScore, minSub })
  const filterKey = useDebounced(typedKey, DEBOUNCE_MS)
  const typing = typedKey !== filterKey

  const [load, reload] = useRows(`${jobId} ${sort} ${filterKey}`, () => {
    const filters = JSON.parse(filterKey) as { minScore: number; minSub: SubScoreMinimums }
    const args: GetJobMatchesArgs = { p_job_id: jobId, p_limit: LIMIT, p_sort: sort, p_min_score: filters.minScore }
    if (Object.keys(filters.minSub).length > 0) args.p_min_sub_scores = filters.minSub
    return client.getJobMatches(args)
  })
  const rows = load.error === null ? load.rows : null
  const busy = load.loading || typing

  const record = useCallback(
    async (talentId: string, type: FeedbackType): Promise<MatchingError | null> => {
      const res = await client.recordMatchFeedback({ p_talent_id: talentId, p_job_id: jobId, p_feedback_type: type })
      return res.error
    },
    [client, jobId],
  )
  const filtered = minScore > 0 || Object.keys(minSub).length > 0
  const reset = () => {
    setMinScoreText('0')
    setSubInputs(NO_SUB_INPUTS)
    setSort('score')
  }

  return (
    <section className="view" data-testid="company-view" data-job-id={jobId} aria-labelledby="company-view-title">
      <div className="view-head">
        <div>
          <h2 id="company-view-title" className="view-title">
            Candidates for {title !== '' ? title : 'this job'}
            <span className={`pill pill-status pill-${status}`}>{enumLabel(status)}</span>
          </h2>
          <p className="muted">{companyName}</p>
        </div>
        <button type="button" className="btn btn-neutral" onClick={reload} disabled={load.loading}>
          Refresh
        </button>
      </div>

      <div className="company-layout">
        <aside className="filters" aria-label="Sort and filter">
          <label className="field">
            <span className="field-label">Sort by</span>
            <select data-testid="sort-select" value={sort} onChange={(e) => setSort(SORT_KEYS.find((k) => k === e.target.value) ?? 'score')}>
              {SORT_KEYS.map((k) => (
                <option key={k} value={k}>
                  {sortLabel(k)}
                </option>
              ))}
            </select>
          </label>

          <div className="field">
            <label className="field-label" htmlFor="min-score">
              Minimum score
            </label>
            <div className="range-row">
              <input
                type="range"
                min={0}
                max={100}
                step={1}
                aria-label="Minimum score slider"
                data-testid="min-score-range"
                value={minScore}
                onChange={(e) => setMinScoreText(e.target.value)}
              />
              <input
                id="min-score"
                type="number"
                min={0}
                max={100}
                step={1}
                inputMode="numeric"
                className="num"
                data-testid="min-score"
                value={minScoreText}
                onChange={(e) => setMinScoreText(e.target.value)}
              />
            </div>
          </div>

          <fieldset className="field subfilters">
            <legend className="field-label">Minimum sub-scores</legend>
            {COMPANY_CATEGORIES.map((c) => (
              <label key={c} className="subfilter">
                <span>{CATEGORY_LABELS[c]}</span>
                <input
                  type="number"
                  min={0}
                  max={100}
                  step={1}
                  placeholder="any"
                  className="num"
                  data-testid={`min-sub-score-${c}`}
                  value={subInputs[c]}
                  onChange={(e) => {
                    const v = e.target.value
                    setSubInputs((prev) => ({ ...prev, [c]: v }))
                  }}
                />
              </label>
            ))}
          </fieldset>
          <p className="muted small">50 is neutral. Location moves in steps of 25 and scores are whole numbers here.</p>
          {filtered || sort !== 'score' ? (
            <button type="button" className="btn btn-link" onClick={reset} data-testid="reset-filters">
              Reset sort and filters
            </button>
          ) : null}
        </aside>

        <div className="results">
          {busy ? (
            <StatusLine state="loading" text={rows === null ? 'Loading candidates…' : 'Updating…'} />
          ) : load.error !== null ? (
            <StatusLine state="error" text={errorText(load.error)} onRetry={reload} />
          ) : rows === null || rows.length === 0 ? (
            <StatusLine
              state="empty"
              text={filtered ? 'No candidates reach these filters — try lowering them' : emptyText(status)}
            />
          ) : (
            <StatusLine
              state="ready"
              text={joinParts([
                plural(rows.length, 'candidate'),
                `sorted by ${sortLabel(sort).toLowerCase()}`,
                filtered ? 'filtered' : null,
                estimatedNote(status, rows),
              ])}
            />
          )}
          {rows !== null && rows.length > 0 ? (
            <div className={`cards${busy ? ' is-loading' : ''}`}>
              {rows.map((m, i) => (
                <CandidateCard key={m.talent_id} match={m} rank={i + 1} record={record} />
              ))}
            </div>
          ) : null}
        </div>
      </div>
    </section>
  )
}
