// What an image reference may look like where pydeploy writes one into a command or a Dockerfile:
// the format the stack schema checks (components/config/fields.ts), re-exported for the image modules.
export { IMAGE_REF } from "../config/fields";
