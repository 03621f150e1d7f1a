// What an image reference may look like where pydeploy writes one into a command or a Dockerfile.

/** A local image reference: [registry[:port]/]path[:tag][@sha256:digest], no whitespace or shell syntax. */
export const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;
