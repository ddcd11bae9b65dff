# One image for every Saring process; docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --system --uid 1000 saring && mkdir -p /var/lib/saring/private /var/lib/saring/static \
    && chown -R saring /var/lib/saring
USER saring
EXPOSE 8000
# The web process answers GET /healthz (liveness) and /readyz (readiness); docker-compose.yml
# checks the web container with the first. Other commands of this image serve no HTTP.
CMD ["gunicorn", "config.wsgi", "--config", "config/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
