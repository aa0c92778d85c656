export function operationRoute(_id: string): string | undefined { return undefined; }
