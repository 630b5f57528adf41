# Minimal production image, consistent with `make run`: the same package,
# migrations and daphne entry point. Configure it with the environment
# variables of docs/configuration.md (DATABASE_URL, REDIS_URL, SECRET_KEY, ...).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VERITY_VAR_DIR=/var/lib/verity
WORKDIR /app
# ffmpeg composes call recordings (sessions_app/recording_media.py); the
# DejaVu font is the one it burns the call's clock in with: the Debian
# packages `make media` installs for `make run` and `make test`.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg fonts-dejavu-core iso-codes \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY kyc kyc
COPY sessions_app sessions_app
COPY operators operators
COPY workflows workflows
# The checks extra carries the OCR and face engines with their models, as `make run` installs.
RUN pip install --no-cache-dir ".[checks]"
COPY manage.py ./
COPY templates templates
COPY static static
COPY locale locale
RUN useradd --system --home /var/lib/verity verity && mkdir -p /var/lib/verity && chown verity /var/lib/verity \
    && SECRET_KEY=build-only python manage.py collectstatic --no-input -v0 && chown -R verity /var/lib/verity
USER verity
EXPOSE 8000
# Migrations run from a release step (`python manage.py migrate`), not at every start.
# kyc.serve is daphne with its access log through Verity's logging (UTC, one
# line per record, link tokens redacted); daphne's own prints /v/<token>.
CMD ["python", "-m", "kyc.serve", "-b", "0.0.0.0", "-p", "8000", "kyc.asgi:application"]
