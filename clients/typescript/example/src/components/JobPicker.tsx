import type { JobContextRow } from '../api'
import { enumLabel, joinParts } from '../format'

interface JobPickerProps {
  jobs: readonly JobContextRow[]
  value: string
  onChange: (jobId: string) => void
}

function optionText(job: JobContextRow): string {
  return joinParts([job.label, enumLabel(job.status)], ' — ')
}

/** A select of the caller's companies' jobs (grouped by company when there are several). */
export function JobPicker({ jobs, value, onChange }: JobPickerProps) {
  const companies = new Map<string, { name: string; jobs: JobContextRow[] }>()
  for (const j of jobs) {
    const group = companies.get(j.company_id) ?? { name: j.company_name, jobs: [] }
    group.jobs.push(j)
    companies.set(j.company_id, group)
  }
  const grouped = companies.size > 1
  return (
    <label className="field job-picker">
      <span className="field-label">Job</span>
      <select data-testid="job-picker" value={value} onChange={(e) => onChange(e.target.value)}>
        {grouped
          ? [...companies.entries()].map(([id, g]) => (
              <optgroup key={id} label={g.name}>
                {g.jobs.map((j) => (
                  <option key={j.id} value={j.id}>
                    {optionText(j)}
                  </option>
                ))}
              </optgroup>
            ))
          : jobs.map((j) => (
              <option key={j.id} value={j.id}>
                {optionText(j)}
              </option>
            ))}
      </select>
    </label>
  )
}
