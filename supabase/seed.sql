-- A tiny, hand-checked marketplace for `supabase db reset` on a local stack.
-- For realistic volumes use `DATABASE_URL=... matching seed` (COPY-based,
-- deterministic, 1,500 talents / 300 jobs by default).

insert into public.skills (name, category) values
  ('Python', 'software'), ('PostgreSQL', 'software'), ('Django', 'software'),
  ('TypeScript', 'software'), ('React', 'software'), ('Node.js', 'software'),
  ('SQL', 'data'), ('dbt', 'data'), ('Machine Learning', 'data'),
  ('Figma', 'design'), ('User Research', 'design'), ('Kubernetes', 'devops')
on conflict do nothing;

insert into public.companies (id, name, description, industry, size, work_styles, "values", website)
values
  ('00000000-0000-4000-8000-00000000c001', 'Northwind Health', 'Clinical data platform.',
   'healthcare', 'medium', '{async,remote_first}', '{ownership,"patient first"}',
   'https://northwind.example'),
  ('00000000-0000-4000-8000-00000000c002', 'Brightline Studio', 'Product design agency.',
   'media', 'small', '{collaborative,office_centric}', '{craft,curiosity}',
   'https://brightline.example')
on conflict do nothing;

insert into public.jobs (id, company_id, title, description, experience_level, min_years, max_years,
  city, country_code, latitude, longitude, timezone, remote_policy, salary_min, salary_max,
  salary_currency, status)
values
  ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-00000000c001',
   'Senior Backend Engineer', 'Build the APIs behind our clinical data platform with Python and PostgreSQL.',
   'senior', 5, 10, 'Berlin', 'DE', 52.52, 13.405, 'Europe/Berlin', 'remote', 75000, 95000,
   'EUR', 'open'),
  ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-00000000c001',
   'Data Engineer', 'Own our dbt models and the warehouse that clinicians rely on.',
   'mid', 2, 6, 'Amsterdam', 'NL', 52.3676, 4.9041, 'Europe/Amsterdam', 'hybrid', 60000, 75000,
   'EUR', 'open'),
  ('00000000-0000-4000-8000-0000000000a3', '00000000-0000-4000-8000-00000000c002',
   'Product Designer', 'Design and test flows with real users, in Figma, in our London studio.',
   'mid', 2, 5, 'London', 'GB', 51.5074, -0.1278, 'Europe/London', 'onsite', 50000, 65000,
   'GBP', 'open')
on conflict do nothing;

insert into public.talents (id, headline, bio, experience_level, years_experience, city,
  country_code, latitude, longitude, timezone, remote_preference, salary_min, salary_max,
  salary_currency, open_to_work, preferred_industries, preferred_company_sizes, work_styles)
values
  ('00000000-0000-4000-8000-0000000000b1', 'Backend Engineer · Python, PostgreSQL',
   'Seven years building data-heavy web backends.', 'senior', 7, 'Hamburg', 'DE', 53.5511,
   9.9937, 'Europe/Berlin', 'remote', 70000, 90000, 'EUR', true, '{healthcare,software}',
   '{medium}', '{async,remote_first}'),
  ('00000000-0000-4000-8000-0000000000b2', 'Analytics Engineer · SQL, dbt',
   'I turn messy event data into models people trust.', 'mid', 3, 'Rotterdam', 'NL', 51.9244,
   4.4777, 'Europe/Amsterdam', 'hybrid', 55000, 70000, 'EUR', true, '{healthcare}', '{}',
   '{collaborative}'),
  ('00000000-0000-4000-8000-0000000000b3', 'Product Designer · Figma, research',
   'Designer who tests everything with users first.', 'mid', 4, 'London', 'GB', 51.5074,
   -0.1278, 'Europe/London', 'onsite', 48000, 60000, 'GBP', true, '{media}', '{small}',
   '{collaborative,office_centric}')
on conflict do nothing;

insert into public.job_skills (job_id, skill_id, required, min_proficiency)
select j.id::uuid, s.id, r.required, r.min_proficiency
from (values
  ('00000000-0000-4000-8000-0000000000a1', 'Python', true, 4),
  ('00000000-0000-4000-8000-0000000000a1', 'PostgreSQL', true, 3),
  ('00000000-0000-4000-8000-0000000000a1', 'Kubernetes', false, 2),
  ('00000000-0000-4000-8000-0000000000a2', 'SQL', true, 4),
  ('00000000-0000-4000-8000-0000000000a2', 'dbt', true, 3),
  ('00000000-0000-4000-8000-0000000000a2', 'Python', false, 2),
  ('00000000-0000-4000-8000-0000000000a3', 'Figma', true, 4),
  ('00000000-0000-4000-8000-0000000000a3', 'User Research', true, 3)
) as r (job, skill, required, min_proficiency)
join public.jobs j on j.id = r.job::uuid
join public.skills s on s.name = r.skill
on conflict do nothing;

insert into public.talent_skills (talent_id, skill_id, proficiency, years)
select t.id, s.id, r.proficiency, r.years
from (values
  ('00000000-0000-4000-8000-0000000000b1', 'Python', 5, 7),
  ('00000000-0000-4000-8000-0000000000b1', 'PostgreSQL', 4, 6),
  ('00000000-0000-4000-8000-0000000000b1', 'Django', 4, 5),
  ('00000000-0000-4000-8000-0000000000b2', 'SQL', 5, 3),
  ('00000000-0000-4000-8000-0000000000b2', 'dbt', 4, 2),
  ('00000000-0000-4000-8000-0000000000b3', 'Figma', 5, 4),
  ('00000000-0000-4000-8000-0000000000b3', 'User Research', 4, 3)
) as r (talent, skill, proficiency, years)
join public.talents t on t.id = r.talent::uuid
join public.skills s on s.name = r.skill
on conflict do nothing;
