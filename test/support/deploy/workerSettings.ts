// The run settings of a one-worker app, shared by the deploy spec tests.
import type { ContainerSettings } from "../../../components/deploy/containerSpec";

export const WORKER_SETTINGS: ContainerSettings = {
  app: "demo",
  image: "pydeploy/demo:4f1c2b3a9d8e",
  imageIdentity: `sha256:${"4f1c2b3a9d8e".padEnd(64, "0")}`,
  roles: [{ role: "worker", command: ["python", "-m", "demo.worker"], ports: [], gate: { kind: "running" }, mounts: [], upstreams: [] }],
  envFile: ".pydeploy/demo/app.env",
  logMaxSize: "10m",
  logMaxFiles: 3,
  stopGraceSeconds: 30,
};
