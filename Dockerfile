# The app in one container: Debian slim + CPython 3.11 + requirements.txt, run by a non-root user,
# with the same `streamlit run app.py` as everywhere else.
#
#   docker build -t eos-explorer .
#   docker run --rm -p 8501:8501 eos-explorer                 # then open http://localhost:8501
#
# Several containers behind one proxy (a class): every replica needs the same cookie secret
# (STREAMLIT_SERVER_COOKIE_SECRET) and the proxy needs sticky sessions; deploy/k8s.yaml does both on
# Kubernetes, deploy/serve.py on one machine without containers (README, "Deploy").
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# numpy, scipy, pyarrow and vl-convert come as manylinux wheels: no compiler in the image.
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app
# Owned by root, read-only for the app user: a compromised session cannot rewrite the code.
# (.dockerignore leaves out tests, benchmarks, the load test, deploy/ and git.)
COPY . .
USER app

EXPOSE 8501
# Streamlit's own health endpoint; Python's urllib because slim images have no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2).read() != b'ok')"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
