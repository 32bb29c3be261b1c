FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml constraints.txt ./
COPY coccinelle ./coccinelle
COPY customers ./customers
COPY catalog ./catalog
COPY webhooks ./webhooks
COPY crm_backends ./crm_backends
RUN pip install --no-cache-dir -c constraints.txt .

COPY . .
# Static files are collected at build time; they need no secret, only a throwaway one to import settings.
RUN DEBUG=0 SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

RUN useradd --create-home --uid 1000 coccinelle \
    && mkdir -p /data/media && chown coccinelle /data/media  # a new volume takes this owner
USER coccinelle
EXPOSE 8000
# gthread workers sized for I/O, timeouts, access log: gunicorn.conf.py (WEB_CONCURRENCY, GUNICORN_THREADS).
CMD ["gunicorn", "coccinelle.wsgi:application", "--config", "gunicorn.conf.py"]
