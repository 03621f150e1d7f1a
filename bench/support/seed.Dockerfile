# The 2020 blog post's template (shared/seeds/000_18397ecdccdc0f77.txt), kept for the
# benchmarks only (bench/image.ts, bench/deploy.ts). Adapted in two places: FROM the local base,
# since no registry is reachable for python:3.6.3; and that base has no pip, so the requirements are
# installed into a venv made with `python3 -m venv` instead of with the image's global pip.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

MAINTAINER mambahj24@gmail.com

ADD . /proj

WORKDIR /proj

ENV APP_NAME demo

EXPOSE 8000

RUN apt-get update && apt-get install vim -y \
    && apt-get install lsof -y && apt-get clean \
    && python3 -m venv /proj/.venv && /proj/.venv/bin/pip install -r requirements.txt -i https://mirrors.aliyun.com/pypi/simple/

CMD ["sh", "start.sh"]
