-- Queries of matching.clientgen: the catalog facts the TypeScript client's
-- types are generated from (`matching client generate`).

-- name: clientgen_api_functions
-- Every plain function of `public` an API role may execute, except those an
-- extension owns and those named in %(excluded)s. Arguments in declaration
-- order: name, mode (i in, o out, b inout, v variadic, t table column) and
-- type as `schema.name` (`schema.name[]` for an array of it).
select p.proname as name,
       p.proretset as returns_set,
       p.pronargdefaults as n_defaults,
       case when rt.typcategory = 'A'
            then ren.nspname || '.' || ret.typname || '[]'
            else rn.nspname || '.' || rt.typname end as return_type,
       coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') as comment,
       coalesce((
         select pg_catalog.json_agg(pg_catalog.json_build_object(
                  'name', coalesce(p.proargnames[a.ord], ''),
                  'mode', coalesce(p.proargmodes[a.ord], 'i'),
                  'type', case when t.typcategory = 'A'
                               then en.nspname || '.' || et.typname || '[]'
                               else tn.nspname || '.' || t.typname end)
                order by a.ord)
         from pg_catalog.unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]))
                with ordinality a (typ, ord)
         join pg_catalog.pg_type t on t.oid = a.typ
         join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace
         left join pg_catalog.pg_type et on et.oid = t.typelem and t.typcategory = 'A'
         left join pg_catalog.pg_namespace en on en.oid = et.typnamespace
       ), '[]') as args
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_type rt on rt.oid = p.prorettype
join pg_catalog.pg_namespace rn on rn.oid = rt.typnamespace
left join pg_catalog.pg_type ret on ret.oid = rt.typelem and rt.typcategory = 'A'
left join pg_catalog.pg_namespace ren on ren.oid = ret.typnamespace
where n.nspname = 'public'
  and p.prokind = 'f'
  and (pg_catalog.has_function_privilege('authenticated', p.oid, 'execute')
       or pg_catalog.has_function_privilege('service_role', p.oid, 'execute'))
  and not exists (
    select 1 from pg_catalog.pg_depend d
    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid
      and d.deptype = 'e')
  and p.proname <> all (%(excluded)s::text[])
order by p.proname, p.oid

-- name: clientgen_enums
-- The enum types of `public` with their labels in sort order.
select n.nspname || '.' || t.typname as name,
       pg_catalog.array_agg(e.enumlabel::text order by e.enumsortorder) as labels
from pg_catalog.pg_type t
join pg_catalog.pg_namespace n on n.oid = t.typnamespace
join pg_catalog.pg_enum e on e.enumtypid = t.oid
where n.nspname = 'public'
group by n.nspname, t.typname
order by 1

-- name: clientgen_function_sources
-- The bodies of the functions of `public` and `matching`, to find the error
-- codes they raise and the functions they call.
select n.nspname as schema, p.proname as name, p.prosrc as source
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'matching')
order by n.nspname, p.proname, p.oid

-- name: clientgen_implicit_roots
-- Functions a request runs without naming them: triggers on the tables of
-- `public` and `matching` (table writes through the API, rows the API
-- functions write) and functions that CHECKs, column defaults and RLS
-- policies of `public` tables call.
select n.nspname as schema, p.proname as name
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where p.oid in (
  select t.tgfoid
  from pg_catalog.pg_trigger t
  join pg_catalog.pg_class c on c.oid = t.tgrelid
  join pg_catalog.pg_namespace cn on cn.oid = c.relnamespace
  where not t.tgisinternal and cn.nspname in ('public', 'matching')
  union
  select d.refobjid
  from pg_catalog.pg_depend d
  left join pg_catalog.pg_constraint co
    on d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass and co.oid = d.objid
  left join pg_catalog.pg_attrdef ad
    on d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass and ad.oid = d.objid
  left join pg_catalog.pg_policy po
    on d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass and po.oid = d.objid
  join pg_catalog.pg_class c on c.oid = coalesce(co.conrelid, ad.adrelid, po.polrelid)
  join pg_catalog.pg_namespace cn on cn.oid = c.relnamespace
  where d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass and cn.nspname = 'public'
)
order by 1, 2

-- name: clientgen_company_categories
-- Which score categories a company sees (and may sort and filter
-- get_job_matches by), by the database's own rule, in the given order.
select c.category
from pg_catalog.unnest(%(categories)s::text[]) with ordinality c (category, ord)
where matching.company_sees_sub_score(c.category)
order by c.ord
