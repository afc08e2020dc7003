// Node module hooks for custom modules: `import ... from 'tsplay'` resolves to this tsplay, wherever
// the user's module file lives (a playbook's library/ is usually outside any node_modules).
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

let indexUrl = '';

/** Receives the URL of engine/api-bridge.js (the running engine's API) from register(). */
export function initialize(data: { index: string }): void {
  indexUrl = data.index;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'tsplay' && indexUrl) return { url: indexUrl, shortCircuit: true };
  return next(specifier, context);
}
