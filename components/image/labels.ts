// Labels the images carry (set in the generated Dockerfiles), and so every container run from
// them: the deployer finds an app's containers, images and volumes, and the proxy's, by these.

/** On the app's images, containers and volumes: the app's name. */
export const LABEL_APP = "pydeploy.app";
/** On the proxy's image, container, network and volume (not pydeploy.app: the release manages containers with that label). */
export const LABEL_PROXY = "pydeploy.proxy";
