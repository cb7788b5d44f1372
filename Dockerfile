# syntax=docker/dockerfile:1
# fewtag as an HTTP service / GitHub webhook receiver, CPU only.
#
#   docker build -t fewtag .                                   # mount the model at run time
#   docker build -t fewtag --build-arg MODEL_DIR=models/tfidf .  # or bake a model folder in
#   docker run -p 8000:8000 -v "$PWD/models/tfidf:/model:ro" \
#       -e FEWTAG_WEBHOOK_SECRET=... -e FEWTAG_GITHUB_TOKEN=... fewtag
#
# Optional extras (pyproject.toml) go in with EXTRAS; the default is the service's set:
#   docker build -t fewtag-scale --build-arg EXTRAS=encoders,serve,github,onnx,ray,track .
#   docker run --rm --user "$(id -u)" --shm-size=2g --entrypoint fewtag -v "$PWD:/data" fewtag-scale \
#       tag /data/model --store /data/fewtag.db --engine ray     # Ray's object store lives in /dev/shm
# (every machine of a Ray cluster needs the same image: its actors import fewtag and the model's extras)
#
# See docs/serve.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    OMP_NUM_THREADS=2

WORKDIR /app

# torch first: the pinned CPU-only build (no CUDA libraries); the package's
# "torch>=..." range is then satisfied by it instead of pulling a GPU wheel.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# dependencies before the source, so code edits do not reinstall them
# constraints.txt: the tested versions (the same set `make setup` installs)
COPY pyproject.toml constraints.txt README.m[d] ./
COPY src ./src
ARG EXTRAS=encoders,serve,github,onnx
RUN pip install -c constraints.txt ".[${EXTRAS}]"

# a non-root user; the model folder belongs to it read-only
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin fewtag

# MODEL_DIR (a folder in the build context) bakes a model into /model; without it,
# mount one at /model when running the container.
ARG MODEL_DIR=
RUN --mount=type=bind,source=.,target=/ctx \
    if [ -n "$MODEL_DIR" ]; then \
        test -f "/ctx/$MODEL_DIR/fewtag.json" || { echo "MODEL_DIR=$MODEL_DIR is not a fewtag model folder" >&2; exit 1; }; \
        cp -r "/ctx/$MODEL_DIR" /model; \
    else mkdir /model; fi \
    && mkdir -p /data && chown -R fewtag:fewtag /data && chmod -R a+rX /model

USER fewtag
EXPOSE 8000
VOLUME ["/data"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status != 200)"

# a missing or corrupt /model makes `fewtag serve` exit at once with one error line
ENTRYPOINT ["fewtag", "serve", "/model", "--host", "0.0.0.0", "--port", "8000"]
CMD []
