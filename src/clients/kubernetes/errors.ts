/**
 * An error answer of the Kubernetes API server (or no answer), as the Kubernetes clients hand it out: without
 * client-node, so the machinery that calls them can tell a 404 from an outage without loading the library.
 */
export class KubernetesApiError extends Error {
  constructor(
    message: string,
    /** the HTTP status, undefined when the server never answered */
    readonly code: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'KubernetesApiError';
  }
}
