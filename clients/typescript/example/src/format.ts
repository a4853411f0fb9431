import type { MatchingError, ScoreCategory } from './api'
import { SCORE_CATEGORY_VALUES, describeError } from './api'

/** Joins the non-empty parts; never yields "null" or "undefined". */
export function joinParts(parts: ReadonlyArray<string | number | null | undefined>, sep = ' · '): string {
  return parts
    .filter((p): p is string | number => p !== null && p !== undefined && String(p).trim() !== '')
    .map(String)
    .join(sep)
}

const LABELS: Record<string, string> = {
  onsite: 'On-site',
  hybrid: 'Hybrid',
  remote: 'Remote',
  flexible: 'Flexible',
  junior: 'Junior',
  mid: 'Mid-level',
  senior: 'Senior',
  lead: 'Lead',
  principal: 'Principal',
  draft: 'Draft',
  micro: 'Micro company',
  small: 'Small company',
  medium: 'Mid-size company',
  large: 'Large company',
  enterprise: 'Enterprise',
  open: 'Open',
  closed: 'Closed',
}

/** A readable label for an enum value (`onsite` -> `On-site`); null stays null. */
export function enumLabel(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null
  return LABELS[value] ?? value.charAt(0).toUpperCase() + value.slice(1).replace(/_/g, ' ')
}

export const CATEGORY_LABELS: Record<ScoreCategory, string> = {
  skills: 'Skills',
  experience: 'Experience',
  location: 'Location',
  salary: 'Salary',
  culture: 'Culture fit',
  semantic: 'Text fit',
}

export const ALL_CATEGORIES: readonly ScoreCategory[] = SCORE_CATEGORY_VALUES

function money(amount: number, currency: string | null): string {
  if (currency !== null && currency !== '') {
    try {
      return new Intl.NumberFormat('en', {
        style: 'currency',
        currency,
        maximumFractionDigits: 0,
      }).format(amount)
    } catch {
      // an unknown currency code: fall through to a plain number
    }
  }
  const n = new Intl.NumberFormat('en', { maximumFractionDigits: 0 }).format(amount)
  return currency !== null && currency !== '' ? `${n} ${currency}` : n
}

/** "€60,000 – €80,000 / year", "from €60,000 / year", or null when nothing is known. */
export function salaryRange(
  min: number | null | undefined,
  max: number | null | undefined,
  currency: string | null | undefined,
): string | null {
  const cur = currency ?? null
  const hasMin = typeof min === 'number'
  const hasMax = typeof max === 'number'
  if (hasMin && hasMax) {
    return min === max ? `${money(min, cur)} / year` : `${money(min, cur)} – ${money(max, cur)} / year`
  }
  if (hasMin) return `from ${money(min, cur)} / year`
  if (hasMax) return `up to ${money(max, cur)} / year`
  return null
}

/** "5 min ago", "3 h ago", "2 days ago"; null for an unparsable time. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string | null {
  if (iso === null || iso === undefined) return null
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return null
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 48) return `${h} h ago`
  return `${Math.round(h / 24)} days ago`
}

/** describeError, plus the retry delay for a rate-limited request if the sentence lacks it. */
export function errorText(e: MatchingError): string {
  const text = describeError(e)
  if (e.code === 'PT429' && e.retryAfterSeconds !== null && !/retry/i.test(text)) {
    return `${text} (retry in ${e.retryAfterSeconds} seconds)`
  }
  return text
}

export function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
