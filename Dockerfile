# The in-cluster image (the CronJob in deploy/ runs it): `docker build -t kubectl-imgaccess .`
#
# Stage 1 builds the wheel and the wheels of its dependencies; stage 2 installs them into a slim Python with
# no build tools, runs as a numeric non-root user and writes nothing outside /tmp (bytecode is compiled at
# install time, HOME is /tmp), so the pod can run with readOnlyRootFilesystem and an emptyDir on /tmp.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml setup.cfg README.md LICENSE ./
COPY kubectl_imgaccess ./kubectl_imgaccess
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels /wheels/kubectl_imgaccess-*.whl

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="kubectl-imgaccess" \
      org.opencontainers.image.description="Audit image pull access of WebLogic Kubernetes Operator Domains" \
      org.opencontainers.image.licenses="MIT"
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-cache-dir --no-index --find-links /wheels --compile kubectl-imgaccess \
 && python -m pip uninstall --yes pip
ENV HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /tmp
USER 65532:65532
ENTRYPOINT ["kubectl-imgaccess"]
CMD ["--help"]
