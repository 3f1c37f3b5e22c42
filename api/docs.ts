/** Placeholder replaced below. */
export function docsPage(openapiUrl: string): string {
  return `<!doctype html><title>Toolroom API</title><a href="${openapiUrl}">openapi.json</a>`;
}
