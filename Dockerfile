# Reference image: the production server of `make serve` (README "Deploy").
# Build: docker build -t sigma-embed-host .   Run it with compose.yaml, or with
# SECRET_KEY, FIELD_ENCRYPTION_KEY, ALLOWED_HOSTS, DATABASE_URL and CACHE_URL set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOSTSITE_READ_DOTENV=0 \
    HOSTSITE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

# Static files are collected into the image for whitenoise. collectstatic reads no
# secret, but settings refuse to load without keys: give it throw-away ones.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    FIELD_ENCRYPTION_KEY="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --no-create-home app
USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# The same config as `make serve`: it refuses to start on unapplied migrations
# (run `python manage.py migrate` once per release, as compose.yaml's migrate does).
CMD ["gunicorn", "--config", "hostsite/gunicorn.conf.py", "hostsite.wsgi"]
