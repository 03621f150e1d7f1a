# The nginx proxy the proxy benchmark measures Caddy against (bench/proxy.ts); never deployed.
# FROM the app's base image, like the product's Caddy image, so both start from the same layers.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
# Debian's default site removed, so only the mounted config serves.
RUN rm -f /etc/nginx/sites-enabled/default
# nginx finishes its requests on SIGQUIT; SIGTERM would cut them.
STOPSIGNAL SIGQUIT
CMD ["nginx", "-c", "/etc/pydeploy-proxy/nginx.conf", "-g", "daemon off;"]
