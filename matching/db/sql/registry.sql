-- Queries of matching.scoring.registry: model versions in matching.model_versions.

-- name: register_model
-- A new version, stored inactive; activation is a separate, logged step.
insert into matching.model_versions (version, model_text, feature_names, metrics,
    params, metadata, training_samples)
values (%(version)s, %(model_text)s, %(feature_names)s, %(metrics)s,
    %(params)s, %(metadata)s, %(training_samples)s)

-- name: activate_model
-- The SQL function keeps exactly one version active and logs the change.
select matching.activate_model(%(version)s, %(reason)s)

-- name: rollback_model
-- Back to the previously active version (the SQL function logs it).
select matching.rollback_model()

-- name: list_models
-- Every version, newest first, for `matching models list`.
select version, is_active, trained_at, activated_at, training_samples, metrics
from matching.model_versions order by trained_at desc, id desc

-- name: active_model_version
-- One indexed lookup: long-running processes ask it before every use.
select version from matching.model_versions where is_active

-- name: load_model
-- The LightGBM text and metadata of one version.
select model_text, metadata from matching.model_versions where version = %(version)s
