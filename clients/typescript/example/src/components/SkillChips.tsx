interface SkillChipsProps {
  skills: readonly string[] | null | undefined
  max?: number
}

export function SkillChips({ skills, max = 10 }: SkillChipsProps) {
  const list = (skills ?? []).filter((s) => typeof s === 'string' && s !== '')
  if (list.length === 0) return null
  const shown = list.slice(0, max)
  const rest = list.length - shown.length
  return (
    <ul className="chips" aria-label="Skills">
      {shown.map((s) => (
        <li key={s} className="chip">
          {s}
        </li>
      ))}
      {rest > 0 ? <li className="chip chip-more">+{rest} more</li> : null}
    </ul>
  )
}
